package dingchatapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

const adminToken = "adm-lifecycle-test"

// newEnv is the whole server with the admin API on, and the fixture group
// (manager4220 owner, zhangsan, lisi) as {{chatid}}.
func newEnv(t *testing.T) *servertest.Env {
	t.Helper()
	e := servertest.New(t, server.WithAdminToken(adminToken))
	e.Group("项目群")
	return e
}

// memberToken issues a member-API token for a user of corp.
func memberToken(e *servertest.Env, corpID, userID string) string {
	e.T.Helper()
	tok, err := e.Svc.IssueMemberToken(context.Background(), corpID, userID, 0)
	if err != nil {
		e.T.Fatalf("IssueMemberToken(%s, %s): %v", corpID, userID, err)
	}
	return tok.Value
}

// withBearer calls DingChat's own API with bearer ("" sends none).
func withBearer(e *servertest.Env, bearer, method, path, body string) *servertest.Response {
	e.T.Helper()
	h := map[string]string{}
	if bearer != "" {
		h["Authorization"] = "Bearer " + bearer
	}
	return e.Do(servertest.Request{Method: method, Path: path, Header: h, Body: body})
}

// staff calls the member API as a user of the fixture corp.
func staff(e *servertest.Env, userID, method, path, body string) *servertest.Response {
	e.T.Helper()
	return withBearer(e, memberToken(e, dingtest.CorpID, userID), method, path, body)
}

// wantAnswer fails unless r has status and, for an error, the code.
func wantAnswer(t *testing.T, r *servertest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	if code == "" {
		return
	}
	var body struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestid"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Code != code || body.Message == "" || body.RequestID == "" {
		t.Fatalf("body = %s, want code %q with a message and a requestid", r.Body, code)
	}
}

func wantOKBody(t *testing.T, r *servertest.Response) {
	t.Helper()
	wantAnswer(t, r, http.StatusOK, "")
	if got := strings.TrimSpace(string(r.Body)); got != `{"ok":true}` {
		t.Fatalf("body = %s, want {\"ok\":true}", got)
	}
}

// chatInfo is chat/get's chat_info through the legacy surface.

func userIDList(info map[string]any) string {
	var ids []string
	for _, v := range info["useridlist"].([]any) {
		ids = append(ids, v.(string))
	}
	return strings.Join(ids, ",")
}

