package oapi_test

import (
	"encoding/json"
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

// canonical re-encodes JSON text with sorted keys, as jsonText does for maps.
func canonical(t testing.TB, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return jsonText(v)
}

// errcode reads a legacy response's errcode.
func errcode(t testing.TB, r *servertest.Response) string {
	t.Helper()
	v, ok := r.JSON(t)["errcode"].(json.Number)
	if !ok {
		t.Fatalf("no numeric errcode in %s", r.Body)
	}
	return v.String()
}

// wantErrcode fails unless r carries errcode want.
func wantErrcode(t testing.TB, r *servertest.Response, want string) {
	t.Helper()
	if got := errcode(t, r); got != want {
		t.Fatalf("errcode = %s, want %s; body %s", got, want, r.Body)
	}
}

// chatInfo is chat/get's chat_info for chatid, asserting success.

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// createdChat reads the chatid of a successful chat/create answer.
func createdChat(t testing.TB, r *servertest.Response) string {
	t.Helper()
	wantErrcode(t, r, "0")
	id, _ := r.JSON(t)["chatid"].(string)
	if id == "" {
		t.Fatalf("no chatid in %s", r.Body)
	}
	return id
}

// group makes the fixture group (manager4220 owner, zhangsan, lisi).
func group(e *servertest.Env) { e.Group("项目群") }

// ordinaryGroup makes a conversationTag 0 group with externals ext001..ext003,
// through the allow-listed app.
func ordinaryGroup(e *servertest.Env) {
	r := e.Post("/chat/create?access_token={{ordinary_token}}",
		`{"name":"客户群","owner":"manager4220","useridlist":["manager4220","zhangsan"],"extidlist":["ext001","ext002","ext003"],"conversationTag":0}`)
	e.Vars["chatid"] = createdChat(e.T, r)
}

// fill grows the fixture group to n members with HTTP updates of 40.
func fill(e *servertest.Env, n int) {
	e.T.Helper()
	have := 3
	for from := 1; have < n; {
		k := min(40, n-have)
		r := e.Post("/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","add_useridlist":`+users(from, k)+`}`)
		wantErrcode(e.T, r, "0")
		from += k
		have += k
	}
}
