package v1api_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	im "github.com/alibabacloud-go/dingtalk/im_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// adminToken guards the admin API of the servers these tests start.
const adminToken = "adm-limits-test"

func adminEnv(t *testing.T) *servertest.Env {
	t.Helper()
	return servertest.New(t, server.WithAdminToken(adminToken))
}

// admin is a call to DingChat's admin API with bearer (none when "").
func admin(e *servertest.Env, method, path, bearer, body string) *servertest.Response {
	e.T.Helper()
	h := map[string]string{}
	if bearer != "" {
		h["Authorization"] = "Bearer " + bearer
	}
	return e.Do(servertest.Request{Method: method, Path: path, Header: h, Body: body})
}

// setLimits switches the ordinary app's limits through the admin API; the
// default app stays free, so the checks that read groups are not limited.
func setLimits(e *servertest.Env, body string) {
	e.T.Helper()
	if r := admin(e, http.MethodPut, "/_dingchat/admin/apps/"+dingtest.OrdinaryAppKey+"/limits", adminToken, body); r.Status != http.StatusOK {
		e.T.Fatalf("PUT limits %s: %d %s", body, r.Status, r.Body)
	}
}

func TestAdminLimitsAPI(t *testing.T) {
	t.Parallel()
	limits := "/_dingchat/admin/apps/" + dingtest.OrdinaryAppKey + "/limits"
	quota := "/_dingchat/admin/corps/" + dingtest.CorpID + "/quota"
	for _, c := range []struct {
		name, method, path, bearer, body string
		status                           int
		golden                           string
	}{
		{"limits", http.MethodPut, limits, adminToken, `{"qps":20,"perMinute":1500,"ipAllowList":["127.0.0.1","10.0.0.0/8","::1","2001:db8::/32"]}`, ok, "admin_limits/ok"},
		{"limits off", http.MethodPut, limits, adminToken, `{}`, ok, "admin_limits/off"},
		{"negative qps", http.MethodPut, limits, adminToken, `{"qps":-1}`, badRequest, "admin_limits/negative_qps"},
		{"negative perMinute", http.MethodPut, limits, adminToken, `{"perMinute":-5}`, badRequest, "admin_limits/negative_per_minute"},
		{"bad CIDR", http.MethodPut, limits, adminToken, `{"ipAllowList":["10.0.0.0/33"]}`, badRequest, "admin_limits/bad_cidr"},
		{"not an IP", http.MethodPut, limits, adminToken, `{"ipAllowList":["127.0.0.1","intranet"]}`, badRequest, "admin_limits/not_an_ip"},
		{"qps a string", http.MethodPut, limits, adminToken, `{"qps":"20"}`, badRequest, "admin_limits/qps_string"},
		{"malformed JSON", http.MethodPut, limits, adminToken, `{"qps":`, badRequest, "admin_limits/malformed_json"},
		{"unknown app", http.MethodPut, "/_dingchat/admin/apps/dingnosuchkey/limits", adminToken, `{"qps":1}`, notFound, "admin_limits/unknown_app"},
		{"admin token missing", http.MethodPut, limits, "", `{"qps":1}`, http.StatusUnauthorized, "admin_limits/token_missing"},
		{"admin token wrong", http.MethodPut, limits, "wrong", `{"qps":1}`, http.StatusUnauthorized, "admin_limits/token_wrong"},
		{"an app token is no admin token", http.MethodPut, limits, "{{token}}", `{"qps":1}`, http.StatusUnauthorized, "admin_limits/app_token"},
		{"GET", http.MethodGet, limits, adminToken, "", notFound, "admin_limits/get"},

		{"quota", http.MethodPut, quota, adminToken, `{"monthlyQuota":5000}`, ok, "admin_quota/ok"},
		{"quota off", http.MethodPut, quota, adminToken, `{"monthlyQuota":0}`, ok, "admin_quota/off"},
		{"negative quota", http.MethodPut, quota, adminToken, `{"monthlyQuota":-1}`, badRequest, "admin_quota/negative"},
		{"quota malformed", http.MethodPut, quota, adminToken, `[]`, badRequest, "admin_quota/malformed_json"},
		{"unknown corp", http.MethodPut, "/_dingchat/admin/corps/dingnosuchcorp/quota", adminToken, `{"monthlyQuota":1}`, notFound, "admin_quota/unknown_corp"},
		{"quota admin token missing", http.MethodPut, quota, "", `{"monthlyQuota":1}`, http.StatusUnauthorized, "admin_quota/token_missing"},
		{"quota admin token wrong", http.MethodPut, quota, "wrong", `{"monthlyQuota":1}`, http.StatusUnauthorized, "admin_quota/token_wrong"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := adminEnv(t)
			before, _ := e.Store.App(context.Background(), dingtest.OrdinaryAppKey)
			r := admin(e, c.method, c.path, c.bearer, c.body)
			if r.Status != c.status {
				t.Fatalf("status = %d, want %d; body %s", r.Status, c.status, r.Body)
			}
			if c.golden != "" {
				servertest.Golden(t, c.golden, r, *update)
			}
			if r.Status != ok {
				after, _ := e.Store.App(context.Background(), dingtest.OrdinaryAppKey)
				corp, _ := e.Store.Corp(context.Background(), dingtest.CorpID)
				if after.Limits.QPS != before.Limits.QPS || len(after.Limits.IPAllowList) != 0 || corp.MonthlyQuota != 0 {
					t.Fatalf("a refused call changed the limits: %+v, quota %d", after.Limits, corp.MonthlyQuota)
				}
			}
		})
	}
}

