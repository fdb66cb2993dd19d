package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// appendEvents writes evs through an update of g that changes nothing else.
func appendEvents(t testing.TB, st ding.Store, g *ding.Group, evs ...ding.Event) {
	t.Helper()
	_, err := st.UpdateGroup(ctx(), g.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		return &ding.GroupChange{Group: s.Group, Events: evs}, nil
	})
	noErr(t, err, "UpdateGroup(events)")
}

func testEventSeqPerCorp(t *testing.T, st ding.Store) {
	seed(t, st)
	ga := testGroup(corpA, "chatseqa01", "cidseqa01", "A群")
	gb := testGroup(corpB, "chatseqb01", "cidseqb01", "B群")
	gb.Owner = "zhaoliu"
	createGroup(t, st, ga, []ding.Member{emp("manager4220", ding.RoleOwner, t0)},
		[]ding.Event{groupEvent(ga, ding.EventChatCreate, `{"i":"a1"}`, t0), groupEvent(ga, ding.EventChatAddMember, `{"i":"a2"}`, t0)})
	createGroup(t, st, gb, []ding.Member{emp("zhaoliu", ding.RoleOwner, t0)},
		[]ding.Event{groupEvent(gb, ding.EventChatCreate, `{"i":"b1"}`, t0)})
	appendEvents(t, st, ga, groupEvent(ga, ding.EventChatUpdateTitle, `{"i":"a3"}`, t0+1))
	appendEvents(t, st, gb, groupEvent(gb, ding.EventChatUpdateTitle, `{"i":"b2"}`, t0+1), groupEvent(gb, ding.EventChatUpdateOwner, `{"i":"b3"}`, t0+1))
	appendEvents(t, st, ga, groupEvent(ga, ding.EventChatRemoveMember, `{"i":"a4"}`, t0+2))

	for corp, want := range map[string][]string{corpA: {"a1", "a2", "a3", "a4"}, corpB: {"b1", "b2", "b3"}} {
		evs := events(t, st, corp)
		wantGapFree(t, evs, corp)
		if got, want := len(evs), len(want); got != want {
			t.Fatalf("len(events %s) = %d, want %d", corp, got, want)
		}
		for i, e := range evs {
			if got, want := e.CorpID, corp; got != want {
				t.Fatalf("event %d CorpID = %q, want %q", i, got, want)
			}
			jsonEqual(t, e.Data, []byte(`{"i":"`+want[i]+`"}`), fmt.Sprintf("%s event %d", corp, i))
		}
	}
	none, err := st.Events(ctx(), "dingnosuchcorp", 0, 10)
	noErr(t, err, "Events(unknown corp)")
	if got, want := len(none), 0; got != want {
		t.Fatalf("len(Events(unknown corp)) = %d, want %d", got, want)
	}
}

func testEventPaging(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chatpaging01", "cidpaging01", "分页群")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, nil)
	const n = 25
	for i := 1; i <= n; i++ {
		appendEvents(t, st, g, groupEvent(g, ding.EventChatUpdateSettings, fmt.Sprintf(`{"n":%d}`, i), t0+int64(i)))
	}
	for _, tc := range []struct {
		after    int64
		limit    int
		from, to int64 // wanted seqs, inclusive; to < from means none
	}{
		{0, 10, 1, 10},
		{10, 10, 11, 20},
		{20, 10, 21, 25},
		{25, 10, 1, 0},
		{100, 10, 1, 0},
		{0, 1, 1, 1},
		{24, 1, 25, 25},
		{3, 5, 4, 8},
		{0, 1000, 1, 25},
	} {
		evs, err := st.Events(ctx(), corpA, tc.after, tc.limit)
		noErr(t, err, "Events")
		wantLen := 0
		if tc.to >= tc.from {
			wantLen = int(tc.to - tc.from + 1)
		}
		if got, want := len(evs), wantLen; got != want {
			t.Fatalf("len(Events(after %d, limit %d)) = %d, want %d", tc.after, tc.limit, got, want)
		}
		for i, e := range evs {
			if got, want := e.Seq, tc.from+int64(i); got != want {
				t.Fatalf("Events(after %d, limit %d)[%d].Seq = %d, want %d", tc.after, tc.limit, i, got, want)
			}
			if got, want := e.CreatedAt, t0+e.Seq; got != want {
				t.Fatalf("event %d CreatedAt = %d, want %d", e.Seq, got, want)
			}
		}
	}
}

