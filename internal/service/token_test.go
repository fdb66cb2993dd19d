package service_test

import (
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

const ttl = ding.TokenTTL * time.Second

func TestTokenRenewedWhileValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	if got, want := first.ExpiresAt, e.nowMs()+ding.TokenTTL*1000; got != want {
		t.Fatalf("ExpiresAt = %d, want %d", got, want)
	}
	if got, want := first.AppKey, dingtest.AppKey; got != want {
		t.Fatalf("AppKey = %q, want %q", got, want)
	}

	e.clock.Advance(7000 * time.Second)
	again, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken again: %v", err)
	}
	if got, want := again.Value, first.Value; got != want {
		t.Fatalf("token within its lifetime = %q, want the same %q", got, want)
	}
	if got, want := again.ExpiresAt, e.nowMs()+ding.TokenTTL*1000; got != want {
		t.Fatalf("renewed ExpiresAt = %d, want %d", got, want)
	}

	// 14000 s after the first issue: past the first lifetime, within the renewed one
	e.clock.Advance(7000 * time.Second)
	c, err := e.svc.Authenticate(bg, first.Value)
	if err != nil {
		t.Fatalf("Authenticate after renewal: %v", err)
	}
	if got, want := c.CorpID(), dingtest.CorpID; got != want {
		t.Fatalf("CorpID = %q, want %q", got, want)
	}

	// the renewed lifetime ends exactly 7200 s after the renewal
	e.clock.Advance(200*time.Second - time.Millisecond)
	if _, err := e.svc.Authenticate(bg, first.Value); err != nil {
		t.Fatalf("Authenticate 1 ms before expiry: %v", err)
	}
	e.clock.Advance(time.Millisecond)
	_, err = e.svc.Authenticate(bg, first.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "Authenticate at expiry")

	// then a new token, and the old one stays expired
	fresh, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken after expiry: %v", err)
	}
	if fresh.Value == first.Value {
		t.Fatalf("IssueToken after expiry returned the expired token %q", fresh.Value)
	}
	if _, err := e.svc.Authenticate(bg, fresh.Value); err != nil {
		t.Fatalf("Authenticate(new token): %v", err)
	}
	_, err = e.svc.Authenticate(bg, first.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "Authenticate(old token)")
}

func TestTokenExpiresWithoutRenewal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	e.clock.Advance(ttl - time.Millisecond)
	if _, err := e.svc.Authenticate(bg, tok.Value); err != nil {
		t.Fatalf("Authenticate just before 7200 s: %v", err)
	}
	e.clock.Advance(time.Millisecond)
	_, err = e.svc.Authenticate(bg, tok.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "Authenticate after 7200 s")
	e.clock.Advance(24 * time.Hour)
	_, err = e.svc.Authenticate(bg, tok.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "Authenticate a day later")
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name        string
		key, secret string
		kind        ding.Kind
		reason      ding.Reason
	}{
		{"wrong secret", dingtest.AppKey, "wrong", ding.Unauthenticated, ding.ReasonBadAppCredentials},
		{"another app's secret", dingtest.AppKey, dingtest.OrdinaryAppSecret, ding.Unauthenticated, ding.ReasonBadAppCredentials},
		{"other corp's secret", dingtest.AppKey, dingtest.OtherAppSecret, ding.Unauthenticated, ding.ReasonBadAppCredentials},
		{"unknown key", "dingnosuchappkey", dingtest.AppSecret, ding.Unauthenticated, ding.ReasonBadAppCredentials},
		{"corp id as app key", dingtest.CorpID, dingtest.AppSecret, ding.Unauthenticated, ding.ReasonBadAppCredentials},
		{"missing key", "", dingtest.AppSecret, ding.Invalid, ding.ReasonAppKeyMissing},
		{"missing secret", dingtest.AppKey, "", ding.Invalid, ding.ReasonAppSecretMissing},
	} {
		tok, err := e.svc.IssueToken(bg, tc.key, tc.secret)
		wantErr(t, err, tc.kind, tc.reason, "IssueToken("+tc.name+")")
		if tok != nil {
			t.Fatalf("IssueToken(%s) = %+v with an error", tc.name, tok)
		}
	}
	_, err := e.svc.Authenticate(bg, "")
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenMissing, "Authenticate(empty)")
	_, err = e.svc.Authenticate(bg, "0123456789abcdef0123456789abcdef")
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenInvalid, "Authenticate(never issued)")
}

