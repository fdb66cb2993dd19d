package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// legacyOK fails unless r is a legacy success.
func legacyOK(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	m := r.JSON(t)
	if r.Status != http.StatusOK || jsonNumber(m["errcode"]) != "0" {
		t.Fatalf("legacy call failed: %d %s", r.Status, r.Body)
	}
	return m
}

// v1OK fails unless r is a v1.0 success.
func v1OK(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("v1.0 call failed: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func chatGet(t *testing.T, e *servertest.Env, chatid string) map[string]any {
	t.Helper()
	return legacyOK(t, e.ChatGet(chatid))["chat_info"].(map[string]any)
}

func TestV1GroupThroughLegacy(t *testing.T) {
	e := servertest.New(t)
	tok := e.Expand("{{token}}")
	created := v1OK(t, e.PostV1("/v1.0/im/group/create", tok,
		`{"name":"新版群","owner":"manager4220","useridlist":["manager4220","zhangsan"],"managementOptions":{"searchable":1}}`))
	chatid, openid := created["chatid"].(string), created["openConversationId"].(string)

	info := chatGet(t, e, chatid)
	if info["name"] != "新版群" || jsonText(info["useridlist"]) != `["manager4220","zhangsan"]` || jsonNumber(info["searchable"]) != "1" || jsonNumber(info["conversationTag"]) != "2" {
		t.Fatalf("chat/get of a v1.0 group: %v", info)
	}
	legacyOK(t, e.Post("/chat/update?access_token="+tok, `{"chatid":"`+chatid+`","name":"旧接口改名","add_useridlist":["lisi"],"owner":"lisi","isBan":"true"}`))
	info = chatGet(t, e, chatid)
	if info["name"] != "旧接口改名" || info["owner"] != "lisi" || jsonText(info["useridlist"]) != `["manager4220","zhangsan","lisi"]` || jsonNumber(info["chatBannedType"]) != "1" {
		t.Fatalf("after chat/update: %v", info)
	}
	// the v1.0 names still reach it
	conv := v1OK(t, e.PostV1("/v1.0/im/chat/"+chatid+"/convertToOpenConversationId", tok, ""))
	if conv["openConversationId"] != openid {
		t.Fatalf("convert = %v, want %s", conv["openConversationId"], openid)
	}
	v1OK(t, e.PostV1("/v1.0/im/group/update", tok, `{"chatid":"`+chatid+`","del_useridlist":["zhangsan"]}`))
	if got := jsonText(chatGet(t, e, chatid)["useridlist"]); got != `["manager4220","lisi"]` {
		t.Fatalf("after v1.0 update: useridlist %s", got)
	}
}

func TestLegacyGroupThroughV1(t *testing.T) {
	e := servertest.New(t)
	tok := e.Expand("{{token}}")
	created := legacyOK(t, e.Post("/chat/create?access_token="+tok,
		`{"name":"旧版群","owner":"manager4220","useridlist":["manager4220","zhangsan","lisi"],"showHistoryType":"1"}`))
	chatid, openid := created["chatid"].(string), created["openConversationId"].(string)

	conv := v1OK(t, e.PostV1("/v1.0/im/chat/"+chatid+"/convertToOpenConversationId", tok, ""))
	if conv["openConversationId"] != openid {
		t.Fatalf("convert = %v, want %s", conv["openConversationId"], openid)
	}
	up := v1OK(t, e.PostV1("/v1.0/im/group/update", tok,
		`{"chatid":"`+chatid+`","name":"新接口改名","add_useridlist":["wangwu"],"managementOptions":{"managementType":1}}`))
	if up["success"] != true {
		t.Fatalf("group/update success = %#v, want the boolean true", up["success"])
	}
	sub := v1OK(t, e.PostV1("/v1.0/im/subAdministrators", tok, `{"openConversationId":"`+openid+`","userIds":["zhangsan"],"role":2}`))
	if sub["success"] != "true" {
		t.Fatalf("subAdministrators success = %#v, want the string \"true\"", sub["success"])
	}
	info := chatGet(t, e, chatid)
	if info["name"] != "新接口改名" || jsonText(info["useridlist"]) != `["manager4220","zhangsan","lisi","wangwu"]` ||
		jsonNumber(info["managementType"]) != "1" || jsonNumber(info["showHistoryType"]) != "1" {
		t.Fatalf("chat/get after v1.0 changes: %v", info)
	}
	v, err := e.Svc.GetGroup(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret), service.GroupRef{OpenID: openid})
	if err != nil || !slices.Equal(v.Admins, []string{"zhangsan"}) {
		t.Fatalf("admins = %v (%v), want [zhangsan]", v, err)
	}
	// and back through the legacy surface
	legacyOK(t, e.Post("/chat/update?access_token="+tok, `{"chatid":"`+chatid+`","del_useridlist":["wangwu"]}`))
	if got := jsonText(chatGet(t, e, chatid)["useridlist"]); got != `["manager4220","zhangsan","lisi"]` {
		t.Fatalf("after chat/update: useridlist %s", got)
	}
}