func eventLog(t *testing.T, e *servertest.Env) []ding.Event {
	t.Helper()
	evs, err := e.Store.Events(context.Background(), dingtest.CorpID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// lastEvent requires the log to have grown by exactly one event since
// before and returns it.
func lastEvent(t *testing.T, e *servertest.Env, before int, typ, operator string) map[string]any {
	t.Helper()
	evs := eventLog(t, e)
	if got := len(evs) - before; got != 1 {
		t.Fatalf("%d new events, want 1", got)
	}
	ev := evs[len(evs)-1]
	if ev.Type != typ || ev.Operator != operator || ev.ChatID != e.Vars["chatid"] || ev.OpenConversationID != e.Vars["openid"] {
		t.Fatalf("event = {%s op=%s chat=%s}, want {%s op=%s chat=%s}", ev.Type, ev.Operator, ev.ChatID, typ, operator, e.Vars["chatid"])
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// frozen records the group as chat/get shows it and the event count, and
// returns a check that nothing changed.
func frozen(t *testing.T, e *servertest.Env) func(what string) {
	before, n := e.ChatGet(e.Vars["chatid"]).Body, len(eventLog(t, e))
	return func(what string) {
		t.Helper()
		if after := e.ChatGet(e.Vars["chatid"]).Body; !bytes.Equal(before, after) {
			t.Fatalf("%s changed the group:\nbefore %s\nafter  %s", what, before, after)
		}
		if got := len(eventLog(t, e)); got != n {
			t.Fatalf("%s wrote %d events", what, got-n)
		}
	}
}

func TestMemberDisband(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/_dingchat/member/groups/{{chatid}}/disband"
	same := frozen(t, e)
	wantAnswer(t, staff(e, "zhangsan", post, path, ""), http.StatusForbidden, "not_owner")
	same("a member who is not the owner")
	wantAnswer(t, staff(e, "wangwu", post, path, ""), http.StatusNotFound, "chat_not_found")
	same("a staff member outside the group")
	wantAnswer(t, withBearer(e, memberToken(e, dingtest.OtherCorpID, "manager4220"), post, path, ""), http.StatusNotFound, "chat_not_found")
	same("the owner's userid in another corp")
	wantAnswer(t, staff(e, "manager4220", post, "/_dingchat/member/groups/chat0123456789abcdef0123456789abcdef/disband", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, "", post, path, ""), http.StatusUnauthorized, "token_missing")
	wantAnswer(t, withBearer(e, "mtnosuch", post, path, ""), http.StatusUnauthorized, "token_invalid")
	wantAnswer(t, withBearer(e, "{{token}}", post, path, ""), http.StatusUnauthorized, "token_invalid") // an app token is no member token
	same("refused disbands")

	before := len(eventLog(t, e))
	wantOKBody(t, staff(e, "manager4220", post, path, ""))
	info := servertest.ChatInfo(t, e, e.Vars["chatid"])
	if got := jsonText(info["status"]); got != "2" {
		t.Fatalf("chat/get status = %s, want 2", got)
	}
	if got := userIDList(info); got != "manager4220,zhangsan,lisi" {
		t.Fatalf("useridlist = %s, want the members kept", got)
	}
	data := lastEvent(t, e, before, ding.EventChatDisband, "manager4220")
	if data["chatId"] != e.Vars["chatid"] || data["operator"] != "manager4220" {
		t.Fatalf("chat_disband data = %v", data)
	}
	// members still see the group, disbanded
	r := staff(e, "zhangsan", get, "/_dingchat/member/groups", "")
	if !bytes.Contains(r.Body, []byte(`"status":2`)) {
		t.Fatalf("member groups = %s, want the group with status 2", r.Body)
	}
	same = frozen(t, e)
	wantAnswer(t, staff(e, "manager4220", post, path, ""), http.StatusConflict, "chat_disbanded")
	same("a second disband")
}

func TestAdminDisband(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/_dingchat/admin/corps/" + dingtest.CorpID + "/groups/{{chatid}}/disband"
	same := frozen(t, e)
	wantAnswer(t, withBearer(e, "", post, path, ""), http.StatusUnauthorized, "token_missing")
	wantAnswer(t, withBearer(e, "wrong", post, path, ""), http.StatusUnauthorized, "token_invalid")
	wantAnswer(t, withBearer(e, memberToken(e, dingtest.CorpID, "manager4220"), post, path, ""), http.StatusUnauthorized, "token_invalid")
	wantAnswer(t, withBearer(e, adminToken, post, "/_dingchat/admin/corps/"+dingtest.OtherCorpID+"/groups/{{chatid}}/disband", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, adminToken, post, "/_dingchat/admin/corps/dingnosuchcorp/groups/{{chatid}}/disband", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, adminToken, post, "/_dingchat/admin/corps/"+dingtest.CorpID+"/groups/chat0123456789abcdef0123456789abcdef/disband", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, adminToken, get, path, ""), http.StatusNotFound, "not_found")
	same("refused disbands")

	before := len(eventLog(t, e))
	wantOKBody(t, withBearer(e, adminToken, post, path, ""))
	if got := jsonText(servertest.ChatInfo(t, e, e.Vars["chatid"])["status"]); got != "2" {
		t.Fatalf("chat/get status = %s, want 2", got)
	}
	lastEvent(t, e, before, ding.EventChatDisband, "manager4220") // the owner, as for changes through the app APIs
	same = frozen(t, e)
	wantAnswer(t, withBearer(e, adminToken, post, path, ""), http.StatusConflict, "chat_disbanded")
	same("a second disband")
}

// TestDisbandedGroupRefusesEveryCall: after a disband every surface refuses
// every change with its own code, and changes nothing.
func TestDisbandedGroupRefusesEveryCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.Post("/topapi/chat/qrcode/get?access_token={{token}}", `{"chatid":"{{chatid}}","userid":"zhangsan"}`)
	link, _ := r.JSON(t)["result"].(string)
	code := joinCodeOf(t, link)
	wantOKBody(t, withBearer(e, adminToken, post, "/_dingchat/admin/corps/"+dingtest.CorpID+"/groups/{{chatid}}/disband", ""))
	same := frozen(t, e)

	legacy := func(name, path, body, wantBody string) {
		t.Helper()
		r := e.Post(path, body)
		if got := strings.TrimSpace(string(r.Body)); r.Status != http.StatusOK || !strings.HasPrefix(got, wantBody) {
			t.Fatalf("%s = %d %s, want 200 %s…", name, r.Status, got, wantBody)
		}
		same(name)
	}
	legacy("chat/update", "/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","name":"复活"}`, `{"errcode":40016,"errmsg":"群会话已解散"}`)
	legacy("chat/update adding a member", "/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","add_useridlist":["wangwu"]}`, `{"errcode":40016,"errmsg":"群会话已解散"}`)
	legacy("chat/send", "/chat/send?access_token={{token}}", `{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"还在吗"}}}`, `{"errcode":34013,"errmsg":"找不到群会话对象"}`)
	legacy("subadmin", "/topapi/chat/subadmin/update?access_token={{token}}", `{"chatid":"{{chatid}}","userids":"zhangsan","role":2}`, `{"errcode":40016,"errmsg":"群会话已解散","request_id":`)
	legacy("friendswitch", "/topapi/chat/member/friendswitch/update?access_token={{token}}", `{"chatid":"{{chatid}}","is_prohibit":true}`, `{"errcode":40016,"errmsg":"群会话已解散","request_id":`)
	legacy("updategroupnick", "/topapi/chat/updategroupnick?access_token={{token}}", `{"chatid":"{{chatid}}","userid":"zhangsan","group_nick":"小张"}`, `{"errcode":40016,"errmsg":"群会话已解散","request_id":`)
	legacy("qrcode", "/topapi/chat/qrcode/get?access_token={{token}}", `{"chatid":"{{chatid}}","userid":"zhangsan"}`, `{"errcode":40016,"errmsg":"群会话已解散","request_id":`)

	v1 := func(name, path, body string) {
		t.Helper()
		r := e.PostV1(path, "{{token}}", body)
		if m := r.JSON(t); r.Status != http.StatusBadRequest || m["code"] != "group.diaband" || m["message"] != "群已经解散" {
			t.Fatalf("%s = %d %s, want 400 group.diaband", name, r.Status, r.Body)
		}
		same(name)
	}
	v1("v1.0 group/update", "/v1.0/im/group/update", `{"chatid":"{{chatid}}","name":"复活"}`)
	v1("v1.0 subAdministrators", "/v1.0/im/subAdministrators", `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`)

	wantAnswer(t, staff(e, "lisi", post, "/_dingchat/member/groups/{{chatid}}/messages", `{"msgtype":"text","text":{"content":"还在吗"}}`), http.StatusConflict, "chat_disbanded")
	same("member send")
	wantAnswer(t, staff(e, "lisi", post, "/_dingchat/member/groups/{{chatid}}/quit", ""), http.StatusConflict, "chat_disbanded")
	same("member quit")
	wantAnswer(t, staff(e, "manager4220", post, "/_dingchat/member/groups/{{chatid}}/disband", ""), http.StatusConflict, "chat_disbanded")
	same("member disband")

	page := joinPost(e, code, memberToken(e, dingtest.CorpID, "wangwu"), "")
	wantPage(t, page, http.StatusConflict, "该群已解散。")
	same("join through a link shared before the disband")
	page = e.Get("/_dingchat/joingroup?code=" + code)
	wantPage(t, page, http.StatusOK, "该群已解散。")
	if bytes.Contains(page.Body, []byte("<form")) {
		t.Fatalf("the page of a disbanded group offers to join:\n%s", page.Body)
	}

	// reading still works
	if got := jsonText(servertest.ChatInfo(t, e, e.Vars["chatid"])["status"]); got != "2" {
		t.Fatalf("chat/get status = %s, want 2", got)
	}
	wantAnswer(t, staff(e, "lisi", get, "/_dingchat/member/groups/{{chatid}}/messages", ""), http.StatusOK, "")
}

func TestMemberQuit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/_dingchat/member/groups/{{chatid}}/quit"
	same := frozen(t, e)
	wantAnswer(t, staff(e, "manager4220", post, path, ""), http.StatusConflict, "owner_must_transfer")
	same("the owner quits")
	wantAnswer(t, staff(e, "wangwu", post, path, ""), http.StatusNotFound, "chat_not_found")
	same("a stranger quits")
	wantAnswer(t, withBearer(e, memberToken(e, dingtest.OtherCorpID, "zhaoliu"), post, path, ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, "", post, path, ""), http.StatusUnauthorized, "token_missing")
	wantAnswer(t, staff(e, "zhangsan", get, path, ""), http.StatusNotFound, "not_found")
	same("refused quits")

	before := len(eventLog(t, e))
	wantOKBody(t, staff(e, "zhangsan", post, path, ""))
	if got := userIDList(servertest.ChatInfo(t, e, e.Vars["chatid"])); got != "manager4220,lisi" {
		t.Fatalf("useridlist = %s, want zhangsan gone", got)
	}
	data := lastEvent(t, e, before, ding.EventChatQuit, "zhangsan")
	if got := jsonText(data["userId"]); got != `["zhangsan"]` {
		t.Fatalf("chat_quit userId = %s", got)
	}

	same = frozen(t, e)
	wantAnswer(t, staff(e, "zhangsan", post, path, ""), http.StatusNotFound, "chat_not_found")
	same("quit twice")
	wantAnswer(t, staff(e, "zhangsan", get, "/_dingchat/member/groups/{{chatid}}/messages", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, staff(e, "zhangsan", post, "/_dingchat/member/groups/{{chatid}}/messages", `{"msgtype":"text","text":{"content":"我回来了"}}`), http.StatusNotFound, "chat_not_found")
	same("calls after quitting")
	if r := staff(e, "zhangsan", get, "/_dingchat/member/groups", ""); strings.TrimSpace(string(r.Body)) != `{"groups":[]}` {
		t.Fatalf("groups after quitting = %s", r.Body)
	}
}