func TestTokenForCorp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	byKey, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}

	// an app key sent as corpid: the same app, so the same live token
	tok, err := e.svc.IssueTokenForCorp(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueTokenForCorp(app key): %v", err)
	}
	if got, want := tok.Value, byKey.Value; got != want {
		t.Fatalf("IssueTokenForCorp(app key) = %q, want the app's token %q", got, want)
	}

	// a corp id with one of its apps' secrets: that app
	tok, err = e.svc.IssueTokenForCorp(bg, dingtest.CorpID, dingtest.OrdinaryAppSecret)
	if err != nil {
		t.Fatalf("IssueTokenForCorp(corp id): %v", err)
	}
	c, err := e.svc.Authenticate(bg, tok.Value)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got, want := c.App.Key, dingtest.OrdinaryAppKey; got != want {
		t.Fatalf("corp-form token app = %q, want %q", got, want)
	}
	if got, want := c.CorpID(), dingtest.CorpID; got != want {
		t.Fatalf("corp-form token corp = %q, want %q", got, want)
	}
	if tok.Value == byKey.Value {
		t.Fatalf("two apps share token %q", tok.Value)
	}

	for _, tc := range []struct {
		name, corpID, secret string
		kind                 ding.Kind
		reason               ding.Reason
	}{
		{"corp id, wrong secret", dingtest.CorpID, "wrong", ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"app key, wrong secret", dingtest.AppKey, "wrong", ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"app key, sibling app's secret", dingtest.AppKey, dingtest.OrdinaryAppSecret, ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"corp id, other corp's secret", dingtest.CorpID, dingtest.OtherAppSecret, ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"other corp id, this corp's secret", dingtest.OtherCorpID, dingtest.AppSecret, ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"unknown corp", "dingnosuchcorp", dingtest.AppSecret, ding.Unauthenticated, ding.ReasonBadCorpCredentials},
		{"missing corpid", "", dingtest.AppSecret, ding.Invalid, ding.ReasonAppKeyMissing},
		{"missing corpsecret", dingtest.CorpID, "", ding.Invalid, ding.ReasonAppSecretMissing},
	} {
		_, err := e.svc.IssueTokenForCorp(bg, tc.corpID, tc.secret)
		wantErr(t, err, tc.kind, tc.reason, "IssueTokenForCorp("+tc.name+")")
	}
}

func TestTokensPerApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatalf("IssueToken(app): %v", err)
	}
	e.clock.Advance(time.Minute)
	b, err := e.svc.IssueToken(bg, dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
	if err != nil {
		t.Fatalf("IssueToken(ordinary app): %v", err)
	}
	o, err := e.svc.IssueToken(bg, dingtest.OtherAppKey, dingtest.OtherAppSecret)
	if err != nil {
		t.Fatalf("IssueToken(other corp app): %v", err)
	}
	if a.Value == b.Value || a.Value == o.Value || b.Value == o.Value {
		t.Fatalf("apps share tokens: %q %q %q", a.Value, b.Value, o.Value)
	}
	for _, tc := range []struct{ token, app, corp string }{
		{a.Value, dingtest.AppKey, dingtest.CorpID},
		{b.Value, dingtest.OrdinaryAppKey, dingtest.CorpID},
		{o.Value, dingtest.OtherAppKey, dingtest.OtherCorpID},
	} {
		c, err := e.svc.Authenticate(bg, tc.token)
		if err != nil {
			t.Fatalf("Authenticate(%s): %v", tc.app, err)
		}
		if got, want := c.App.Key, tc.app; got != want {
			t.Fatalf("token app = %q, want %q", got, want)
		}
		if got, want := c.CorpID(), tc.corp; got != want {
			t.Fatalf("token corp = %q, want %q", got, want)
		}
	}
}

// Guessing an app secret is throttled: after MaxCredentialFailures failures
// in a minute every check of that app key is refused until the minute ends,
// the right secret included; other apps are not affected.
func TestCredentialGuessingThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < service.MaxCredentialFailures; i++ {
		_, err := e.svc.IssueToken(bg, dingtest.AppKey, "wrong-secret")
		wantErr(t, err, ding.Unauthenticated, ding.ReasonBadAppCredentials, "a wrong secret")
	}
	_, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	wantErr(t, err, ding.RateLimited, ding.ReasonQPMLimit, "the right secret while throttled")
	_, err = e.svc.IssueTokenForCorp(bg, dingtest.AppKey, dingtest.AppSecret)
	wantErr(t, err, ding.RateLimited, ding.ReasonQPMLimit, "the corpid form while throttled")
	if _, err := e.svc.IssueToken(bg, dingtest.NarrowAppKey, dingtest.NarrowAppSecret); err != nil {
		t.Fatalf("another app is throttled too: %v", err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret); err != nil {
		t.Fatalf("after the minute: %v", err)
	}
	// successes are not counted
	for i := 0; i < service.MaxCredentialFailures+5; i++ {
		if _, err := e.svc.IssueTokenForCorp(bg, dingtest.AppKey, dingtest.AppSecret); err != nil {
			t.Fatalf("success %d: %v", i, err)
		}
	}
}
