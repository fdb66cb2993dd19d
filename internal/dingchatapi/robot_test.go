package dingchatapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// call sends a JSON request as the admin (or with bearer tok when given)
// to the Env's admin-enabled server and checks the status.
func call(e *servertest.Env, method, path, body string, status int, tok ...string) map[string]any {
	e.T.Helper()
	h := adminBearer
	if len(tok) > 0 {
		h = map[string]string{"Authorization": "Bearer " + tok[0]}
	}
	r := e.Do(servertest.Request{Method: method, Path: path, Body: body, Header: h})
	if r.Status != status {
		e.T.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	return r.JSON(e.T)
}

func TestAdminRobots(t *testing.T) {
	e := servertest.New(t)
	withAdmin(e)
	e.Group("机器人群")
	call(e, "POST", "/_dingchat/admin/robots", `{"corpId":"`+dingtest.CorpID+`","robotCode":"dingrobot01","name":"通知"}`, 401, "wrong")
	r := call(e, "POST", "/_dingchat/admin/robots", `{"corpId":"`+dingtest.CorpID+`","robotCode":"dingrobot01","name":"通知"}`, 200)
	if r["robotCode"] != "dingrobot01" || r["name"] != "通知" || r["corpId"] != dingtest.CorpID {
		t.Fatalf("saved robot = %v", r)
	}
	call(e, "POST", "/_dingchat/admin/robots", `{"corpId":"`+dingtest.OtherCorpID+`","robotCode":"dingrobot01"}`, 409)
	call(e, "POST", "/_dingchat/admin/robots", `{"corpId":"`+dingtest.CorpID+`"}`, 400)
	list := call(e, "GET", "/_dingchat/admin/robots?corpId="+dingtest.CorpID, "", 200)
	if rs, _ := list["robots"].([]any); len(rs) != 1 {
		t.Fatalf("robots = %v", list)
	}

	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/robots", `{"robotCode":"dingnosuch"}`, 404)
	call(e, "POST", "/_dingchat/admin/groups/chatnosuch/robots", `{"robotCode":"dingrobot01"}`, 404)
	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/robots", `{"robotCode":"dingrobot01"}`, 200)
	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/robots", `{"robotCode":"dingrobot01"}`, 409)
	in := call(e, "GET", "/_dingchat/admin/groups/{{chatid}}/robots", "", 200)
	if rs, _ := in["robots"].([]any); len(rs) != 1 {
		t.Fatalf("group robots = %v", in)
	}

	// the robot now sends through v1.0, and a member sees it, then sees it recalled
	send := e.PostV1("/v1.0/robot/groupMessages/send", "{{token}}",
		`{"msgKey":"sampleText","msgParam":"{\"content\":\"开饭了\"}","openConversationId":"{{openid}}","robotCode":"dingrobot01"}`)
	if send.Status != 200 {
		t.Fatalf("send = %d %s", send.Status, send.Body)
	}
	key, _ := send.JSON(t)["processQueryKey"].(string)
	mt := call(e, "POST", "/_dingchat/admin/member-tokens", `{"corpId":"`+dingtest.CorpID+`","userid":"zhangsan"}`, 200)["token"].(string)
	msgs := call(e, "GET", "/_dingchat/member/groups/{{chatid}}/messages", "", 200, mt)["messages"].([]any)
	m := msgs[0].(map[string]any)
	if m["messageId"] != key || m["senderType"] != "robot" || m["sender"] != "dingrobot01" || m["msgtype"] != "sampleText" {
		t.Fatalf("member sees %v", m)
	}
	if got, want := jsonText(m["msg"]), `{"msgKey":"sampleText","msgParam":{"content":"开饭了"}}`; got != want {
		t.Fatalf("member sees msg %s, want %s", got, want)
	}
	recall := e.PostV1("/v1.0/robot/groupMessages/recall", "{{token}}",
		`{"openConversationId":"{{openid}}","robotCode":"dingrobot01","processQueryKeys":["`+key+`"]}`)
	if recall.Status != 200 {
		t.Fatalf("recall = %d %s", recall.Status, recall.Body)
	}
	m = call(e, "GET", "/_dingchat/member/groups/{{chatid}}/messages", "", 200, mt)["messages"].([]any)[0].(map[string]any)
	if m["recalled"] != true || m["msg"] != nil {
		t.Fatalf("member sees the recalled message as %v", m)
	}

	call(e, "DELETE", "/_dingchat/admin/groups/{{chatid}}/robots/dingrobot01", "", 200)
	call(e, "DELETE", "/_dingchat/admin/groups/{{chatid}}/robots/dingrobot01", "", 404)
}

func TestAdminWebhooks(t *testing.T) {
	e := servertest.New(t)
	withAdmin(e)
	e.Group("告警群")
	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/webhooks", `{"name":"x"}`, 401, "")
	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/webhooks", `{}`, 400)
	call(e, "POST", "/_dingchat/admin/groups/chatnosuch/webhooks", `{"name":"x"}`, 404)
	signed := call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/webhooks", `{"name":"加签","sign":true,"keywords":["告警"]}`, 200)
	tok, _ := signed["access_token"].(string)
	secret, _ := signed["secret"].(string)
	if len(tok) != 64 || !strings.HasPrefix(secret, "SEC") || signed["path"] != "/robot/send?access_token="+tok || signed["chatid"] != e.Vars["chatid"] {
		t.Fatalf("created %v", signed)
	}
	plain := call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/webhooks", `{"name":"普通","access_token":"kept-token"}`, 200)
	if plain["access_token"] != "kept-token" || plain["secret"] != "" {
		t.Fatalf("created %v", plain)
	}
	call(e, "POST", "/_dingchat/admin/groups/{{chatid}}/webhooks", `{"name":"重复","access_token":"kept-token"}`, 409)
	ws := call(e, "GET", "/_dingchat/admin/groups/{{chatid}}/webhooks", "", 200)["webhooks"].([]any)
	if len(ws) != 2 || ws[0].(map[string]any)["secret"] != secret {
		t.Fatalf("webhooks = %v", ws)
	}
	// the returned path works as it is
	r := e.Post(plain["path"].(string), `{"msgtype":"text","text":{"content":"上线了"}}`)
	if got, want := string(r.Body), `{"errcode":0,"errmsg":"ok"}`; got != want {
		t.Fatalf("webhook send = %s, want %s", got, want)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
