package server_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// twoStores opens two stores on one database, as two nodes do.
func twoStores(t *testing.T) (ding.Store, ding.Store) {
	t.Helper()
	var open func() (ding.Store, error)
	if dingtest.Postgres(t) {
		url := dingtest.ClaimSchema(t, 4)
		open = func() (ding.Store, error) { return postgres.Open(context.Background(), url) }
	} else {
		path := filepath.Join(t.TempDir(), "dingchat.db")
		open = func() (ding.Store, error) { return sqlite.Open(path) }
	}
	var sts [2]ding.Store
	for i := range sts {
		st, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		sts[i] = st
	}
	return sts[0], sts[1]
}

// node is one service over its own store handle, counting its reset hooks.
type node struct {
	svc   *service.Service
	hooks atomic.Int64
}

func newNode(t *testing.T, st ding.Store) *node {
	n := &node{svc: service.New(st, ding.NewControlClock(nil), nil, service.WithTestControls())}
	n.svc.Declare(declaredOrgs(), false)
	if _, err := n.svc.ApplyDeclared(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.svc.OnReset(func(context.Context) { n.hooks.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go n.svc.WatchControls(ctx, 20*time.Millisecond, func(err error) { t.Errorf("watch: %v", err) })
	return n
}

func eventuallyNamed(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// TestNodesFollowResetAndClock: a reset and a clock move made on one node
// reach the other through the store: its hooks run, its clock agrees, and
// the tokens it issued expire.
func TestNodesFollowResetAndClock(t *testing.T) {
	sa, sb := twoStores(t)
	a, b := newNode(t, sa), newNode(t, sb)
	ctx := context.Background()
	tok, err := b.svc.IssueToken(ctx, ctlApp, ctlSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.MoveClock(ctx, service.ClockMove{Advance: "+3h"}); err != nil {
		t.Fatal(err)
	}
	eventuallyNamed(t, "node b's clock follows", func() bool { return b.svc.ReadClock(ctx).OffsetMs == 3*3600*1000 })
	if d := b.svc.Clock().Now().Sub(a.svc.Clock().Now()); d > time.Second || d < -time.Second {
		t.Fatalf("the nodes' clocks differ by %v", d)
	}
	if _, err := b.svc.Authenticate(ctx, tok.Value); ding.ErrorReason(err) != ding.ReasonTokenExpired {
		t.Fatalf("node b's token after +3h: %v", err)
	}
	rule, err := a.svc.AddFault(ctx, service.FaultRule{Path: "/chat/send", Action: service.FaultError})
	if err != nil {
		t.Fatal(err)
	}
	eventuallyNamed(t, "node b takes the fault rule", func() bool {
		r := b.svc.Faults().MatchCall(service.Call{Surface: "legacy", Path: "/chat/send"})
		return r != nil && r.ID == rule.ID
	})
	hb := b.hooks.Load()
	res, err := a.svc.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eventuallyNamed(t, "node b runs its reset hooks", func() bool { return b.hooks.Load() > hb && b.svc.ResetGeneration() == res.Generation })
	eventuallyNamed(t, "node b's clock is back to real time", func() bool { return b.svc.ReadClock(ctx).OffsetMs == 0 })
	if _, err := b.svc.Authenticate(ctx, tok.Value); ding.ErrorReason(err) != ding.ReasonTokenInvalid {
		t.Fatalf("a token from before the reset on node b: %v", err)
	}
	if g, err := sb.Group(ctx, ctlCorp, declaredChat); err != nil || g.MemberCount != 3 {
		t.Fatalf("declared group seen from node b: %v %v", g, err)
	}
	// fault rules outlive the reset; clearing them on one node clears both
	if got := b.svc.Faults().List(); len(got) != 1 {
		t.Fatalf("node b's rules after the reset: %v", got)
	}
	if err := a.svc.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	eventuallyNamed(t, "node b drops the rules", func() bool { return !b.svc.Faults().Active() })
}

// TestFaultRulesSurviveSync: a rule added on a node is never taken back by
// that node's own sync of the stored rules running at the same moment (a
// sync that read the store before the change and applied it after lost the
// rule: a DELETE of it answered 404).
func TestFaultRulesSurviveSync(t *testing.T) {
	a, _ := twoStores(t)
	n := newNode(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	synced := make(chan struct{})
	go func() { // a sync as often as it can run, beside the watch's own
		defer close(synced)
		for ctx.Err() == nil {
			if err := n.svc.SyncControls(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("sync: %v", err)
				return
			}
		}
	}()
	for i := range 60 {
		r, err := n.svc.AddFault(ctx, service.FaultRule{Path: "/nothing", Action: service.FaultDrop})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.svc.RemoveFault(ctx, r.ID); err != nil {
			t.Fatalf("rule %d, removed right after it was added: %v", i, err)
		}
	}
	cancel()
	<-synced
}
