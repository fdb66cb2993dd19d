package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/server/servertest"
)

// family is the answer convention of a path.
type family int

const (
	legacy family = iota
	topapi
	v1
)

var contentTypes = map[family]string{
	legacy: "application/json",
	topapi: "application/json;charset=UTF-8",
	v1:     "application/json;charset=utf-8",
}

// garbageRoutes are the paths under test with the family answering each.
var garbageRoutes = []struct {
	path string
	fam  family
}{
	{"/gettoken", legacy},
	{"/chat/create?access_token={{token}}", legacy},
	{"/chat/update?access_token={{token}}", legacy},
	{"/chat/get?access_token={{token}}", legacy},
	{"/user/get?access_token={{token}}", legacy},
	{"/nosuch?access_token={{token}}", legacy},
	{"/topapi/v2/user/get?access_token={{token}}", topapi},
	{"/topapi/v2/user/getbymobile?access_token={{token}}", topapi},
	{"/topapi/user/getbyunionid?access_token={{token}}", topapi},
	{"/topapi/v2/user/get", topapi},
	{"/topapi/nosuch/api", topapi},
	{"/v1.0/oauth2/accessToken", v1},
	{"/v1.0/im/group/create", v1},
	{"/v1.0/im/group/update", v1},
	{"/v1.0/im/subAdministrators", v1},
	{"/v1.0/im/chat/{{chatid}}/convertToOpenConversationId", v1},
	{"/v1.0/im/nosuch", v1},
	{"/v2.0/nosuch", v1},
}

// garbageBodies are things clients (or anything else) may send.
var garbageBodies = []struct {
	name, contentType, body string
}{
	{"empty JSON", "application/json", ""},
	{"null", "application/json", "null"},
	{"array", "application/json", "[]"},
	{"string", "application/json", `"chatid"`},
	{"number", "application/json", "123"},
	{"open brace", "application/json", "{"},
	{"close brace", "application/json", "}"},
	{"two objects", "application/json", `{"a":1}{"b":2}`},
	{"trailing garbage", "application/json", `{}garbage`},
	{"deep nesting", "application/json", `{"name":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`},
	{"huge number", "application/json", `{"name":1e999,"showHistoryType":1e999,"role":1e999,"conversationTag":-1e999}`},
	{"big integers", "application/json", `{"showHistoryType":9223372036854775808,"role":"99999999999","searchable":-2147483649}`},
	{"every field the wrong type", "application/json", `{"name":["a"],"owner":{},"ownerType":7,"useridlist":[null,true,{}],"extidlist":{"x":1},"chatid":[1],"add_useridlist":{"x":1},` +
		`"del_useridlist":[[]],"managementOptions":"nope","role":[2],"userIds":[{"id":1}],"isBan":2,"conversationTag":"x","openConversationId":{},"appKey":[],"appSecret":{},"userid":{},"mobile":[],"unionid":true,"icon":[]}`},
	{"nulls everywhere", "application/json", `{"name":null,"owner":null,"useridlist":null,"chatid":null,"managementOptions":null,"role":null,"userIds":null,"access_token":null}`},
	{"empty strings", "application/json", `{"name":"","owner":"","useridlist":"","chatid":"","managementOptions":"","role":"","userIds":"","isBan":"","showHistoryType":""}`},
	{"invalid UTF-8", "application/json", "{\"name\":\"\xff\xfe\",\"owner\":\"\xc3\",\"useridlist\":[\"\xed\xa0\x80\"]}"},
	{"NUL bytes", "application/json", "{\"name\":\"a\x00b\",\"owner\":\"manager4220\x00\",\"useridlist\":[\"\x00\"]}"},
	{"over 1 MiB", "application/json", `{"name":"` + strings.Repeat("群", 1<<19) + `"}`},
	{"lists as broken JSON text", "application/json", `{"useridlist":"[\"a\",","add_useridlist":"[1,2","managementOptions":"{\"a\":"}`},
	{"form with bad escapes", "application/x-www-form-urlencoded", "name=%zz&owner=%&useridlist=%E4"},
	{"form with broken lists", "application/x-www-form-urlencoded", "useridlist=[1,&add_useridlist=[&managementOptions={&isBan=maybe"},
	{"multipart without boundary", "multipart/form-data", "xxx"},
	{"multipart cut short", "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx"},
	{"unknown charset", "application/json; charset=gbk", `{"name":"x"}`},
	{"HTML", "text/html", "<html><body>hi</body></html>"},
	{"XML", "application/xml", "<chat><name>x</name></chat>"},
	{"bad content type", "a/b/c;;;=", `{}`},
}

// checkAnswer holds any answer to the conventions of its family: never a
// 5xx, the family's exact Content-Type, a JSON object body, legacy errors
// on HTTP 200 with a numeric errcode, v1.0 errors as {code,message,requestid}.
func checkAnswer(t *testing.T, fam family, method string, r *servertest.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("HTTP %d: %s", r.Status, r.Body)
	}
	if got, want := r.ContentType(), contentTypes[fam]; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if method == http.MethodHead {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil || m == nil {
		t.Errorf("body is not a JSON object: %q", r.Body)
		return
	}
	switch fam {
	case legacy, topapi:
		if r.Status != http.StatusOK {
			t.Errorf("legacy status %d, want 200: %s", r.Status, r.Body)
		}
		if code, ok := m["errcode"].(float64); !ok {
			t.Errorf("no numeric errcode: %s", r.Body)
		} else if code == -1 {
			t.Errorf("errcode -1 (clients retry it) for a client's request: %s", r.Body)
		}
	case v1:
		if r.Status != http.StatusOK {
			for _, k := range []string{"code", "message", "requestid"} {
				if s, _ := m[k].(string); s == "" {
					t.Errorf("v1.0 error without %s: %d %s", k, r.Status, r.Body)
				}
			}
		}
	}
}

