package dingchatapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// joinCodeOf reads the code out of a qrcode/get link.
func joinCodeOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path != "/_dingchat/joingroup" || u.Query().Get("code") == "" {
		t.Fatalf("join link = %q, want /_dingchat/joingroup?code=…", link)
	}
	return u.Query().Get("code")
}

// shareLink asks topapi/chat/qrcode/get for a link shared by sharer and
// returns its path and query, to GET from the test server.
func shareLink(t *testing.T, e *servertest.Env, sharer string) string {
	t.Helper()
	r := e.Post("/topapi/chat/qrcode/get?access_token={{token}}", `{"chatid":"{{chatid}}","userid":"`+sharer+`"}`)
	link, _ := r.JSON(t)["result"].(string)
	if !strings.HasPrefix(link, e.URL+"/") {
		t.Fatalf("qrcode/get = %s, want a link to this server", r.Body)
	}
	joinCodeOf(t, link)
	return strings.TrimPrefix(link, e.URL)
}

// joinPost submits the join form as a browser does: the code, the token
// typed in (may be ""), and the sign-in cookie (may be "").
func joinPost(e *servertest.Env, code, token, cookie string) *servertest.Response {
	e.T.Helper()
	form := url.Values{"code": {code}}
	if token != "" {
		form.Set("token", token)
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if cookie != "" {
		h["Cookie"] = "dingchat_join_session=" + cookie
	}
	return e.Do(servertest.Request{Method: http.MethodPost, Path: "/_dingchat/joingroup", Header: h, Body: form.Encode()})
}

// wantPage fails unless r is an HTML page with status that shows each text.
func wantPage(t *testing.T, r *servertest.Response, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d\n%s", r.Status, status, r.Body)
	}
	if got := r.ContentType(); got != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want an HTML page", got)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", got)
	}
	for _, s := range texts {
		if !bytes.Contains(r.Body, []byte(s)) {
			t.Fatalf("page lacks %q:\n%s", s, r.Body)
		}
	}
}

func TestJoinPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link := shareLink(t, e, "zhangsan")
	code := joinCodeOf(t, e.URL+link)

	// the link as qrcode/get hands it out, extra parameters and all
	page := e.Get(link)
	wantPage(t, page, http.StatusOK, `<h1 id="group-name">项目群</h1>`, `<span id="member-count">3</span>`, "群主 管理员", "张三 分享",
		`<input type="hidden" name="code" value="`+code+`">`, `<input type="password" id="token" name="token"`, `<button type="submit" id="join">加入群聊</button>`)
	if bytes.Contains(page.Body, []byte("needs-approval")) || bytes.Contains(page.Body, []byte(`id="result"`)) {
		t.Fatalf("a plain group's page asks for approval or shows a result:\n%s", page.Body)
	}

	same := frozen(t, e)
	wantPage(t, joinPost(e, code, "mtnosuch", ""), http.StatusUnauthorized, "成员令牌无效。", `name="token"`)
	same("a bad token")
	wantPage(t, joinPost(e, code, "", ""), http.StatusUnauthorized, "请先输入成员令牌登录。", `name="token"`)
	wantPage(t, joinPost(e, code, "", "mtnosuch"), http.StatusUnauthorized, "请先输入成员令牌登录。")
	same("no sign-in")
	wantPage(t, joinPost(e, code, e.Expand("{{token}}"), ""), http.StatusUnauthorized, "成员令牌无效。")
	same("an app token")
	other := memberToken(e, dingtest.OtherCorpID, "zhaoliu")
	wantPage(t, joinPost(e, code, other, ""), http.StatusForbidden, "只有本企业的成员可以加入。")
	same("a member of another corp")

	// wangwu signs in with his token and joins
	tok := memberToken(e, dingtest.CorpID, "wangwu")
	before := len(eventLog(t, e))
	r := joinPost(e, code, tok, "")
	wantPage(t, r, http.StatusOK, `<p class="msg" id="result">已加入群聊。</p>`, `<span id="member-count">4</span>`)
	if bytes.Contains(r.Body, []byte("<form")) {
		t.Fatalf("the page still offers to join after joining:\n%s", r.Body)
	}
	if got := userIDList(servertest.ChatInfo(t, e, e.Vars["chatid"])); got != "manager4220,zhangsan,lisi,wangwu" {
		t.Fatalf("useridlist = %s, want wangwu added", got)
	}
	data := lastEvent(t, e, before, ding.EventChatAddMember, "wangwu")
	if got := jsonText(data["userId"]); got != `["wangwu"]` {
		t.Fatalf("chat_add_member userId = %s", got)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "dingchat_join_session" {
			cookie = c
		}
	}
	if cookie == nil || strings.Contains(cookie.Value, tok) || !cookie.HttpOnly || cookie.Path != "/_dingchat/joingroup" ||
		cookie.SameSite != http.SameSiteLaxMode || cookie.Expires.IsZero() || cookie.Secure {
		t.Fatalf("sign-in cookie = %+v, want a session (not the token), HttpOnly, Path /_dingchat/joingroup, SameSite Lax, expiring, not Secure over plain HTTP", cookie)
	}
	session := cookie.Value

	// signed in by the cookie: no token field, and joining again changes nothing
	same = frozen(t, e)
	page = e.Do(servertest.Request{Method: http.MethodGet, Path: link, Header: map[string]string{"Cookie": "dingchat_join_session=" + session}})
	wantPage(t, page, http.StatusOK, `<span id="member-count">4</span>`, `id="join"`)
	if bytes.Contains(page.Body, []byte(`name="token"`)) {
		t.Fatalf("a signed-in member is asked for a token:\n%s", page.Body)
	}
	wantPage(t, joinPost(e, code, "", session), http.StatusOK, "你已经在群里了。")
	// the raw token is no session
	wantPage(t, joinPost(e, code, "", tok), http.StatusUnauthorized, "请先输入成员令牌登录。")
	same("a member joins again")

	// a member joined through the link is a member everywhere
	wantAnswer(t, withBearer(e, tok, post, "/_dingchat/member/groups/{{chatid}}/messages", `{"msgtype":"text","text":{"content":"大家好"}}`), http.StatusOK, "")
}

func TestJoinPageUnknownCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shareLink(t, e, "zhangsan")
	tok := memberToken(e, dingtest.CorpID, "wangwu")
	same := frozen(t, e)
	for _, path := range []string{"/_dingchat/joingroup?code=v1%2Cnosuch", "/_dingchat/joingroup", "/_dingchat/joingroup?code="} {
		page := e.Get(path)
		wantPage(t, page, http.StatusNotFound, `<p class="msg err" id="result">这个入群链接无效。</p>`)
		if bytes.Contains(page.Body, []byte("<form")) {
			t.Fatalf("%s offers a form:\n%s", path, page.Body)
		}
	}
	wantPage(t, joinPost(e, "v1,nosuch", tok, ""), http.StatusNotFound, "这个入群链接无效。")
	wantPage(t, joinPost(e, "", tok, ""), http.StatusNotFound, "这个入群链接无效。")
	same("unknown codes")
}

// TestJoinPageEscapes: the group's name is shown as text, never as markup.
func TestJoinPageEscapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.Post("/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","name":"<script>x()</script>"}`)
	if !bytes.Contains(r.Body, []byte(`"errcode":0`)) {
		t.Fatalf("rename: %s", r.Body)
	}
	page := e.Get(shareLink(t, e, "zhangsan"))
	wantPage(t, page, http.StatusOK, `&lt;script&gt;x()&lt;/script&gt;`)
	if bytes.Contains(page.Body, []byte("<script>")) {
		t.Fatalf("the name reached the page as markup:\n%s", page.Body)
	}
}

func TestJoinWithApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.Post("/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","validationType":1}`); !bytes.Contains(r.Body, []byte(`"errcode":0`)) {
		t.Fatalf("validationType: %s", r.Body)
	}
	if r := e.Post("/topapi/chat/subadmin/update?access_token={{token}}", `{"chatid":"{{chatid}}","userids":"zhangsan","role":2}`); !bytes.Contains(r.Body, []byte(`"errcode":0`)) {
		t.Fatalf("subadmin: %s", r.Body)
	}
	link := shareLink(t, e, "lisi")
	code := joinCodeOf(t, e.URL+link)
	wantPage(t, e.Get(link), http.StatusOK, `<p class="muted" id="needs-approval">入群需群主或管理员验证</p>`, `<button type="submit" id="join">申请加入</button>`)

	same := frozen(t, e)
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, "wangwu"), ""), http.StatusOK, "已提交入群申请，等待群主或管理员验证。")
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, dingtest.UserID(1)), ""), http.StatusOK, "已提交入群申请")
	same("join requests")

	requests := "/_dingchat/member/groups/{{chatid}}/join-requests"
	for _, who := range []string{"manager4220", "zhangsan"} {
		r := staff(e, who, get, requests, "")
		wantAnswer(t, r, http.StatusOK, "")
		if got, want := string(bytes.TrimSpace(r.Body)), `{"requests":[{"userid":"user0001","createdAt":1767225600000},{"userid":"wangwu","createdAt":1767225600000}]}`; got != want {
			t.Fatalf("%s sees %s, want %s", who, got, want)
		}
	}
	wantAnswer(t, staff(e, "lisi", get, requests, ""), http.StatusForbidden, "not_owner")
	wantAnswer(t, staff(e, "wangwu", get, requests, ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, withBearer(e, "", get, requests, ""), http.StatusUnauthorized, "token_missing")
	wantAnswer(t, staff(e, "lisi", post, requests+"/wangwu/approve", ""), http.StatusForbidden, "not_owner")
	wantAnswer(t, staff(e, "wangwu", post, requests+"/wangwu/approve", ""), http.StatusNotFound, "chat_not_found")
	wantAnswer(t, staff(e, "manager4220", post, requests+"/ghost/approve", ""), http.StatusNotFound, "not_found")
	wantAnswer(t, staff(e, "manager4220", post, requests+"/lisi/reject", ""), http.StatusNotFound, "not_found")
	same("refused decisions")

	// an admin approves wangwu
	before := len(eventLog(t, e))
	wantOKBody(t, staff(e, "zhangsan", post, requests+"/wangwu/approve", ""))
	if got := userIDList(servertest.ChatInfo(t, e, e.Vars["chatid"])); got != "manager4220,zhangsan,lisi,wangwu" {
		t.Fatalf("useridlist = %s, want wangwu added", got)
	}
	data := lastEvent(t, e, before, ding.EventChatAddMember, "zhangsan")
	if got := jsonText(data["userId"]); got != `["wangwu"]` {
		t.Fatalf("chat_add_member userId = %s", got)
	}

	// the owner rejects user0001
	same = frozen(t, e)
	wantOKBody(t, staff(e, "manager4220", post, requests+"/user0001/reject", ""))
	same("a rejection")
	if r := staff(e, "manager4220", get, requests, ""); string(bytes.TrimSpace(r.Body)) != `{"requests":[]}` {
		t.Fatalf("requests left: %s", r.Body)
	}
	wantAnswer(t, staff(e, "manager4220", post, requests+"/user0001/approve", ""), http.StatusNotFound, "not_found")
	wantAnswer(t, staff(e, "manager4220", post, requests+"/wangwu/approve", ""), http.StatusNotFound, "not_found")
	same("decisions on decided requests")

	// asking again is a fresh request
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, dingtest.UserID(1)), ""), http.StatusOK, "已提交入群申请")
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, "wangwu"), ""), http.StatusOK, "你已经在群里了。")
}

