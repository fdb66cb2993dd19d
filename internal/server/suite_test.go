package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const isvAdminToken = "adm-isv-test-secret"

// isvEnv is a server over the fixture and the ISV fixture, answering the
// admin API for isvAdminToken, with a suite declared without a ticket and
// authorised by the fixture corp as agent 5001.
func isvEnv(t *testing.T) *servertest.Env {
	t.Helper()
	e := servertest.New(t)
	dingtest.SeedSuites(t, e.Store)
	err := e.Store.ApplyOrg(context.Background(), &ding.Org{Corp: dingtest.Org().Corp,
		Suites:     []ding.Suite{{Key: "suiteflowkey", Secret: "flow-secret", Name: "流程应用"}},
		SuiteAuths: []ding.SuiteAuth{{SuiteKey: "suiteflowkey", CorpID: dingtest.CorpID, PermanentCode: "flow-permanent-code", AgentID: 5001}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.Handler(e.Svc, slog.New(slog.DiscardHandler), server.WithAdminToken(isvAdminToken)))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

var isvAdmin = map[string]string{"Authorization": "Bearer " + isvAdminToken}

// isvOK fails unless r is a legacy success, and returns its body.
func isvOK(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	m := r.JSON(t)
	if n, _ := m["errcode"].(json.Number); r.Status != http.StatusOK || n.String() != "0" {
		t.Fatalf("legacy call failed: %d %s", r.Status, r.Body)
	}
	return m
}

func agentIDList(t *testing.T, e *servertest.Env, tok, chatid string) string {
	t.Helper()
	info := isvOK(t, e.Get("/chat/get?access_token="+tok+"&chatid="+chatid))["chat_info"].(map[string]any)
	b, _ := json.Marshal(info["agentidlist"])
	return string(b)
}

// TestISVFlow walks the whole ISV path over HTTP: the suite ticket from the
// admin API, a suite token, corp tokens in each form, then chat/bind,
// chat/get, chat/unbind, and a disband that reports the bound app.
func TestISVFlow(t *testing.T) {
	e := isvEnv(t)

	// 1. the suite ticket: minted on first read, the same after
	r := e.Do(servertest.Request{Method: http.MethodGet, Path: "/_dingchat/admin/suites/suiteflowkey/ticket", Header: isvAdmin})
	if r.Status != http.StatusOK {
		t.Fatalf("suite ticket: %d %s", r.Status, r.Body)
	}
	var tk struct{ SuiteKey, SuiteTicket string }
	if err := json.Unmarshal(r.Body, &tk); err != nil || tk.SuiteKey != "suiteflowkey" || tk.SuiteTicket == "" {
		t.Fatalf("suite ticket answer %s", r.Body)
	}
	if again := e.Do(servertest.Request{Method: http.MethodGet, Path: "/_dingchat/admin/suites/suiteflowkey/ticket", Header: isvAdmin}); string(again.Body) != string(r.Body) {
		t.Fatalf("second read %s, want %s", again.Body, r.Body)
	}

	// 2. the suite token
	m := isvOK(t, e.Post("/service/get_suite_token", `{"suite_key":"suiteflowkey","suite_secret":"flow-secret","suite_ticket":"`+tk.SuiteTicket+`"}`))
	suiteTok, _ := m["suite_access_token"].(string)

	// 3. corp tokens: the 2016 form, the signed form, v1.0
	m = isvOK(t, e.Post("/service/get_corp_token?suite_access_token="+suiteTok, `{"auth_corpid":"`+dingtest.CorpID+`","permanent_code":"flow-permanent-code"}`))
	tok2016, _ := m["access_token"].(string)
	ts := strconv.FormatInt(e.Clock.Now().UnixMilli(), 10)
	sig := service.SuiteSignature("flow-secret", ts, tk.SuiteTicket)
	m = isvOK(t, e.Post("/service/get_corp_token?accessKey=suiteflowkey&timestamp="+ts+"&suiteTicket="+url.QueryEscape(tk.SuiteTicket)+"&signature="+url.QueryEscape(sig),
		`{"auth_corpid":"`+dingtest.CorpID+`"}`))
	tokSigned, _ := m["access_token"].(string)
	v1 := e.PostV1("/v1.0/oauth2/corpAccessToken", "", `{"suiteKey":"suiteflowkey","suiteSecret":"flow-secret","authCorpId":"`+dingtest.CorpID+`","suiteTicket":"`+tk.SuiteTicket+`"}`)
	var v1Tok struct{ AccessToken string }
	if v1.Status != http.StatusOK || json.Unmarshal(v1.Body, &v1Tok) != nil || v1Tok.AccessToken == "" {
		t.Fatalf("corpAccessToken: %d %s", v1.Status, v1.Body)
	}
	if tok2016 == "" || tok2016 == tokSigned || tokSigned == v1Tok.AccessToken {
		t.Fatalf("corp tokens %q %q %q: want three distinct", tok2016, tokSigned, v1Tok.AccessToken)
	}

	// 4. a group created with the ISV token, bound with another of its tokens
	m = isvOK(t, e.Post("/chat/create?access_token="+tok2016, `{"name":"ISV群","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`))
	chatid, _ := m["chatid"].(string)
	isvOK(t, e.Get("/chat/bind?access_token="+tokSigned+"&chatid="+chatid+"&agentid=5001"))

	// 5. chat/get lists it, on any token of the corp
	for _, tok := range []string{v1Tok.AccessToken, e.Expand("{{token}}")} {
		if got := agentIDList(t, e, tok, chatid); got != `["5001"]` {
			t.Fatalf("agentidlist = %s, want [\"5001\"]", got)
		}
	}

	// 6. unbind, then bind again and disband: the bound app hears of it
	isvOK(t, e.Get("/chat/unbind?access_token="+v1Tok.AccessToken+"&chatid="+chatid+"&agentid=5001"))
	if got := agentIDList(t, e, tok2016, chatid); got != `[]` {
		t.Fatalf("agentidlist after unbind = %s", got)
	}
	isvOK(t, e.Get("/chat/bind?access_token="+tok2016+"&chatid="+chatid+"&agentid=5001"))
	d := e.Do(servertest.Request{Method: http.MethodPost, Path: "/_dingchat/admin/corps/" + dingtest.CorpID + "/groups/" + chatid + "/disband", Header: isvAdmin})
	if d.Status != http.StatusOK {
		t.Fatalf("disband: %d %s", d.Status, d.Body)
	}
	evs, err := e.Store.Events(context.Background(), dingtest.CorpID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		if ev.ChatID == chatid {
			types = append(types, ev.Type)
		}
	}
	want := []string{ding.EventChatCreate, ding.EventChatAddMember, ding.EventChatBindMicroapp, ding.EventChatUnbindMicroapp,
		ding.EventChatBindMicroapp, ding.EventChatDisband, ding.EventChatDisbandMicroapp}
	if b, w := jsonOf(types), jsonOf(want); b != w {
		t.Fatalf("events = %s, want %s", b, w)
	}
	var data map[string]any
	json.Unmarshal(evs[len(evs)-1].Data, &data)
	if data["agentId"] != "5001" || data["chatId"] != chatid {
		t.Fatalf("chat_disband_microapp data = %s", evs[len(evs)-1].Data)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAdminSuiteTicket(t *testing.T) {
	e := isvEnv(t)
	get := func(path string, header map[string]string) *servertest.Response {
		return e.Do(servertest.Request{Method: http.MethodGet, Path: path, Header: header})
	}
	for _, tc := range []struct {
		name, path string
		header     map[string]string
		status     int
		body       string
	}{
		{"declared ticket", "/_dingchat/admin/suites/" + dingtest.SuiteKey + "/ticket", isvAdmin, http.StatusOK,
			`{"suiteKey":"` + dingtest.SuiteKey + `","suiteTicket":"` + dingtest.SuiteTicket + `"}`},
		{"unknown suite", "/_dingchat/admin/suites/suitenosuch/ticket", isvAdmin, http.StatusNotFound, ""},
		{"no admin token", "/_dingchat/admin/suites/" + dingtest.SuiteKey + "/ticket", nil, http.StatusUnauthorized, ""},
		{"a corp token", "/_dingchat/admin/suites/" + dingtest.SuiteKey + "/ticket", map[string]string{"Authorization": "Bearer {{token}}"}, http.StatusUnauthorized, ""},
	} {
		r := get(tc.path, tc.header)
		if r.Status != tc.status {
			t.Fatalf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
		}
		if tc.body != "" && string(r.Body) != tc.body+"\n" && string(r.Body) != tc.body {
			t.Fatalf("%s: body %s, want %s", tc.name, r.Body, tc.body)
		}
		if tc.status == http.StatusNotFound {
			var m map[string]any
			if json.Unmarshal(r.Body, &m) != nil || m["code"] != string(ding.ReasonSuiteKeyUnknown) {
				t.Fatalf("%s: body %s", tc.name, r.Body)
			}
		}
	}
	// a custom app has no ticket until one is minted; minting keeps it
	first := get("/_dingchat/admin/suites/"+dingtest.CustomSuiteKey+"/ticket", isvAdmin)
	second := get("/_dingchat/admin/suites/"+dingtest.CustomSuiteKey+"/ticket", isvAdmin)
	if first.Status != http.StatusOK || string(first.Body) != string(second.Body) {
		t.Fatalf("minted ticket: %s then %s", first.Body, second.Body)
	}
}
