package events

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

// recorder is a Pusher whose pushes take a fixed time and are recorded.
type recorder struct {
	took     time.Duration
	mu       sync.Mutex
	starts   []time.Time
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func (r *recorder) Payload(_ *ding.Subscription, ev *ding.Event, _ map[string]any, _ string) []byte {
	return []byte(fmt.Sprint(ev.Seq))
}

func (r *recorder) Push(ctx context.Context, _ *ding.Subscription, _ []byte) ding.PushResult {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for m := r.maxIn.Load(); n > m && !r.maxIn.CompareAndSwap(m, n); m = r.maxIn.Load() {
	}
	r.mu.Lock()
	r.starts = append(r.starts, time.Now())
	r.mu.Unlock()
	time.Sleep(r.took)
	return ding.PushResult{Status: 200}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.starts)
}

// paceEnv is a store with subs subscriptions of one corp and a dispatcher
// pushing to r; events(n) commits n events.
func paceEnv(t *testing.T, subs int, r *recorder, calls *ding.Calls) (*Dispatcher, func(n int)) {
	t.Helper()
	st := dingtest.OpenStore(t)
	dingtest.Seed(t, st)
	ctx := context.Background()
	for i := range subs {
		key := fmt.Sprintf("pace-app-%d", i)
		if err := st.SaveSubscription(ctx, &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, key), Kind: ding.SubAppPush,
			Key: key, CorpID: dingtest.CorpID, OwnerKey: key, Token: "tok", AESKey: "aes", URL: "http://127.0.0.1:9/"}); err != nil {
			t.Fatal(err)
		}
	}
	d := New(st, r, nil, Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond, Calls: calls})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	next := 0
	return d, func(n int) {
		for range n {
			next++
			chat := fmt.Sprintf("chat%032x", next)
			now := time.Now().UnixMilli()
			g := &ding.Group{ChatID: chat, OpenConversationID: fmt.Sprintf("cid%d", next), CorpID: dingtest.CorpID, Name: "g",
				Owner: "manager4220", OwnerType: ding.OwnerEmp, Status: ding.StatusNormal, CreatedAt: now, UpdatedAt: now}
			ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatUpdateTitle, ChatID: chat, Operator: "manager4220",
				Data: []byte(`{"title":"g"}`), CreatedAt: now}
			if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}, []ding.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func waitPushes(t *testing.T, r *recorder, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pushes after 20 s", r.count(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// While the node is busy, pushes go one at a time and use at most
// BusyShare of the time; when it is not, subscriptions are pushed side by
// side at full speed.
func TestDeliveriesGiveWayWhileBusy(t *testing.T) {
	r := &recorder{took: 4 * time.Millisecond}
	d, commit := paceEnv(t, 4, r, nil)
	d.busy.Store(true)
	commit(5)
	waitPushes(t, r, 20)
	if m := r.maxIn.Load(); m != 1 {
		t.Errorf("busy: %d pushes at once, want 1", m)
	}
	r.mu.Lock()
	starts := append([]time.Time(nil), r.starts...)
	r.mu.Unlock()
	// 20 pushes of 4 ms at a tenth of the time: each start 36 ms after the
	// previous push ended, so ≥ 19 × 40 ms in all
	if span := starts[len(starts)-1].Sub(starts[0]); span < 19*40*time.Millisecond*9/10 {
		t.Errorf("busy: 20 pushes took %v, want ≥ %v (a tenth of the time)", span, 19*40*time.Millisecond*9/10)
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 30*time.Millisecond {
			t.Errorf("busy: push %d started %v after the previous one, want ≥ 36 ms", i, gap)
			break
		}
	}

	d.busy.Store(false)
	r.maxIn.Store(0)
	begin := time.Now()
	commit(25)
	waitPushes(t, r, 120)
	if m := r.maxIn.Load(); m < 2 {
		t.Errorf("not busy: at most %d push at once, want the subscriptions side by side", m)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("not busy: 100 pushes took %v", took) // 25 × 4 ms each per subscription, in parallel
	}
}

// The node is busy only while API calls are in flight and goroutines wait
// for a CPU; either alone is not busy.
func TestBusyNeedsCallsAndWaitingGoroutines(t *testing.T) {
	calls := &ding.Calls{}
	d, _ := paceEnv(t, 0, &recorder{}, calls)
	stop := make(chan struct{})
	var spin sync.WaitGroup
	load := func() {
		for range 4 * runtime.GOMAXPROCS(0) {
			spin.Add(1)
			go func() {
				defer spin.Done()
				for {
					select {
					case <-stop:
						return
					default:
						runtime.Gosched()
					}
				}
			}()
		}
	}
	becomes := func(want bool, within time.Duration) bool {
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			if d.busy.Load() == want {
				return true
			}
			time.Sleep(5 * time.Millisecond)
		}
		return false
	}
	calls.Begin()
	time.Sleep(100 * time.Millisecond) // the sampler has seen the call
	// other processes (the tests of other packages) may keep this one's
	// goroutines waiting for a moment: the node must fall idle, not stay so
	if !becomes(false, 3*time.Second) {
		t.Error("busy with a call in flight and none of this test's load")
	}
	load()
	if !becomes(true, 2*time.Second) {
		t.Error("not busy with a call in flight and the CPU saturated")
	}
	calls.End()
	if !becomes(false, time.Second) {
		t.Error("still busy with no call in flight")
	}
	close(stop)
	spin.Wait()
}
