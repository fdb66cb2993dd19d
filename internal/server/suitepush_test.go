package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// A suite's HTTP push hears the events of the corps that authorised it,
// signed with the SuiteKey, and chat_disband_microapp for its own app.
func TestSuitePush(t *testing.T) {
	e := isvEnv(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	rc := newReceiver(t, "suiteflowkey")
	if _, err := e.Svc.SetSuitePush(t.Context(), "suiteflowkey", service.PushInput{URL: rc.srv.URL, Token: cbToken, AESKey: cbAESKey}, true); err != nil {
		t.Fatal(err)
	}
	rc.waitFor(1) // check_url, signed with the SuiteKey
	r := e.Do(servertest.Request{Method: http.MethodGet, Path: "/_dingchat/admin/suites/suiteflowkey/ticket", Header: isvAdmin})
	var tk struct{ SuiteTicket string }
	json.Unmarshal(r.Body, &tk)
	m := isvOK(t, e.Post("/service/get_suite_token", `{"suite_key":"suiteflowkey","suite_secret":"flow-secret","suite_ticket":"`+tk.SuiteTicket+`"}`))
	m = isvOK(t, e.Post("/service/get_corp_token?suite_access_token="+m["suite_access_token"].(string), `{"auth_corpid":"`+dingtest.CorpID+`","permanent_code":"flow-permanent-code"}`))
	tok := m["access_token"].(string)
	m = isvOK(t, e.Post("/chat/create?access_token="+tok, `{"name":"套件群","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`))
	chatid := m["chatid"].(string)
	isvOK(t, e.Get("/chat/bind?access_token="+tok+"&chatid="+chatid+"&agentid=5001"))
	if d := e.Do(servertest.Request{Method: http.MethodPost, Path: "/_dingchat/admin/corps/" + dingtest.CorpID + "/groups/" + chatid + "/disband", Header: isvAdmin}); d.Status != 200 {
		t.Fatalf("disband: %s", d.Body)
	}
	got := rc.waitFor(4) // check_url, chat_add_member, chat_disband, chat_disband_microapp
	var types []string
	for _, p := range got[1:] {
		types = append(types, p["EventType"].(string))
	}
	if strings.Join(types, " ") != "chat_add_member chat_disband chat_disband_microapp" {
		t.Fatalf("suite got %v", types)
	}
	for _, k := range rc.keys {
		if k != "suiteflowkey" {
			t.Fatalf("a push carried key %q, want the SuiteKey", k)
		}
	}
	if got[3]["agentId"] != "5001" || got[3]["chatId"] != chatid {
		t.Fatalf("chat_disband_microapp = %v", got[3])
	}
}
