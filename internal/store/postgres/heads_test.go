package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// Head notices reach every node of the schema, however many groups one
// names (several payloads), and never another schema.
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
	listen := func(st *postgres.Store) (chan map[string]int64, chan error) {
		heard, ready, done := make(chan map[string]int64, 100), make(chan struct{}), make(chan error, 1)
		go func() { done <- st.ListenHeads(ctx, func() { close(ready) }, func(h map[string]int64) { heard <- h }) }()
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
	if err := a.AnnounceHeads(ctx, want); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for len(got) < len(want) {
		select {
		case h := <-heardB:
			for id, seq := range h {
				got[id] = seq
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("heard %d of %d heads", len(got), len(want))
		}
	}
	for id, seq := range want {
		if got[id] != seq {
			t.Fatalf("head of %s = %d, want %d", id, got[id], seq)
		}
	}
	select {
	case h := <-heardOther:
		t.Fatalf("another schema heard %d heads", len(h))
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-doneB; err == nil {
		t.Fatal("ListenHeads ended without an error")
	}
}
