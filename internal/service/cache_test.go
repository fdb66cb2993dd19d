package service_test

import (
	"context"
	"fmt"
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

// chat/get's groups are kept per node and checked against the group's
// version on every read: a change through either node, or straight in the
// store, is seen by both at once; the kept view is the store's.
func TestCachedGroupAcrossNodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := service.New(e.st, e.clock, service.RandomIDs{})
	c := e.app()
	g := e.group("zhangsan")
	ref := service.GroupRef{ChatID: g.ChatID}
	get := func(s *service.Service) *service.GroupView {
		t.Helper()
		v, err := s.GetGroup(bg, c, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	both := func(what string, ok func(v *service.GroupView) bool) {
		t.Helper()
		for i, s := range []*service.Service{e.svc, other} {
			if v := get(s); !ok(v) {
				t.Fatalf("%s: node %d shows %+v", what, i, *v)
			}
		}
	}
	both("created", func(v *service.GroupView) bool { return len(v.UserIDs) == 2 }) // both nodes keep it now

	name := "改名一"
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name})
	both("renamed through the first node", func(v *service.GroupView) bool { return v.Group.Name == name })

	if _, err := other.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: []string{"lisi"}}); err != nil {
		t.Fatal(err)
	}
	both("a member added through the other node", func(v *service.GroupView) bool { return len(v.UserIDs) == 3 })

	if err := other.SetGroupNick(bg, c, g.ChatID, "lisi", "小李"); err != nil {
		t.Fatal(err)
	}
	owner := "lisi"
	if _, err := other.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	both("the owner changed through the other node", func(v *service.GroupView) bool { return v.Group.Owner == owner })

	// straight in the store (another process, a tool)
	_, err := e.st.UpdateGroup(bg, g.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ng := s.Group
		ng.Name = "改名二"
		return &ding.GroupChange{Group: ng, Remove: []ding.Member{{ID: "zhangsan", Kind: ding.MemberEmp}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	both("changed in the store", func(v *service.GroupView) bool { return v.Group.Name == "改名二" && len(v.UserIDs) == 2 })

	// a caller's append to a view does not reach the kept one
	v := get(e.svc)
	_ = append(v.UserIDs, "nobody")
	v.UserIDs[0] = "changed"
	v.Group.Name = "changed"
	if w := get(e.svc); w.Group.Name != "改名二" || w.UserIDs[0] == "changed" || len(w.UserIDs) != 2 {
		t.Fatalf("a caller changed the kept view: %+v", *w)
	}

	// another corp's app never gets the group, kept or not
	if _, err := other.GetGroup(bg, e.otherApp(), ref); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("another corp reads the kept group: %v", err)
	}
}

// Reads racing with changes on another node never show a group older than
// the last change that finished before the read began.
func TestCachedGroupRacingChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := service.New(e.st, e.clock, service.RandomIDs{})
	c := e.app()
	g := e.group("zhangsan")
	ref := service.GroupRef{ChatID: g.ChatID}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				e.svc.GetGroup(bg, c, ref)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("名字%d", i)
		if _, err := other.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.GetGroup(bg, c, ref)
		if err != nil {
			t.Fatal(err)
		}
		if v.Group.Name != name {
			t.Fatalf("after the other node renamed the group to %q this node shows %q", name, v.Group.Name)
		}
	}
}

// frozenVersion is a store whose groups never change version, as a change
// that bypasses it (an operator's SQL) looks to a node.
type frozenVersion struct{ ding.Store }

func (frozenVersion) GroupVersion(context.Context, string, string) (int64, error) { return 0, nil }

// A change the version does not show is still seen within CacheTTL.
func TestCachedGroupBoundedWithoutVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	node := service.New(frozenVersion{e.st}, e.clock, service.RandomIDs{})
	c := e.app()
	g := e.group("zhangsan")
	ref := service.GroupRef{ChatID: g.ChatID}
	name := func() string {
		v, err := node.GetGroup(bg, c, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v.Group.Name
	}
	name()
	renamed := "改名"
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Name: &renamed})
	seenWithin(t, service.CacheTTL+200*time.Millisecond, "a rename the version missed", func() bool { return name() == renamed })
}