// TestJoinMemberCap: a join link cannot push a group past 1000 members,
// directly or through an approval.
func TestJoinMemberCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link := shareLink(t, e, "manager4220")
	code := joinCodeOf(t, e.URL+link)
	e.Fill(e.Vars["chatid"], ding.MaxMembers)
	wantPage(t, e.Get(link), http.StatusOK, `<span id="member-count">1000</span>`)

	same := frozen(t, e)
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, "wangwu"), ""), http.StatusBadRequest, "群人数已满。")
	same("member 1001 joins")

	// with approval: the request is filed, the approval refused and kept
	if err := e.Svc.SetSubAdmins(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret), service.GroupRef{ChatID: e.Vars["chatid"]}, []string{"zhangsan"}, ding.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if r := e.Post("/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","validationType":1}`); !bytes.Contains(r.Body, []byte(`"errcode":0`)) {
		t.Fatalf("validationType: %s", r.Body)
	}
	wantPage(t, joinPost(e, code, memberToken(e, dingtest.CorpID, "wangwu"), ""), http.StatusOK, "已提交入群申请")
	requests := "/_dingchat/member/groups/{{chatid}}/join-requests"
	same = frozen(t, e)
	wantAnswer(t, staff(e, "zhangsan", post, requests+"/wangwu/approve", ""), http.StatusBadRequest, "member_limit")
	same("approving member 1001")
	if r := staff(e, "zhangsan", get, requests, ""); !bytes.Contains(r.Body, []byte(`"userid":"wangwu"`)) {
		t.Fatalf("requests after a refused approval = %s, want wangwu's still pending", r.Body)
	}
	// a place freed is a place to take
	if r := e.Post("/chat/update?access_token={{token}}", `{"chatid":"{{chatid}}","del_useridlist":["user0001"]}`); !bytes.Contains(r.Body, []byte(`"errcode":0`)) {
		t.Fatalf("remove a member: %s", r.Body)
	}
	wantOKBody(t, staff(e, "zhangsan", post, requests+"/wangwu/approve", ""))
	if got := jsonText(len(servertest.ChatInfo(t, e, e.Vars["chatid"])["useridlist"].([]any))); got != "1000" {
		t.Fatalf("%s members, want 1000", got)
	}
}

// The join page is safe in a browser: other sites can neither post the form
// (login CSRF) nor frame the page, and a session ends when its token is
// revoked.
func TestJoinPageBrowserSafety(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link := shareLink(t, e, "zhangsan")
	code := joinCodeOf(t, e.URL+link)

	page := e.Do(servertest.Request{Method: http.MethodGet, Path: link})
	wantPage(t, page, http.StatusOK)
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	} {
		if got := page.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	tok := memberToken(e, dingtest.CorpID, "wangwu")
	form := url.Values{"code": {code}, "token": {tok}}.Encode()
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "null"},
	} {
		same := frozen(t, e)
		h["Content-Type"] = "application/x-www-form-urlencoded"
		r := e.Do(servertest.Request{Method: http.MethodPost, Path: "/_dingchat/joingroup", Header: h, Body: form})
		wantPage(t, r, http.StatusForbidden)
		if len((&http.Response{Header: r.Header}).Cookies()) != 0 {
			t.Errorf("a cross-site post %v set a cookie", h)
		}
		same(fmt.Sprintf("a cross-site post %v", h))
	}
	// the same post from the page itself is accepted
	u, _ := url.Parse(e.URL)
	r := e.Do(servertest.Request{Method: http.MethodPost, Path: "/_dingchat/joingroup", Body: form,
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": e.URL, "Sec-Fetch-Site": "same-origin", "Host": u.Host}})
	wantPage(t, r, http.StatusOK, "已加入群聊。")
	var session string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "dingchat_join_session" {
			session = c.Value
		}
	}
	if session == "" {
		t.Fatalf("no session cookie after signing in")
	}
	wantPage(t, joinPost(e, code, "", session), http.StatusOK, "你已经在群里了。")
	// a forged session is nobody
	wantPage(t, joinPost(e, code, "", session[:len(session)-2]+"xx"), http.StatusUnauthorized)

	// revoking the token ends the session and the token
	rv := withBearer(e, adminToken, http.MethodPost, "/_dingchat/admin/member-tokens/revoke", `{"corpId":"`+dingtest.CorpID+`","userid":"wangwu"}`)
	if rv.Status != http.StatusOK || !bytes.Contains(rv.Body, []byte(`"revoked":1`)) {
		t.Fatalf("revoke = %d %s", rv.Status, rv.Body)
	}
	wantPage(t, joinPost(e, code, "", session), http.StatusUnauthorized)
	wantAnswer(t, withBearer(e, tok, http.MethodGet, "/_dingchat/member/me", ""), http.StatusUnauthorized, "token_invalid")
}