// testConcurrentUpdates runs many updates of a few groups of one corp at
// once, some of them refused by decide, while another corp writes too.
func testConcurrentUpdates(t *testing.T, st ding.Store) {
	seed(t, st)
	const (
		groups  = 4
		writers = 32
		refused = 8
	)
	gs := make([]*ding.Group, groups)
	for i := range gs {
		gs[i] = testGroup(corpA, fmt.Sprintf("chatconc%02d", i), fmt.Sprintf("cidconc%02d", i), fmt.Sprintf("并发群%d", i))
		createGroup(t, st, gs[i], []ding.Member{emp("manager4220", ding.RoleOwner, t0)},
			[]ding.Event{groupEvent(gs[i], ding.EventChatCreate, `{"w":-1}`, t0)})
	}
	gb := testGroup(corpB, "chatconcb", "cidconcb", "B并发群")
	createGroup(t, st, gb, []ding.Member{emp("zhaoliu", ding.RoleOwner, t0)}, nil)

	errRefused := errors.New("refused")
	var wg sync.WaitGroup
	errs := make(chan error, writers+refused+writers)
	for w := 0; w < writers+refused; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gs[w%groups]
			_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
				ng := s.Group
				ng.UpdatedAt++ // counts applied updates: a lost update shows here
				ch := &ding.GroupChange{
					Group: ng,
					Add:   []ding.Member{emp(fmt.Sprintf("w%02d", w), ding.RoleMember, t0+int64(w))},
					Events: []ding.Event{
						groupEvent(g, ding.EventChatAddMember, fmt.Sprintf(`{"w":%d,"k":1}`, w), t0),
						groupEvent(g, ding.EventChatUpdateSettings, fmt.Sprintf(`{"w":%d,"k":2}`, w), t0),
					},
				}
				if w >= writers {
					return ch, errRefused
				}
				return ch, nil
			})
			switch {
			case w >= writers && !errors.Is(err, errRefused):
				errs <- fmt.Errorf("refused writer %d: err = %v, want decide's error", w, err)
			case w < writers && err != nil:
				errs <- fmt.Errorf("writer %d: %v", w, err)
			}
		}()
	}
	for w := 0; w < writers; w++ { // corp B writes meanwhile
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.UpdateGroup(ctx(), corpB, gb.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
				return &ding.GroupChange{Group: s.Group, Events: []ding.Event{groupEvent(gb, ding.EventChatUpdateSettings, `{}`, t0)}}, nil
			})
			if err != nil {
				errs <- fmt.Errorf("corp B writer %d: %v", w, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	evs := events(t, st, corpA)
	if got, want := len(evs), groups+2*writers; got != want {
		t.Fatalf("len(events A) = %d, want %d", got, want)
	}
	wantGapFree(t, evs, "events A")
	seen := map[string]bool{}
	for _, e := range evs {
		var d struct{ W, K int }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("event %d data %q: %v", e.Seq, e.Data, err)
		}
		if d.W < 0 {
			continue // a creation event
		}
		key := fmt.Sprintf("%d/%d", d.W, d.K)
		if d.W >= writers || seen[key] {
			t.Fatalf("event %d (%s) is from a refused writer or repeated", e.Seq, e.Data)
		}
		seen[key] = true
	}
	evsB := events(t, st, corpB)
	if got, want := len(evsB), writers; got != want {
		t.Fatalf("len(events B) = %d, want %d", got, want)
	}
	wantGapFree(t, evsB, "events B")

	for i, g := range gs {
		want := writers / groups
		got := mustGroup(t, st, corpA, g.ChatID)
		if got, want := got.MemberCount, 1+want; got != want {
			t.Fatalf("group %d MemberCount = %d, want %d", i, got, want)
		}
		if got, want := got.UpdatedAt, g.UpdatedAt+int64(want); got != want {
			t.Fatalf("group %d UpdatedAt = %d, want %d (a lost or extra update)", i, got, want)
		}
		ms := mustMembers(t, st, g.ChatID)
		if got, want := len(ms), 1+want; got != want {
			t.Fatalf("group %d has %d members, want %d", i, got, want)
		}
		for _, m := range ms[1:] {
			var w int
			if _, err := fmt.Sscanf(m.ID, "w%d", &w); err != nil || w%groups != i || w >= writers {
				t.Fatalf("group %d has unexpected member %q", i, m.ID)
			}
		}
	}
}

// testWriteAfterClose: a closed store answers writes (with an error) rather
// than leaving the caller waiting forever; closing twice is harmless.
func testWriteAfterClose(t *testing.T, st ding.Store) {
	seed(t, st)
	noErr(t, st.Close(), "Close")
	for i := 0; i < 20; i++ {
		done := make(chan error, 1)
		go func() {
			_, err := st.IssueToken(ctx(), freshToken(fmt.Sprintf("after-close-%d", i), appA1, corpA, t0), t0)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("IssueToken %d after Close succeeded", i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("IssueToken %d after Close did not return", i)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
