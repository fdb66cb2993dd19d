package storetest

import (
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

func testSub(corp, key string) *ding.Subscription {
	return &ding.Subscription{ID: ding.SubscriptionID(ding.SubRegister, key), Kind: ding.SubRegister, Key: key, CorpID: corp,
		OwnerKey: corp, Types: []string{ding.EventChatQuit}, Token: "token1", AESKey: "k", URL: "http://127.0.0.1/cb", CreatedAt: t0, UpdatedAt: t0}
}

// A new subscription starts after the corp's newest event; saving it again
// keeps its place; deleting it takes its cursor and failed results along.
func testSubscriptionCursor(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chatsub0001", "cidsub0001", "订阅群")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0)},
		[]ding.Event{groupEvent(g, ding.EventChatCreate, `{}`, t0), groupEvent(g, ding.EventChatAddMember, `{}`, t0)})
	head, err := st.LatestEventSeq(ctx(), corpA)
	noErr(t, err, "LatestEventSeq")
	if head != 2 {
		t.Fatalf("LatestEventSeq = %d, want 2", head)
	}
	if n, err := st.LatestEventSeq(ctx(), "dingnoeventscorp"); err != nil || n != 0 {
		t.Fatalf("LatestEventSeq(no events) = %d, %v", n, err)
	}
	sub := testSub(corpA, appA1)
	noErr(t, st.SaveSubscription(ctx(), sub), "SaveSubscription")
	cs, err := st.Cursors(ctx(), "http:")
	noErr(t, err, "Cursors")
	if len(cs) != 1 || cs[0].Seq != 2 || cs[0].CorpID != corpA || cs[0].Consumer != "http:"+sub.ID {
		t.Fatalf("cursors = %+v, want one at seq 2", cs)
	}
	appendEvents(t, st, g, groupEvent(g, ding.EventChatQuit, `{}`, t0+1))
	// a lease, progress, then a second save of the subscription
	c, ok, err := st.LeaseCursor(ctx(), cs[0].Consumer, corpA, "node-a", t0, t0+1000)
	if err != nil || !ok {
		t.Fatalf("LeaseCursor = %v, %v", ok, err)
	}
	noErr(t, st.SaveProgress(ctx(), &ding.Progress{Consumer: c.Consumer, CorpID: corpA, Owner: "node-a", Seq: 3, LeaseUntil: t0 + 1000,
		Deliveries: []ding.Delivery{{Consumer: c.Consumer, CorpID: corpA, Seq: 3, EventType: ding.EventChatQuit, Attempt: 1, At: t0, Status: 200, Outcome: ding.DeliveryOK, Payload: `{"a":1}`}},
		Failed:     []ding.FailedEvent{{SubID: sub.ID, CorpID: corpA, Seq: 3, Type: ding.EventChatQuit, EventTime: t0, Payload: `{}`}}}), "SaveProgress")
	sub.URL = "http://127.0.0.1/other"
	noErr(t, st.SaveSubscription(ctx(), sub), "SaveSubscription again")
	got, err := st.Subscription(ctx(), sub.ID)
	noErr(t, err, "Subscription")
	if got.URL != sub.URL || len(got.Types) != 1 || got.Types[0] != ding.EventChatQuit {
		t.Fatalf("Subscription = %+v", got)
	}
	cs, _ = st.Cursors(ctx(), "http:")
	if len(cs) != 1 || cs[0].Seq != 3 {
		t.Fatalf("after a second save cursors = %+v, want seq 3 kept", cs)
	}
	ds, err := st.Deliveries(ctx(), ding.DeliveryFilter{CorpID: corpA, Seq: 3, Limit: 10})
	noErr(t, err, "Deliveries")
	if len(ds) != 1 || ds[0].Payload != `{"a":1}` || ds[0].Status != 200 || ds[0].ID == 0 {
		t.Fatalf("Deliveries = %+v", ds)
	}
	noErr(t, st.DeleteSubscription(ctx(), sub.ID), "DeleteSubscription")
	if _, err := st.Subscription(ctx(), sub.ID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("Subscription after delete: %v, want NotFound", err)
	}
	if err := st.DeleteSubscription(ctx(), sub.ID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
	if cs, _ := st.Cursors(ctx(), "http:"); len(cs) != 0 {
		t.Fatalf("cursors after delete = %+v", cs)
	}
	if fs, _, _ := st.TakeFailedEvents(ctx(), sub.ID, 10); len(fs) != 0 {
		t.Fatalf("failed results after delete = %+v", fs)
	}
}

// One owner at a time holds a cursor; progress from a node that lost its
// lease is refused and changes nothing.
func testCursorLease(t *testing.T, st ding.Store) {
	seed(t, st)
	sub := testSub(corpA, appA1)
	noErr(t, st.SaveSubscription(ctx(), sub), "SaveSubscription")
	consumer := "http:" + sub.ID
	if _, ok, err := st.LeaseCursor(ctx(), consumer, corpA, "a", t0, t0+100); err != nil || !ok {
		t.Fatalf("a's lease: %v %v", ok, err)
	}
	if _, ok, err := st.LeaseCursor(ctx(), consumer, corpA, "b", t0+50, t0+150); err != nil || ok {
		t.Fatalf("b took a live lease: %v %v", ok, err)
	}
	if _, ok, _ := st.LeaseCursor(ctx(), consumer, corpA, "a", t0+50, t0+150); !ok {
		t.Fatal("a could not renew its own lease")
	}
	// a's lease runs out at t0+150; b takes it at t0+151
	if _, ok, _ := st.LeaseCursor(ctx(), consumer, corpA, "b", t0+151, t0+300); !ok {
		t.Fatal("b could not take an expired lease")
	}
	err := st.SaveProgress(ctx(), &ding.Progress{Consumer: consumer, CorpID: corpA, Owner: "a", Seq: 99,
		Deliveries: []ding.Delivery{{Consumer: consumer, CorpID: corpA, Seq: 99, Outcome: ding.DeliveryOK}}})
	if !ding.IsKind(err, ding.Conflict) {
		t.Fatalf("progress of a lost lease: %v, want Conflict", err)
	}
	cs, _ := st.Cursors(ctx(), consumer)
	if cs[0].Seq == 99 || cs[0].LeaseOwner != "b" {
		t.Fatalf("a lost lease changed the cursor: %+v", cs[0])
	}
	if ds, _ := st.Deliveries(ctx(), ding.DeliveryFilter{Consumer: consumer, Limit: 10}); len(ds) != 0 {
		t.Fatalf("a lost lease recorded attempts: %+v", ds)
	}
	noErr(t, st.ReleaseCursor(ctx(), consumer, corpA, "a"), "release by a non-owner")
	if cs, _ := st.Cursors(ctx(), consumer); cs[0].LeaseOwner != "b" {
		t.Fatal("a non-owner released b's lease")
	}
	noErr(t, st.ReleaseCursor(ctx(), consumer, corpA, "b"), "ReleaseCursor")
	// many nodes racing for a free lease: exactly one wins
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, ok, err := st.LeaseCursor(ctx(), consumer, corpA, string(rune('p'+i)), t0+400, t0+500)
			if err == nil && ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d nodes won one lease", wins)
	}
}

