package v1api_test

import (
	"flag"
	"testing"

	"github.com/dingchat/dingchat/internal/server/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// shared with the other surface's tests
var (
	users    = servertest.Users
	exts     = servertest.Exts
	jsonText = servertest.JSONText
	cjk      = servertest.CJK
	emoji    = servertest.Emoji
)

// hdr carries the token variable tok in the v1.0 header.
func hdr(tok string) map[string]string {
	return map[string]string{"x-acs-dingtalk-access-token": "{{" + tok + "}}"}
}

// wantOK fails unless r is HTTP 200.
func wantOK(t testing.TB, r *servertest.Response) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status = %d, want 200; body %s", r.Status, r.Body)
	}
}

// chatInfo is chat/get's chat_info for chatid through the legacy surface.

func field(t testing.TB, r *servertest.Response, key string) string {
	t.Helper()
	s, _ := r.JSON(t)[key].(string)
	if s == "" {
		t.Fatalf("no %s in %s", key, r.Body)
	}
	return s
}

// group makes the fixture group (manager4220 owner, zhangsan, lisi).
func group(e *servertest.Env) { e.Group("项目群") }

// ordinaryGroup makes a conversationTag 0 group with externals ext001..ext003
// through the allow-listed app.
func ordinaryGroup(e *servertest.Env) {
	r := e.PostV1("/v1.0/im/group/create", "{{ordinary_token}}",
		`{"name":"客户群","owner":"manager4220","useridlist":["manager4220","zhangsan"],"extidlist":["ext001","ext002","ext003"],"conversationTag":0}`)
	wantOK(e.T, r)
	e.Vars["chatid"], e.Vars["openid"] = field(e.T, r, "chatid"), field(e.T, r, "openConversationId")
}

// fill grows the fixture group to n members with v1.0 updates of 40.
func fill(e *servertest.Env, n int) {
	e.T.Helper()
	have := 3
	for from := 1; have < n; {
		k := min(40, n-have)
		wantOK(e.T, e.PostV1("/v1.0/im/group/update", "{{token}}", `{"chatid":"{{chatid}}","add_useridlist":`+users(from, k)+`}`))
		from += k
		have += k
	}
}

// admins makes zhangsan an admin of the fixture group.
func admins(e *servertest.Env) {
	group(e)
	wantOK(e.T, e.PostV1("/v1.0/im/subAdministrators", "{{token}}", `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`))
}
