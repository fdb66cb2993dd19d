package service_test

import (
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// seenWithin polls ok until it holds and fails unless that took at most bound.
func seenWithin(t *testing.T, bound time.Duration, what string, ok func() bool) {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > 5*bound {
			t.Fatalf("%s: not seen after %v", what, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > bound {
		t.Fatalf("%s: seen after %v, want within %v", what, took, bound)
	}
}

// Two services on one store are two nodes: a change made through one is
// seen by the other within service.CacheTTL, and by the one that made it at once.
func TestCachedRowsAcrossNodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := service.New(e.st, e.clock, service.RandomIDs{})
	tok, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	admitted := func(s *service.Service, ip string) error {
		c, err := s.Authenticate(bg, tok.Value)
		if err != nil {
			return err
		}
		return s.Admit(bg, c, "chat/get", ip)
	}
	// a token issued on one node works on the other at once: unknown tokens are not cached
	if err := admitted(other, localIP); err != nil {
		t.Fatalf("the other node refused a fresh token: %v", err)
	}
	fresh, err := other.IssueToken(bg, dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(bg, fresh.Value); err != nil {
		t.Fatalf("a token issued on the other node: %v", err)
	}

	// the app's allow-list, changed through the first node (as the admin API does)
	if err := e.svc.SetAppLimits(bg, dingtest.AppKey, ding.Limits{IPAllowList: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, admitted(e.svc, localIP), ding.Forbidden, ding.ReasonIPNotAllowed, "the node that changed the app")
	seenWithin(t, service.CacheTTL+200*time.Millisecond, "the allow-list on the other node", func() bool {
		return ding.ErrorReason(admitted(other, localIP)) == ding.ReasonIPNotAllowed
	})

	// the corp's quota, changed through the other node
	if err := e.svc.SetAppLimits(bg, dingtest.AppKey, ding.Limits{}); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, service.CacheTTL+200*time.Millisecond, "limits lifted on the other node", func() bool {
		return admitted(other, localIP) == nil
	})
	if err := admitted(e.svc, localIP); err != nil { // the first node caches the corp, quota off
		t.Fatal(err)
	}
	if err := other.SetMonthlyQuota(bg, dingtest.CorpID, 1); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, service.CacheTTL+200*time.Millisecond, "the quota on the first node", func() bool {
		return ding.ErrorReason(admitted(e.svc, localIP)) == ding.ReasonMonthlyQuota
	})
}

// A change behind the service's back (a reset, a restore) is seen at once
// after DropCaches.
func TestDropCaches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	if err := e.svc.Admit(bg, c, "chat/get", localIP); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetAppLimits(bg, dingtest.AppKey, ding.Limits{IPAllowList: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	e.svc.DropCaches()
	c, err := e.svc.Authenticate(bg, c.Token.Value)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.Admit(bg, c, "chat/get", localIP), ding.Forbidden, ding.ReasonIPNotAllowed, "after DropCaches")
}