// Failed results come out oldest first, at most limit a call, each once.
func testFailedEventsDrain(t *testing.T, st ding.Store) {
	seed(t, st)
	sub := testSub(corpA, appA1)
	noErr(t, st.SaveSubscription(ctx(), sub), "SaveSubscription")
	consumer := "http:" + sub.ID
	st.LeaseCursor(ctx(), consumer, corpA, "a", t0, t0+100)
	var fs []ding.FailedEvent
	for i := 5; i >= 1; i-- {
		fs = append(fs, ding.FailedEvent{SubID: sub.ID, CorpID: corpA, Seq: int64(i), Type: ding.EventChatQuit, EventTime: t0 + int64(i), Payload: `{}`})
	}
	noErr(t, st.SaveProgress(ctx(), &ding.Progress{Consumer: consumer, CorpID: corpA, Owner: "a", Failed: fs}), "SaveProgress")
	got, more, err := st.TakeFailedEvents(ctx(), sub.ID, 3)
	noErr(t, err, "TakeFailedEvents")
	if len(got) != 3 || !more || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Fatalf("first take = %+v more %v", got, more)
	}
	got, more, _ = st.TakeFailedEvents(ctx(), sub.ID, 3)
	if len(got) != 2 || more || got[0].Seq != 4 {
		t.Fatalf("second take = %+v more %v", got, more)
	}
	if got, more, _ = st.TakeFailedEvents(ctx(), sub.ID, 3); len(got) != 0 || more {
		t.Fatalf("third take = %+v more %v", got, more)
	}
}

