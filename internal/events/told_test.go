package events

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

// readCountingStore counts reads of corps' event heads and hides what the
// store tells.
type readCountingStore struct {
	ding.Store
	reads atomic.Int64
}

func (s *readCountingStore) LatestEventSeq(ctx context.Context, corpID string) (int64, error) {
	s.reads.Add(1)
	return s.Store.LatestEventSeq(ctx, corpID)
}

// headCountingStore also passes on the store's word of which event logs
// moved, as a store only this process writes.
type headCountingStore struct{ readCountingStore }

func (s *headCountingStore) SoleWriter() bool { return true }

func (s *headCountingStore) OnEvents(f func([]string)) { s.Store.(ding.EventNotifier).OnEvents(f) }

// On a store that tells which event logs moved, an idle dispatcher reads
// no heads, and an event committed behind its back (not poked) is pushed
// at once, long before the sweep.
func TestToldDispatcherReadsHeadsWhenTheyMove(t *testing.T) {
	ctx := context.Background()
	st := dingtest.OpenStore(t)
	if _, ok := st.(ding.EventNotifier); !ok {
		t.Skip("the store does not tell which event logs moved: heads are polled")
	}
	dingtest.Seed(t, st)
	if err := st.SaveSubscription(ctx, &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, "told-app"), Kind: ding.SubAppPush,
		Key: "told-app", CorpID: dingtest.CorpID, OwnerKey: "told-app", Token: "tok", AESKey: "aes", URL: "http://127.0.0.1:9/"}); err != nil {
		t.Fatal(err)
	}
	cs := &headCountingStore{readCountingStore{Store: st}}
	r := &recorder{}
	d := New(cs, r, nil, Config{Poll: time.Hour, Refresh: 20 * time.Millisecond})
	if !d.told {
		t.Fatal("the dispatcher was not told by a store that tells")
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(rctx) }()
	defer func() { cancel(); <-done }()

	time.Sleep(200 * time.Millisecond) // the worker starts and reads its corp's head
	before := cs.reads.Load()
	time.Sleep(300 * time.Millisecond)
	if n := cs.reads.Load() - before; n > 0 {
		t.Errorf("%d reads of an unmoved head in 300 ms", n)
	}
	now := time.Now().UnixMilli()
	g := &ding.Group{ChatID: "chat000000000000000000000000000told", OpenConversationID: "cidtold", CorpID: dingtest.CorpID, Name: "g",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, Status: ding.StatusNormal, CreatedAt: now, UpdatedAt: now}
	ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatUpdateTitle, ChatID: g.ChatID, Operator: "manager4220", Data: []byte(`{"title":"g"}`), CreatedAt: now}
	start := time.Now()
	if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}, []ding.Event{ev}); err != nil {
		t.Fatal(err)
	}
	for r.count() < 1 {
		if time.Since(start) > sweepEvery/2 {
			t.Fatalf("no push %v after the commit; the sweep is every %v", time.Since(start), sweepEvery)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// With no call in flight the load sampler wakes every quietSample; a call
// brings it back to every loadSample, and its end lets it rest again.
func TestLoadSamplerRestsWhileQuiet(t *testing.T) {
	calls := &ding.Calls{}
	d, _ := paceEnv(t, 0, &recorder{}, calls)
	rate := func(over time.Duration) float64 {
		n := d.samples.Load()
		time.Sleep(over)
		return float64(d.samples.Load()-n) / over.Seconds()
	}
	time.Sleep(50 * time.Millisecond)
	if r := rate(500 * time.Millisecond); r > 3/quietSample.Seconds() {
		t.Errorf("quiet: %.0f samples a second, want about %.0f", r, 1/quietSample.Seconds())
	}
	calls.Begin()
	time.Sleep(quietSample + 20*time.Millisecond) // the quiet sample that sees the call
	if r := rate(300 * time.Millisecond); r < 0.3/loadSample.Seconds() {
		t.Errorf("a call in flight: %.0f samples a second, want about %.0f", r, 1/loadSample.Seconds())
	}
	calls.End()
	time.Sleep(100 * time.Millisecond)
	if r := rate(500 * time.Millisecond); r > 3/quietSample.Seconds() {
		t.Errorf("after the call: %.0f samples a second, want about %.0f", r, 1/quietSample.Seconds())
	}
}

// plainStore hides what a store tells: its dispatcher polls.
type plainStore struct{ ding.Store }

// A dispatcher that polls stops while no worker waits on a corp, and
// polls again for the first one that does: an event committed behind its
// back after a quiet start is pushed.
func TestPollingResumesForFirstWorker(t *testing.T) {
	ctx := context.Background()
	st := dingtest.OpenStore(t)
	dingtest.Seed(t, st)
	r := &recorder{}
	d := New(plainStore{st}, r, nil, Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(rctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond) // no subscription: the poll stops
	if d.waitedOn() {
		t.Fatal("a corp's head is followed with no subscription")
	}
	if err := st.SaveSubscription(ctx, &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, "late-app"), Kind: ding.SubAppPush,
		Key: "late-app", CorpID: dingtest.CorpID, OwnerKey: "late-app", Token: "tok", AESKey: "aes", URL: "http://127.0.0.1:9/"}); err != nil {
		t.Fatal(err)
	}
	d.Refresh()
	for !d.waitedOn() {
		time.Sleep(2 * time.Millisecond)
	}
	now := time.Now().UnixMilli()
	g := &ding.Group{ChatID: "chat0000000000000000000000000000late", OpenConversationID: "cidlate", CorpID: dingtest.CorpID, Name: "g",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, Status: ding.StatusNormal, CreatedAt: now, UpdatedAt: now}
	ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatUpdateTitle, ChatID: g.ChatID, Operator: "manager4220", Data: []byte(`{"title":"g"}`), CreatedAt: now}
	if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}, []ding.Event{ev}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for r.count() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no push 2 s after the commit: the poll did not resume")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