func TestGarbageNeverAServerError(t *testing.T) {
	e := servertest.New(t)
	e.Group("垃圾输入群")
	for _, rt := range garbageRoutes {
		hdr := map[string]string{}
		if rt.fam == v1 {
			hdr["x-acs-dingtalk-access-token"] = "{{token}}"
		}
		for _, b := range garbageBodies {
			for _, chunked := range []bool{false, true} {
				if chunked && (len(b.body) > 1000 || b.body == "") {
					continue
				}
				h := map[string]string{"Content-Type": b.contentType}
				for k, v := range hdr {
					h[k] = v
				}
				r := e.Do(servertest.Request{Method: http.MethodPost, Path: rt.path, Header: h, Body: b.body, Chunked: chunked})
				t.Run(rt.path+"/"+b.name, func(t *testing.T) { checkAnswer(t, rt.fam, http.MethodPost, r) })
			}
		}
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			r := e.Do(servertest.Request{Method: m, Path: rt.path, Header: hdr})
			t.Run(rt.path+"/"+m, func(t *testing.T) { checkAnswer(t, rt.fam, m, r) })
		}
	}
	// garbage in the query string and the token header
	for _, c := range []struct {
		path string
		hdr  map[string]string
		fam  family
	}{
		{"/chat/get?access_token=%zz&chatid=%", nil, legacy},
		{"/chat/get?access_token={{token}}&chatid=" + strings.Repeat("x", 8000), nil, legacy},
		{"/chat/get?access_token={{token}}&access_token=other&chatid=a&chatid=b", nil, legacy},
		{"/gettoken?appkey=%E4&appsecret=%ff", nil, legacy},
		{"/topapi/v2/user/get?access_token=" + strings.Repeat("t", 5000), nil, topapi},
		{"/v1.0/im/group/create", map[string]string{"x-acs-dingtalk-access-token": strings.Repeat("t", 5000)}, v1},
		{"/v1.0/im/group/create", map[string]string{"x-acs-dingtalk-access-token": "a\tb"}, v1},
		{"/v1.0/im/chat/%E4%B8%ff/convertToOpenConversationId", map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}, v1},
		{"/v1.0/im/chat/" + strings.Repeat("c", 5000) + "/convertToOpenConversationId", map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}, v1},
	} {
		r := e.Do(servertest.Request{Method: http.MethodPost, Path: c.path, Header: c.hdr, Body: `{}`})
		t.Run(c.path[:min(len(c.path), 60)], func(t *testing.T) { checkAnswer(t, c.fam, http.MethodPost, r) })
	}
}

// TestContentTypes pins each family's Content-Type on success and on error.
func TestContentTypes(t *testing.T) {
	e := servertest.New(t)
	e.Group("类型群")
	for _, c := range []struct {
		name   string
		req    servertest.Request
		fam    family
		status int
	}{
		{"gettoken ok", servertest.Request{Path: "/gettoken?appkey=dingtestappkey000001&appsecret=test-secret-000001"}, legacy, 200},
		{"gettoken error", servertest.Request{Path: "/gettoken"}, legacy, 200},
		{"chat/get ok", servertest.Request{Path: "/chat/get?access_token={{token}}&chatid={{chatid}}"}, legacy, 200},
		{"chat/get error", servertest.Request{Path: "/chat/get?access_token=bad"}, legacy, 200},
		{"unknown path", servertest.Request{Path: "/nosuch"}, legacy, 200},
		{"topapi ok", servertest.Request{Method: http.MethodPost, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"zhangsan"}`}, topapi, 200},
		{"topapi business error", servertest.Request{Method: http.MethodPost, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"nobody"}`}, topapi, 200},
		{"topapi auth error", servertest.Request{Method: http.MethodPost, Path: "/topapi/v2/user/get", Body: `{"userid":"zhangsan"}`}, topapi, 200},
		{"topapi unknown name", servertest.Request{Method: http.MethodPost, Path: "/topapi/no/such"}, topapi, 200},
		{"v1.0 ok", servertest.Request{Method: http.MethodPost, Path: "/v1.0/im/chat/{{chatid}}/convertToOpenConversationId", Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}}, v1, 200},
		{"v1.0 error", servertest.Request{Method: http.MethodPost, Path: "/v1.0/im/group/create", Body: `{}`}, v1, 400},
		{"v1.0 unknown", servertest.Request{Method: http.MethodPost, Path: "/v1.0/no/such"}, v1, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(c.req)
			if r.Status != c.status {
				t.Errorf("status = %d, want %d", r.Status, c.status)
			}
			checkAnswer(t, c.fam, c.req.Method, r)
		})
	}
}
