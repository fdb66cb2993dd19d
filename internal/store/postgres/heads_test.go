package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// Head notices reach every node of the schema, however many groups and
// corps one names (several payloads), and never another schema.
func TestHeadNotices(t *testing.T) {
	url := dingtest.PostgresSchema(t, 4)
	open := func(url string) *postgres.Store {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b, other := open(url), open(url), open(dingtest.PostgresSchema(t, 2))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type notice struct {
		heads map[string]int64
		corps []string
	}
	listen := func(st *postgres.Store) (chan notice, chan error) {
		heard, ready, done := make(chan notice, 100), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- st.ListenHeads(ctx, func() { close(ready) }, func(h map[string]int64, c []string) { heard <- notice{h, c} })
		}()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("ListenHeads: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("never listening")
		}
		return heard, done
	}
	heardB, doneB := listen(b)
	heardOther, _ := listen(other)

	want := map[string]int64{}
	for i := range 500 { // about 20 KB of lines: three payloads
		want[fmt.Sprintf("chat%032x", i)] = int64(i + 1)
	}
	var corps []string
	for i := range 600 { // about 10 KB: two payloads of their own
		corps = append(corps, fmt.Sprintf("dingcorp%08d", i))
	}
	// a corp named like the payloads' first line is a corp all the same
	corps = append(corps, "events")
	if err := a.AnnounceHeads(ctx, want, corps); err != nil {
		t.Fatal(err)
	}
	got, gotCorps := map[string]int64{}, map[string]bool{}
	for len(got) < len(want) || len(gotCorps) < len(corps) {
		select {
		case n := <-heardB:
			if len(n.heads) > 0 && len(n.corps) > 0 {
				t.Fatalf("one payload carried %d heads and %d corps: a node of an earlier version would drop the heads", len(n.heads), len(n.corps))
			}
			for id, seq := range n.heads {
				got[id] = seq
			}
			for _, c := range n.corps {
				gotCorps[c] = true
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("heard %d of %d heads and %d of %d corps", len(got), len(want), len(gotCorps), len(corps))
		}
	}
	for _, c := range corps {
		if !gotCorps[c] {
			t.Fatalf("corp %s not heard", c)
		}
	}
	// an id that would break the lines is left to the sweep, alone or not
	if err := a.AnnounceHeads(ctx, nil, []string{"bad corp", "bad\ncorp", ""}); err != nil {
		t.Fatal(err)
	}
	if err := a.AnnounceHeads(ctx, nil, []string{"bad corp", "dingcorpafter"}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-heardB:
		if len(n.corps) != 1 || n.corps[0] != "dingcorpafter" || len(n.heads) != 0 {
			t.Fatalf("heard %v and %v, want dingcorpafter alone", n.heads, n.corps)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the good corp beside a bad one was not heard")
	}
	for id, seq := range want {
		if got[id] != seq {
			t.Fatalf("head of %s = %d, want %d", id, got[id], seq)
		}
	}
	select {
	case n := <-heardOther:
		t.Fatalf("another schema heard %d heads and %d corps", len(n.heads), len(n.corps))
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-doneB; err == nil {
		t.Fatal("ListenHeads ended without an error")
	}
}
