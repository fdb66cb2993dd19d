package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// gettoken fetches a legacy token for the app and fails on any error.
func gettoken(t *testing.T, e *servertest.Env, key, secret string) string {
	t.Helper()
	r := e.Get("/gettoken?appkey=" + key + "&appsecret=" + secret)
	var body struct {
		Errcode     *int   `json:"errcode"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Errcode == nil || *body.Errcode != 0 || body.AccessToken == "" {
		t.Fatalf("gettoken: %s", r.Body)
	}
	if body.ExpiresIn != ding.TokenTTL || body.ExpiresIn >= 1<<15 {
		t.Fatalf("expires_in = %d, want %d (below 32768)", body.ExpiresIn, ding.TokenTTL)
	}
	return body.AccessToken
}

// v1token fetches a v1.0 token for the app and fails on any error.
func v1token(t *testing.T, e *servertest.Env, key, secret string) string {
	t.Helper()
	r := e.Post("/v1.0/oauth2/accessToken", `{"appKey":"`+key+`","appSecret":"`+secret+`"}`)
	var body struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    *int   `json:"expireIn"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != http.StatusOK || body.AccessToken == "" || body.ExpireIn == nil || *body.ExpireIn != ding.TokenTTL {
		t.Fatalf("accessToken: %d %s", r.Status, r.Body)
	}
	return body.AccessToken
}

// legacyCode is the errcode of a legacy call with tok.
func legacyCode(t *testing.T, e *servertest.Env, tok string) int {
	t.Helper()
	r := e.Get("/user/get?access_token=" + tok + "&userid=zhangsan")
	var body struct {
		Errcode *int `json:"errcode"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Errcode == nil {
		t.Fatalf("user/get: %s", r.Body)
	}
	return *body.Errcode
}

// v1Status is the HTTP status of a v1.0 call carrying tok in the header.
func v1Status(t *testing.T, e *servertest.Env, tok string) int {
	t.Helper()
	return e.PostV1("/v1.0/im/chat/nosuchchat/convertToOpenConversationId", tok, "").Status
}

func TestTokenRenewedWithinValidity(t *testing.T) {
	e := servertest.New(t)
	first := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret)
	if again := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret); again != first {
		t.Fatalf("second gettoken = %s, want the live token %s", again, first)
	}
	// 7000 s later the same token comes back, its lifetime renewed
	e.Clock.Advance(7000 * time.Second)
	if again := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret); again != first {
		t.Fatalf("gettoken within validity = %s, want %s", again, first)
	}
	// 14000 s after it was minted and 7000 s after the renewal it still works
	e.Clock.Advance(7000 * time.Second)
	if code := legacyCode(t, e, first); code != 0 {
		t.Fatalf("renewed token: errcode %d", code)
	}
	if st := v1Status(t, e, first); st != http.StatusBadRequest {
		t.Fatalf("renewed token on v1.0: status %d, want the 400 of an unknown chat", st)
	}
	// 7200 s after the renewal without another one, it has expired
	e.Clock.Advance(200 * time.Second)
	if code := legacyCode(t, e, first); code != 40014 {
		t.Fatalf("expired token: errcode %d, want 40014", code)
	}
	r := e.PostV1("/v1.0/im/group/create", first, `{}`)
	if r.Status != http.StatusBadRequest || r.JSON(t)["code"] != "InvalidAuthentication" {
		t.Fatalf("expired token on v1.0: %d %s", r.Status, r.Body)
	}
	// and a new token is minted
	fresh := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret)
	if fresh == first {
		t.Fatalf("gettoken after expiry returned the expired token")
	}
	if code := legacyCode(t, e, fresh); code != 0 {
		t.Fatalf("fresh token: errcode %d", code)
	}
}

func TestTokenExpiresAfter7200Seconds(t *testing.T) {
	e := servertest.New(t)
	tok := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret)
	e.Clock.Advance(ding.TokenTTL*time.Second - time.Millisecond)
	if code := legacyCode(t, e, tok); code != 0 {
		t.Fatalf("1 ms before expiry: errcode %d", code)
	}
	e.Clock.Advance(time.Millisecond)
	if code := legacyCode(t, e, tok); code != 40014 {
		t.Fatalf("at 7200 s: errcode %d, want 40014", code)
	}
	if st := v1Status(t, e, tok); st != http.StatusBadRequest {
		t.Fatalf("at 7200 s on v1.0: status %d", st)
	}
	r := e.Post("/topapi/v2/user/get?access_token="+tok, `{"userid":"zhangsan"}`)
	if m := r.JSON(t); jsonNumber(m["errcode"]) != "88" || m["sub_code"] != "40014" {
		t.Fatalf("at 7200 s on topapi: %s", r.Body)
	}
}

func jsonNumber(v any) string {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return ""
}

func TestTokensInterchangeable(t *testing.T) {
	e := servertest.New(t)
	legacy := gettoken(t, e, dingtest.AppKey, dingtest.AppSecret)
	// the same app's live token, whichever generation asks
	if v1 := v1token(t, e, dingtest.AppKey, dingtest.AppSecret); v1 != legacy {
		t.Fatalf("v1.0 token %s differs from the live legacy token %s", v1, legacy)
	}
	// a /gettoken token in the v1.0 header
	r := e.PostV1("/v1.0/im/group/create", legacy, `{"name":"旧令牌新接口","owner":"manager4220","useridlist":["manager4220"]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("legacy token on v1.0: %d %s", r.Status, r.Body)
	}
	chatid := r.JSON(t)["chatid"].(string)

	// a v1.0 token (of another app) on ?access_token=
	other := v1token(t, e, dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
	g := e.Get("/chat/get?access_token=" + other + "&chatid=" + chatid)
	if m := g.JSON(t); jsonNumber(m["errcode"]) != "0" {
		t.Fatalf("v1.0 token on chat/get: %s", g.Body)
	}
	tp := e.Post("/topapi/v2/user/get?access_token="+other, `{"userid":"zhangsan"}`)
	if m := tp.JSON(t); jsonNumber(m["errcode"]) != "0" || m["success"] != true {
		t.Fatalf("v1.0 token on topapi: %s", tp.Body)
	}
	// the corpid form names the same app's token too
	c := e.Get("/gettoken?corpid=" + dingtest.AppKey + "&corpsecret=" + dingtest.AppSecret)
	if got, _ := c.JSON(t)["access_token"].(string); got != legacy {
		t.Fatalf("corpid form token = %q, want %s", got, legacy)
	}
}

func TestSeveralAppsTokensLive(t *testing.T) {
	e := servertest.New(t)
	apps := [][2]string{
		{dingtest.AppKey, dingtest.AppSecret},
		{dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret},
		{dingtest.NarrowAppKey, dingtest.NarrowAppSecret},
		{dingtest.ReadOnlyAppKey, dingtest.ReadOnlyAppSecret},
		{dingtest.OtherAppKey, dingtest.OtherAppSecret},
	}
	seen := map[string]bool{}
	var toks []string
	for i, a := range apps {
		var tok string
		if i%2 == 0 {
			tok = gettoken(t, e, a[0], a[1])
		} else {
			tok = v1token(t, e, a[0], a[1])
		}
		if seen[tok] {
			t.Fatalf("app %s got another app's token %s", a[0], tok)
		}
		seen[tok] = true
		toks = append(toks, tok)
		e.Clock.Advance(time.Minute)
	}
	// issuing each later token revoked none of the earlier ones
	for i, tok := range toks {
		r := e.Get("/chat/get?access_token=" + tok + "&chatid=chat0123456789abcdef0123456789abcdef")
		if code := jsonNumber(r.JSON(t)["errcode"]); code != "40016" {
			t.Errorf("token of %s: errcode %s, want 40016 (authenticated, no such chat)", apps[i][0], code)
		}
		if st := v1Status(t, e, tok); st != http.StatusBadRequest {
			t.Errorf("token of %s on v1.0: status %d", apps[i][0], st)
		}
	}
	// renewing one app's token leaves the others' as they were
	if again := gettoken(t, e, apps[0][0], apps[0][1]); again != toks[0] {
		t.Fatalf("renewal minted a new token")
	}
	e.Clock.Advance(7000 * time.Second) // now 7300 s: the renewal (at 300 s) and the later apps live, the second app (60 s) expired
	if code := legacyCode(t, e, toks[0]); code != 0 {
		t.Errorf("renewed token: errcode %d", code)
	}
	if code := legacyCode(t, e, toks[1]); code != 40014 {
		t.Errorf("unrenewed token of %s after 7200 s: errcode %d, want 40014", apps[1][0], code)
	}
	if code := legacyCode(t, e, toks[4]); code != 0 && code != 60121 {
		t.Errorf("token of %s 7060 s after issue: errcode %d", apps[4][0], code)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
