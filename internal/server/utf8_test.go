package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// Names and nicknames with bytes that are not UTF-8 are refused with the
// surface's code and change nothing; before, decoding replaced them with
// U+FFFD and stored the result.
func TestInvalidUTF8Refused(t *testing.T) {
	t.Parallel()
	e := servertest.New(t, server.WithAdminToken("admin-secret"))
	e.Group("原来的群")
	bad := "\xff\xfe群"
	cases := []struct {
		name   string
		req    servertest.Request
		status int    // wanted HTTP status
		code   string // wanted errcode or code, "" = any failure
	}{
		{"chat/create JSON name", servertest.Request{Path: "/chat/create?access_token={{token}}",
			Body: `{"name":"` + bad + `","owner":"manager4220","useridlist":["manager4220"]}`}, 200, "43009"},
		{"chat/create form name", servertest.Request{Path: "/chat/create?access_token={{token}}",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body:   "name=%FF%FE&owner=manager4220&useridlist=manager4220"}, 200, "40035"},
		{"chat/update JSON name", servertest.Request{Path: "/chat/update?access_token={{token}}",
			Body: `{"chatid":"{{chatid}}","name":"` + bad + `"}`}, 200, "71010"},
		{"chat/update query name", servertest.Request{Method: http.MethodPost, Path: "/chat/update?access_token={{token}}&chatid={{chatid}}&name=%FF"}, 200, "40035"},
		{"updategroupnick", servertest.Request{Path: "/topapi/chat/updategroupnick?access_token={{token}}",
			Body: `{"chatid":"{{chatid}}","userid":"zhangsan","group_nick":"` + bad + `"}`}, 200, ""},
		{"chat/send text", servertest.Request{Path: "/chat/send?access_token={{token}}",
			Body: `{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"` + bad + `"}}}`}, 200, "34014"},
		{"chat/send form", servertest.Request{Path: "/chat/send?access_token={{token}}",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body:   `chatid={{chatid}}&msg=%7B%22msgtype%22%3A%22text%22%2C%22text%22%3A%7B%22content%22%3A%22%FF%22%7D%7D`}, 200, "34014"},
		{"v1 group update title", servertest.Request{Path: "/v1.0/im/group/update",
			Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"},
			Body:   `{"openConversationId":"{{openid}}","title":"` + bad + `"}`}, 400, ""},
		{"admin robot name", servertest.Request{Path: "/_dingchat/admin/robots",
			Header: map[string]string{"Authorization": "Bearer admin-secret"},
			Body:   `{"corpId":"` + "{{corp}}" + `","robotCode":"utf8robot","name":"` + bad + `"}`}, 400, ""},
	}
	e.Vars["corp"] = dingtest.CorpID
	for _, c := range cases {
		before := e.Events()
		name := e.ChatGet("{{chatid}}").JSON(t)["chat_info"].(map[string]any)["name"]
		r := e.Do(c.req)
		if r.Status != c.status || !r.Failed() {
			t.Errorf("%s: status %d %s, want %d and a refusal", c.name, r.Status, r.Body, c.status)
			continue
		}
		if c.code != "" && !strings.Contains(string(r.Body), `"errcode":`+c.code+`,`) {
			t.Errorf("%s: %s, want errcode %s", c.name, r.Body, c.code)
		}
		if strings.Contains(string(r.Body), "\ufffd") {
			t.Errorf("%s: answer holds U+FFFD: %s", c.name, r.Body)
		}
		if after := e.Events(); after != before {
			t.Errorf("%s: events %d → %d, want no change", c.name, before, after)
		}
		if got := e.ChatGet("{{chatid}}").JSON(t)["chat_info"].(map[string]any)["name"]; got != name {
			t.Errorf("%s: group name %q → %q", c.name, name, got)
		}
	}
	if r := e.Do(servertest.Request{Path: "/_dingchat/admin/robots?corpId={{corp}}", Header: map[string]string{"Authorization": "Bearer admin-secret"}}); strings.Contains(string(r.Body), "utf8robot") {
		t.Errorf("refused robot was stored: %s", r.Body)
	}
}
