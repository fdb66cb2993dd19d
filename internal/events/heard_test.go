package events

import (
	"context"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// On a store shared by nodes, while the live hub hears the notices, the
// dispatcher reads a corp's head when an event commits, on this node or
// another, not every Poll; a push follows another node's event at once
// (the sweep is sweepEvery away), even one no hub observed; and with the
// notices lost it polls again.
func TestHeardDispatcherReadsHeadsWhenTheyMove(t *testing.T) {
	url, a, b := dingtest.PostgresNodes(t)
	ctx := context.Background()
	if err := a.SaveSubscription(ctx, &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, "heard-app"), Kind: ding.SubAppPush,
		Key: "heard-app", CorpID: dingtest.CorpID, OwnerKey: "heard-app", Token: "tok", AESKey: "aes", URL: "http://127.0.0.1:9/"}); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var running []chan struct{}
	defer func() {
		cancel()
		for _, r := range running {
			<-r
		}
	}()
	run := func(f func(context.Context)) {
		done := make(chan struct{})
		running = append(running, done)
		go func() { defer close(done); f(rctx) }()
	}
	hubB := live.New(b, live.Config{})
	run(hubB.Run)

	cs := &readCountingStore{Store: a}
	r := &recorder{}
	var d *Dispatcher
	hubA := live.New(a, live.Config{OnEvents: func() { d.Poke() }, OnHeard: func() { d.Heard() }})
	d = New(cs, r, nil, Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond, Told: hubA.TellsEvents})
	run(hubA.Run)
	run(d.Run)
	for deadline := time.Now().Add(5 * time.Second); !hubA.TellsEvents() || !hubB.TellsEvents(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the hubs never heard the store's notices")
		}
	}
	time.Sleep(100 * time.Millisecond) // the worker starts and reads its corp's head
	before := cs.reads.Load()
	time.Sleep(300 * time.Millisecond)
	if n := cs.reads.Load() - before; n > 1 {
		t.Errorf("%d reads of an unmoved head in 300 ms (Poll 5 ms)", n)
	}

	pushed := func(what string, want int) {
		t.Helper()
		start := time.Now()
		for r.count() < want {
			if time.Since(start) > sweepEvery/2 {
				t.Fatalf("%s: no push %v after the commit; the sweep is every %v", what, time.Since(start), sweepEvery)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	now := time.Now().UnixMilli()
	for i, st := range []*postgres.Store{b, a} { // another node's event, then this node's
		g := &ding.Group{ChatID: "chat00000000000000000000000000heard" + string(rune('a'+i)), OpenConversationID: "cidheard" + string(rune('a'+i)),
			CorpID: dingtest.CorpID, Name: "g", Owner: "manager4220", OwnerType: ding.OwnerEmp, Status: ding.StatusNormal, CreatedAt: now, UpdatedAt: now}
		ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatUpdateTitle, ChatID: g.ChatID, Operator: "manager4220", Data: []byte(`{"title":"g"}`), CreatedAt: now}
		if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}, []ding.Event{ev}); err != nil {
			t.Fatal(err)
		}
		pushed([]string{"another node's event", "this node's event"}[i], i+1)
	}

	// the notices lost: the dispatcher polls again until they are heard
	dingtest.DropListeners(t, url)
	for deadline := time.Now().Add(5 * time.Second); hubA.TellsEvents(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("hub A still hears after its listener was dropped")
		}
	}
	before = cs.reads.Load()
	time.Sleep(200 * time.Millisecond)
	if n := cs.reads.Load() - before; n < 10 && !hubA.TellsEvents() {
		t.Errorf("not hearing: %d reads of the corp's head in 40 polls", n)
	}
}