// A suite's push hears every corp that authorised the suite from the
// moment it is saved, and a corp authorising later from its
// authorisation, before any dispatcher has looked: events in between are
// delivered, not skipped.
func testSuitePushCursors(t *testing.T, st ding.Store) {
	const suite = "suitecursors"
	a := orgA()
	a.Suites = []ding.Suite{{Key: suite, Secret: "suite-cursor-secret", Name: "游标套件", CreatedAt: t0}}
	a.SuiteAuths = []ding.SuiteAuth{{SuiteKey: suite, CorpID: corpA, PermanentCode: "pc-a", AgentID: 9001, CreatedAt: t0}}
	seed(t, st, a, orgB())
	g := testGroup(corpA, "chatsuitecur1", "cidsuitecur1", "套件游标群")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, []ding.Event{groupEvent(g, ding.EventChatCreate, `{}`, t0)})
	sub := &ding.Subscription{ID: ding.SubscriptionID(ding.SubSuitePush, suite), Kind: ding.SubSuitePush, Key: suite,
		Token: "token1", AESKey: "k", URL: "http://127.0.0.1/suite", CreatedAt: t0, UpdatedAt: t0}
	noErr(t, st.SaveSubscription(ctx(), sub), "SaveSubscription")
	cs, err := st.Cursors(ctx(), "http:"+sub.ID)
	noErr(t, err, "Cursors")
	if len(cs) != 1 || cs[0].CorpID != corpA || cs[0].Seq != 1 {
		t.Fatalf("suite push cursors = %+v, want corp A's at seq 1", cs)
	}
	gb := testGroup(corpB, "chatsuitecur2", "cidsuitecur2", "乙方群")
	createGroup(t, st, gb, []ding.Member{emp("zhaoliu", ding.RoleOwner, t0)}, []ding.Event{groupEvent(gb, ding.EventChatCreate, `{}`, t0)})
	b := orgB()
	b.SuiteAuths = []ding.SuiteAuth{{SuiteKey: suite, CorpID: corpB, PermanentCode: "pc-b", AgentID: 9002, CreatedAt: t0 + 1}}
	noErr(t, st.ApplyOrg(ctx(), b), "ApplyOrg authorising")
	cs, _ = st.Cursors(ctx(), "http:"+sub.ID)
	if len(cs) != 2 || cs[1].CorpID != corpB || cs[1].Seq != 1 {
		t.Fatalf("after corp B authorised: cursors = %+v, want corp B's at its head, seq 1", cs)
	}
	// applying the organisation again keeps the cursors where they are
	appendEvents(t, st, gb, groupEvent(gb, ding.EventChatQuit, `{}`, t0+2))
	noErr(t, st.ApplyOrg(ctx(), b), "ApplyOrg again")
	if cs, _ = st.Cursors(ctx(), "http:"+sub.ID); cs[1].Seq != 1 {
		t.Fatalf("after a second apply: cursors = %+v, want corp B's kept at seq 1", cs)
	}
}
