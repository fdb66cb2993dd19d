package service_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

const localIP = "127.0.0.1"

// limited switches the app's limits on and signs in again, so the caller
// carries them.
func (e *env) limited(key, secret string, l ding.Limits) *service.Caller {
	e.t.Helper()
	if err := e.svc.SetAppLimits(bg, key, l); err != nil {
		e.t.Fatalf("SetAppLimits(%s, %+v): %v", key, l, err)
	}
	return e.caller(key, secret)
}

// admit requires n calls of api to pass.
func (e *env) admit(c *service.Caller, api string, n int, what string) {
	e.t.Helper()
	for i := range n {
		if err := e.svc.Admit(bg, c, api, localIP); err != nil {
			e.t.Fatalf("%s: call %d of %d to %s refused: %v", what, i+1, n, api, err)
		}
	}
}

// refuseAdmit requires the next call of api to be refused with reason.
func (e *env) refuseAdmit(c *service.Caller, api string, kind ding.Kind, reason ding.Reason, what string) {
	e.t.Helper()
	wantErr(e.t, e.svc.Admit(bg, c, api, localIP), kind, reason, what)
}

func TestLimitsOffByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	if c.App.Limits.QPS != 0 || c.App.Limits.PerMinute != 0 || len(c.App.Limits.IPAllowList) != 0 {
		t.Fatalf("fixture app has limits %+v", c.App.Limits)
	}
	corp, err := e.st.Corp(bg, dingtest.CorpID)
	if err != nil || corp.MonthlyQuota != 0 {
		t.Fatalf("Corp = %+v, %v; want no quota", corp, err)
	}
	e.admit(c, "chat/get", 500, "no limits")
	for _, ip := range []string{"10.1.2.3", "::1", "203.0.113.9", ""} {
		if err := e.svc.Admit(bg, c, "chat/get", ip); err != nil {
			t.Fatalf("Admit(from %q) without an allow-list: %v", ip, err)
		}
	}
}

func TestQPSLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 3
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{QPS: n})

	// the clock stands on a whole second: n calls pass, call n+1 does not
	e.admit(c, "chat/get", n, "within the second")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "call n+1")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "call n+2")
	// per API and per app
	e.admit(c, "chat/update", n, "another API in the same second")
	e.admit(e.limited(dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret, ding.Limits{QPS: n}), "chat/get", n, "another app in the same second")

	e.clock.Advance(time.Second - time.Millisecond)
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "the last millisecond of the second")
	e.clock.Advance(time.Millisecond)
	// refused calls did not count: the next second has all n
	e.admit(c, "chat/get", n, "the next second")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "call n+1 of the next second")

	// the limit follows the app's setting as it is now
	c = e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{QPS: n + 2})
	e.admit(c, "chat/get", 2, "a raised limit")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "past the raised limit")
	c = e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{})
	e.admit(c, "chat/get", 50, "limit switched off")
}

func TestQPSLimitConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n, callers = 5, 40
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{QPS: n})
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.svc.Admit(bg, c, "chat/get", localIP)
		}()
	}
	wg.Wait()
	passed := 0
	for _, err := range errs {
		if err == nil {
			passed++
			continue
		}
		wantErr(t, err, ding.RateLimited, ding.ReasonQPSLimit, "concurrent call")
	}
	if passed != n {
		t.Fatalf("%d of %d concurrent calls passed, want %d", passed, callers, n)
	}
}

func TestPerMinuteLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 4
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{PerMinute: n})

	// spread over the minute, which starts with the clock
	for range n {
		e.admit(c, "chat/get", 1, "within the minute")
		e.clock.Advance(10 * time.Second)
	}
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPMLimit, "call n+1")
	e.admit(c, "chat/create", n, "another API in the same minute")
	e.clock.Advance(time.Minute - 4*10*time.Second - time.Millisecond)
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPMLimit, "the last millisecond of the minute")
	e.clock.Advance(time.Millisecond)
	e.admit(c, "chat/get", n, "the next minute")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPMLimit, "call n+1 of the next minute")
}

func TestQPSAndPerMinute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{QPS: 2, PerMinute: 3})
	e.admit(c, "chat/get", 2, "second 0")
	// refused by the second's limit, so not counted by the minute's
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "third call in second 0")
	e.clock.Advance(time.Second)
	e.admit(c, "chat/get", 1, "second 1")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPMLimit, "fourth call in the minute")
}

func TestMonthlyQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const quota = 3
	if err := e.svc.SetMonthlyQuota(bg, dingtest.CorpID, quota); err != nil {
		t.Fatalf("SetMonthlyQuota: %v", err)
	}
	c, ordinary, other := e.app(), e.ordinaryApp(), e.otherApp()

	// token and contacts calls are free
	free := []string{"gettoken", "oauth2/accessToken", "service/get_corp_token", "user/get", "user/get_by_mobile",
		"user/getUseridByUnionid", "topapi/v2/user/get", "topapi/v2/user/getbymobile", "topapi/user/getbyunionid"}
	for _, api := range free {
		e.admit(c, api, 5, "quota-free "+api)
	}
	// the quota is the corp's, over all its apps and APIs
	e.admit(c, "chat/create", 1, "call 1")
	e.admit(ordinary, "chat/get", 1, "call 2 by another app")
	e.admit(c, "topapi/chat/qrcode/get", 1, "call 3 to a topapi")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonMonthlyQuota, "quota+1")
	e.refuseAdmit(ordinary, "im/group/create", ding.RateLimited, ding.ReasonMonthlyQuota, "quota+1 by another app")
	for _, api := range free {
		e.admit(c, api, 1, "quota-free "+api+" after the quota")
	}
	e.admit(other, "chat/get", 10, "another corp")

	// the month is China's: 2026-01-31T16:00Z is February 1st in Beijing
	endOfJanuary := time.Date(2026, 1, 31, 15, 59, 59, 999e6, time.UTC)
	e.clock.Advance(endOfJanuary.Sub(e.clock.Now()))
	c = e.app() // the first token expired long ago
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonMonthlyQuota, "last millisecond of January in China")
	e.clock.Advance(time.Millisecond)
	e.admit(c, "chat/get", quota, "February in China, still January in UTC")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonMonthlyQuota, "quota+1 in February")

	// switched off, and raised
	if err := e.svc.SetMonthlyQuota(bg, dingtest.CorpID, 0); err != nil {
		t.Fatalf("SetMonthlyQuota(0): %v", err)
	}
	e.admit(c, "chat/get", 20, "quota off")
}

func TestQuotaCountsOnlyAdmittedCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.SetMonthlyQuota(bg, dingtest.CorpID, 2); err != nil {
		t.Fatalf("SetMonthlyQuota: %v", err)
	}
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{QPS: 1, IPAllowList: []string{localIP}})
	e.admit(c, "chat/get", 1, "call 1")
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonQPSLimit, "over the second's limit")
	wantErr(t, e.svc.Admit(bg, c, "chat/update", "10.0.0.1"), ding.Forbidden, ding.ReasonIPNotAllowed, "from outside the allow-list")
	e.clock.Advance(time.Second)
	e.admit(c, "chat/get", 1, "call 2: the refused calls took no quota")
	e.clock.Advance(time.Second)
	e.refuseAdmit(c, "chat/get", ding.RateLimited, ding.ReasonMonthlyQuota, "call 3")
}

func TestIPAllowList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		list    []string
		allowed []string
		refused []string
	}{
		{[]string{"127.0.0.1"}, []string{"127.0.0.1", "::ffff:127.0.0.1"}, []string{"127.0.0.2", "10.0.0.1", "::1", "", "localhost"}},
		{[]string{"127.0.0.0/8"}, []string{"127.0.0.1", "127.255.255.254", "::ffff:127.9.9.9"}, []string{"128.0.0.1", "10.0.0.1", "::1"}},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.1", "10.255.0.9"}, []string{"127.0.0.1", "11.0.0.1"}},
		{[]string{"192.0.2.7", "10.0.0.0/8", "::1"}, []string{"192.0.2.7", "10.3.2.1", "::1"}, []string{"192.0.2.8", "127.0.0.1", "::2"}},
		{[]string{"2001:db8::/32"}, []string{"2001:db8::1", "2001:db8:ffff::1"}, []string{"2001:db9::1", "127.0.0.1"}},
	} {
		c := e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{IPAllowList: tc.list})
		for _, ip := range tc.allowed {
			if err := e.svc.Admit(bg, c, "chat/get", ip); err != nil {
				t.Fatalf("allow-list %v refused %q: %v", tc.list, ip, err)
			}
		}
		for _, ip := range tc.refused {
			err := e.svc.Admit(bg, c, "chat/get", ip)
			wantErr(t, err, ding.Forbidden, ding.ReasonIPNotAllowed, "allow-list "+tc.list[0]+" and "+ip)
			if got := ding.ErrorDetail(err); got != ip {
				t.Fatalf("the refusal names %q, want the caller's IP %q", got, ip)
			}
		}
	}
	// the allow-list is the app's: another app of the corp is not bound by it
	e.limited(dingtest.AppKey, dingtest.AppSecret, ding.Limits{IPAllowList: []string{"10.0.0.0/8"}})
	if err := e.svc.Admit(bg, e.ordinaryApp(), "chat/get", localIP); err != nil {
		t.Fatalf("another app refused: %v", err)
	}
	// and quota-free calls are still bound by it
	wantErr(t, e.svc.Admit(bg, e.app(), "user/get", localIP), ding.Forbidden, ding.ReasonIPNotAllowed, "contacts call from outside the list")
}

func TestSetAppLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		l    ding.Limits
		what string
	}{
		{ding.Limits{QPS: -1}, "negative QPS"},
		{ding.Limits{PerMinute: -1}, "negative per-minute"},
		{ding.Limits{IPAllowList: []string{"10.0.0.0/33"}}, "prefix too long"},
		{ding.Limits{IPAllowList: []string{"127.0.0.1", "not-an-ip"}}, "not an IP"},
		{ding.Limits{IPAllowList: []string{""}}, "empty entry"},
		{ding.Limits{IPAllowList: []string{"256.0.0.1"}}, "octet out of range"},
		{ding.Limits{IPAllowList: []string{"10.0.0.0/8 "}}, "trailing space"},
	} {
		wantErr(t, e.svc.SetAppLimits(bg, dingtest.AppKey, tc.l), ding.Invalid, ding.ReasonInvalidParam, "SetAppLimits("+tc.what+")")
	}
	if got := e.app().App.Limits; got.QPS != 0 || got.PerMinute != 0 || len(got.IPAllowList) != 0 {
		t.Fatalf("refused settings were stored: %+v", got)
	}
	wantErr(t, e.svc.SetAppLimits(bg, "dingnosuchkey", ding.Limits{QPS: 1}), ding.NotFound, ding.ReasonNone, "SetAppLimits(unknown app)")

	want := ding.Limits{QPS: 20, PerMinute: 1500, IPAllowList: []string{"127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"}}
	c := e.limited(dingtest.AppKey, dingtest.AppSecret, want)
	if got := c.App.Limits; got.QPS != want.QPS || got.PerMinute != want.PerMinute || len(got.IPAllowList) != 4 || got.IPAllowList[1] != "10.0.0.0/8" {
		t.Fatalf("stored limits = %+v, want %+v", got, want)
	}
	if got := e.ordinaryApp().App.Limits; got.QPS != 0 || len(got.IPAllowList) != 0 {
		t.Fatalf("another app got limits %+v", got)
	}
	// the limits belong to the app, not the token: a token issued before the change follows it
	if got := e.app().App.Limits.QPS; got != want.QPS {
		t.Fatalf("re-authenticated QPS = %d, want %d", got, want.QPS)
	}
}

func TestSetMonthlyQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantErr(t, e.svc.SetMonthlyQuota(bg, dingtest.CorpID, -1), ding.Invalid, ding.ReasonInvalidParam, "SetMonthlyQuota(-1)")
	wantErr(t, e.svc.SetMonthlyQuota(bg, "dingnosuchcorp", 5), ding.NotFound, ding.ReasonNone, "SetMonthlyQuota(unknown corp)")
	if err := e.svc.SetMonthlyQuota(bg, dingtest.CorpID, 5000); err != nil {
		t.Fatalf("SetMonthlyQuota: %v", err)
	}
	corp, err := e.st.Corp(bg, dingtest.CorpID)
	if err != nil || corp.MonthlyQuota != 5000 {
		t.Fatalf("Corp = %+v, %v; want quota 5000", corp, err)
	}
	other, err := e.st.Corp(bg, dingtest.OtherCorpID)
	if err != nil || other.MonthlyQuota != 0 {
		t.Fatalf("other corp = %+v, %v; want no quota", other, err)
	}
}

// TestRequiredScopes: a Forbidden refusal names the scope the app lacks.
func TestRequiredScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	ro := e.readOnlyApp()
	for _, tc := range []struct {
		what  string
		scope string
		err   error
	}{
		{"CreateGroup", ding.ScopeChatManage, func() error {
			_, err := e.svc.CreateGroup(bg, ro, service.CreateGroupInput{Name: "只读", Owner: "manager4220", UserIDs: []string{"manager4220"}})
			return err
		}()},
		{"UpdateGroup", ding.ScopeChatManage, func() error {
			_, err := e.svc.UpdateGroup(bg, ro, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr("只读")})
			return err
		}()},
		{"SetSubAdmins", ding.ScopeChatManage, e.svc.SetSubAdmins(bg, ro, service.GroupRef{ChatID: g.ChatID}, []string{"zhangsan"}, ding.RoleAdmin)},
		{"SetFriendSwitch", ding.ScopeChatManage, e.svc.SetFriendSwitch(bg, ro, g.ChatID, ptr(true))},
		{"SetGroupNick", ding.ScopeChatManage, e.svc.SetGroupNick(bg, ro, g.ChatID, "zhangsan", "三")},
		{"JoinLink", ding.ScopeChatBaseRead, func() error {
			_, err := e.svc.JoinLink(bg, ro, g.ChatID, "zhangsan", joinBase)
			return err
		}()},
	} {
		wantErr(t, tc.err, ding.Forbidden, ding.ReasonPermissionDenied, tc.what)
		if got := ding.ErrorScopes(tc.err); len(got) != 1 || got[0] != tc.scope {
			t.Fatalf("%s: RequiredScopes = %v, want [%s]", tc.what, got, tc.scope)
		}
	}
	// what the read-only app holds, it may call
	if _, err := e.svc.GetGroup(bg, ro, service.GroupRef{ChatID: g.ChatID}); err != nil {
		t.Fatalf("GetGroup(read-only app): %v", err)
	}
}
