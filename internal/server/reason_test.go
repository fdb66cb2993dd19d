package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// TestReasonHeader: real refusals on every surface say, in
// X-DingChat-Reason, which field, rule, limit and value were at fault,
// while the body stays DingTalk's.
func TestReasonHeader(t *testing.T) {
	e := servertest.New(t)
	g := e.Group("理由", "manager4220", "zhangsan")
	e.Vars["chatid"] = g.ChatID
	bearer := map[string]string{"Authorization": "Bearer nope"}
	for _, c := range []struct {
		name string
		req  servertest.Request
		body string // a part of the body, DingTalk's own answer
		want string // the header
	}{
		{"unknown userid", servertest.Request{Method: "POST", Path: "/chat/create?access_token={{token}}",
			Body: `{"name":"n","owner":"manager4220","useridlist":["manager4220","nobody9"]}`},
			`"errcode":40031`, "unknown_user: userid nobody9 is not in the corp"},
		{"name too long", servertest.Request{Method: "POST", Path: "/chat/create?access_token={{token}}",
			Body: `{"name":"` + servertest.CJK(21) + `","owner":"manager4220","useridlist":["manager4220"]}`},
			`"errcode":49015`, "name_length: name has 21 characters, at most 20"},
		{"owner left out, v1.0", servertest.Request{Method: "POST", Path: "/v1.0/im/group/create",
			Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"},
			Body:   `{"name":"n","owner":"manager4220","useridlist":["zhangsan"]}`},
			`"code":"parameter.invalid"`, "owner_not_member: owner manager4220 must be a member"},
		{"conversationTag, v1.0", servertest.Request{Method: "POST", Path: "/v1.0/im/group/create",
			Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"},
			Body:   `{"name":"n","owner":"manager4220","useridlist":["manager4220"],"conversationTag":5}`},
			`"code":"parameter.invalid"`, "conversation_tag: conversationTag must be 0 (ordinary) or 2 (internal), got 5"},
		{"add and del overlap", servertest.Request{Method: "POST", Path: "/chat/update?access_token={{token}}",
			Body: `{"chatid":"{{chatid}}","add_useridlist":["lisi"],"del_useridlist":["lisi"]}`},
			`"errcode":49004`, "add_del_overlap: add_useridlist and del_useridlist both name lisi"},
		{"JSON labelled a form, broken", servertest.Request{Method: "POST", Path: "/chat/create?access_token={{token}}",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: `{"name":"n",}`},
			`"errcode":43009`, "malformed_body: body is not a JSON object: invalid character '}' looking for beginning of object key string at byte 13"},
		{"missing token", servertest.Request{Method: "GET", Path: "/chat/get?chatid={{chatid}}"},
			`"errcode":41001`, "token_missing"},
		{"unknown path", servertest.Request{Method: "GET", Path: "/v1.0/nothing/here"},
			`"code":"InvalidAction.NotFound"`, "unknown_path: no v1.0 route for GET /v1.0/nothing/here"},
		{"member token", servertest.Request{Method: "GET", Path: "/_dingchat/member/me", Header: bearer},
			`"code":"token_invalid"`, "token_invalid: invalid member token"},
		{"DingChat path", servertest.Request{Method: "GET", Path: "/_dingchat/nothing"},
			`"code":"not_found"`, "not_found: no such DingChat path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.Do(c.req)
			if !strings.Contains(string(resp.Body), c.body) {
				t.Errorf("body %s, want it to hold %s", resp.Body, c.body)
			}
			if got := resp.Header.Get(httpx.ReasonHeader); !strings.HasPrefix(got, c.want) {
				t.Errorf("%s = %q, want %q", httpx.ReasonHeader, got, c.want)
			}
		})
	}
	// an answer that is no refusal carries no reason
	if resp := e.Do(servertest.Request{Method: http.MethodGet, Path: "/chat/get?access_token={{token}}&chatid={{chatid}}"}); resp.Header.Get(httpx.ReasonHeader) != "" || resp.Failed() {
		t.Errorf("chat/get: %s with reason %q", resp.Body, resp.Header.Get(httpx.ReasonHeader))
	}
}