// Without a configured admin token the admin API refuses every token.
func TestAdminLimitsAPIDisabled(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	for _, bearer := range []string{"", adminToken, "disabled"} {
		r := admin(e, http.MethodPut, "/_dingchat/admin/apps/"+dingtest.AppKey+"/limits", bearer, `{"qps":1}`)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("bearer %q: status %d, want 401; %s", bearer, r.Status, r.Body)
		}
	}
}

// TestLimitsGolden: limits switched on through the admin API, as the v1.0
// surface answers them.
func TestLimitsGolden(t *testing.T) {
	t.Parallel()
	e := adminEnv(t)
	group(e)
	rename := `{"chatid":"{{chatid}}","name":"限流群"}`
	call := func() *servertest.Response { return e.PostV1(updatePath, "{{ordinary_token}}", rename) }
	e.Expand("{{ordinary_token}}")

	// 2 a second: the third call in the second is refused, the next second is free again
	setLimits(e, `{"qps":2}`)
	wantOK(t, call())
	wantOK(t, call())
	servertest.Golden(t, "im_group_update/qps_limit", call(), *update)
	servertest.Golden(t, "im_group_update/qps_limit_again", call(), *update)
	wantOK(t, e.PostV1(subPath, "{{ordinary_token}}", `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`)) // per API
	e.Clock.Advance(time.Second)
	wantOK(t, call())

	// 2 a minute, from the start of the next minute
	now := e.Clock.Now()
	e.Clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
	setLimits(e, `{"perMinute":2}`)
	wantOK(t, call())
	e.Clock.Advance(59 * time.Second)
	wantOK(t, call())
	servertest.Golden(t, "im_group_update/qpm_limit", call(), *update)
	e.Clock.Advance(time.Second)
	wantOK(t, call())

	// the IP allow-list: httptest's 127.0.0.1 is in 127.0.0.0/8, not in 10.0.0.0/8
	setLimits(e, `{"ipAllowList":["10.0.0.0/8"]}`)
	servertest.Golden(t, "im_group_update/ip_not_allowed", call(), *update)
	servertest.Golden(t, "im_subAdministrators/ip_not_allowed", e.PostV1(subPath, "{{ordinary_token}}", `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`), *update)
	// a bad token is still a bad token
	servertest.Golden(t, "im_group_update/ip_not_allowed_bad_token", e.PostV1(updatePath, "bad", rename), *update)
	wantOK(t, e.PostV1(updatePath, "{{token}}", rename)) // another app of the corp
	setLimits(e, `{"ipAllowList":["127.0.0.0/8"]}`)
	wantOK(t, call())
	setLimits(e, `{"ipAllowList":["192.0.2.1","127.0.0.1"]}`)
	wantOK(t, call())
	setLimits(e, `{}`)

	// a monthly quota of 2 for the corp; getting a token is free
	if r := admin(e, http.MethodPut, "/_dingchat/admin/corps/"+dingtest.CorpID+"/quota", adminToken, `{"monthlyQuota":2}`); r.Status != ok {
		t.Fatalf("PUT quota: %d %s", r.Status, r.Body)
	}
	wantOK(t, call())
	wantOK(t, e.PostV1(updatePath, "{{token}}", rename))
	servertest.Golden(t, "im_group_update/monthly_quota", call(), *update)
	servertest.Golden(t, "im_group_create/monthly_quota", e.PostV1(createPath, "{{token}}", `{"name":"配额群","owner":"manager4220","useridlist":["manager4220"]}`), *update)
	wantOK(t, e.Post("/v1.0/oauth2/accessToken", `{"appKey":"`+dingtest.OrdinaryAppKey+`","appSecret":"`+dingtest.OrdinaryAppSecret+`"}`))
	// February 1st in China is still January 31st in UTC
	e.Clock.Advance(time.Date(2026, 1, 31, 16, 0, 0, 0, time.UTC).Sub(e.Clock.Now()))
	e.Vars["ordinary_token"] = e.Token(dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
	wantOK(t, call())
}

var requestIDField = regexp.MustCompile(`"requestid":"[0-9A-F-]{36}"`)

// TestRequiredScopesBody: a missing scope answers 403 with the scope named
// in accessdenieddetail, byte for byte; the legacy surfaces answer 43007
// and 88/60011.
func TestRequiredScopesBody(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	group(e)
	r := e.PostV1(createPath, "{{readonly_token}}", `{"name":"只读","owner":"manager4220","useridlist":["manager4220"]}`)
	got := requestIDField.ReplaceAll(bytes.TrimSpace(r.Body), []byte(`"requestid":"ID"`))
	want := `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","requestid":"ID","message":"没有调用该接口的权限","accessdenieddetail":{"requiredScopes":["qyapi_chat_manage"]}}`
	if r.Status != forbidden || string(got) != want {
		t.Fatalf("v1.0 = %d %s\nwant 403 %s", r.Status, got, want)
	}
	if got, want := strings.TrimSpace(string(e.Post("/chat/create?access_token={{readonly_token}}", `{"name":"只读","owner":"manager4220","useridlist":["manager4220"]}`).Body)),
		`{"errcode":43007,"errmsg":"需要授权"}`; got != want {
		t.Fatalf("legacy = %s, want %s", got, want)
	}
	top := e.Post("/topapi/chat/qrcode/get?access_token={{readonly_token}}", `{"chatid":"{{chatid}}","userid":"zhangsan"}`).JSON(t)
	if top["errcode"].(interface{ String() string }).String() != "88" || top["sub_code"] != "60011" || top["sub_msg"] != "没有调用该接口的权限" {
		t.Fatalf("topapi = %v, want 88 with sub_code \"60011\"", top)
	}
	// other refusals carry no accessdenieddetail
	r = e.PostV1(createPath, "bad", `{}`)
	if bytes.Contains(r.Body, []byte("accessdenieddetail")) {
		t.Fatalf("a bad token's answer names scopes: %s", r.Body)
	}
}

// sdkCreate calls the official SDK's CreateGroup with tok.
func sdkCreate(t *testing.T, e *servertest.Env, tok string) error {
	t.Helper()
	c, err := im.NewClient(&openapi.Config{Protocol: tea.String("http"), Endpoint: tea.String(strings.TrimPrefix(e.URL, "http://"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateGroupWithOptions(&im.CreateGroupRequest{Name: tea.String("SDK群"), Owner: tea.String("manager4220"), Useridlist: tea.StringSlice([]string{"manager4220"})},
		&im.CreateGroupHeaders{XAcsDingtalkAccessToken: tea.String(tok)}, &util.RuntimeOptions{})
	return err
}

func sdkError(t *testing.T, err error) *tea.SDKError {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("CreateGroup error = %v (%T), want a *tea.SDKError", err, err)
	}
	return se
}

// TestSDKReadsRefusals: the official Go SDK surfaces the codes and the
// required scopes, which is what integrations branch on.
func TestSDKReadsRefusals(t *testing.T) {
	t.Parallel()
	e := adminEnv(t)
	se := sdkError(t, sdkCreate(t, e, e.Expand("{{readonly_token}}")))
	if got, want := tea.StringValue(se.Code), "Forbidden.AccessDenied.AccessTokenPermissionDenied"; got != want {
		t.Fatalf("Code = %q, want %q", got, want)
	}
	if got, want := jsonText(se.AccessDeniedDetail["requiredScopes"]), jsonText([]string{ding.ScopeChatManage}); got != want {
		t.Fatalf("AccessDeniedDetail = %v, want requiredScopes %s", se.AccessDeniedDetail, want)
	}

	tok := e.Expand("{{ordinary_token}}")
	setLimits(e, `{"qps":1}`)
	if err := sdkCreate(t, e, tok); err != nil {
		t.Fatalf("first call in the second: %v", err)
	}
	se = sdkError(t, sdkCreate(t, e, tok))
	if got, want := tea.StringValue(se.Code), "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"; got != want {
		t.Fatalf("Code = %q, want %q", got, want)
	}
	if got := tea.IntValue(se.StatusCode); got != forbidden {
		t.Fatalf("StatusCode = %d, want %d", got, forbidden)
	}
	e.Clock.Advance(time.Second)
	if err := sdkCreate(t, e, tok); err != nil {
		t.Fatalf("first call in the next second: %v", err)
	}
	setLimits(e, `{"ipAllowList":["10.0.0.0/8"]}`)
	se = sdkError(t, sdkCreate(t, e, tok))
	if got, want := tea.StringValue(se.Code), "Forbidden.AccessDenied.IpNotInWhiteList"; got != want || !strings.Contains(tea.StringValue(se.Message), "request ip=127.0.0.1") {
		t.Fatalf("Code = %q, message %q; want %q naming the IP", got, tea.StringValue(se.Message), want)
	}
}
