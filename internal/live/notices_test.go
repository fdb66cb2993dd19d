package live_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// nodeStore is one node's store on a shared database, counting its reads
// of corps' event heads and passing the store's notices on.
type nodeStore struct {
	ding.Store
	pg     *postgres.Store
	events atomic.Int64
}

func (s *nodeStore) LatestEventSeq(ctx context.Context, corpID string) (int64, error) {
	s.events.Add(1)
	return s.Store.LatestEventSeq(ctx, corpID)
}

func (s *nodeStore) AnnounceHeads(ctx context.Context, heads map[string]int64, corps []string) error {
	return s.pg.AnnounceHeads(ctx, heads, corps)
}

func (s *nodeStore) ListenHeads(ctx context.Context, listening func(), heard func(map[string]int64, []string)) error {
	return s.pg.ListenHeads(ctx, listening, heard)
}

// toldNodeStore also passes on the store's word of this node's events.
type toldNodeStore struct{ *nodeStore }

func (s toldNodeStore) OnEvents(f func([]string)) { s.pg.OnEvents(f) }

// On a store shared by nodes, while the notices are heard, a corp's event
// head is read when a node's notice says its log moved, not at every
// poll; an event another node commits still arrives at once (the sweep is
// an hour away), and so does one committed on a path no hub observes.
func TestOtherNodesEventsAreAnnounced(t *testing.T) {
	url, a, b := dingtest.PostgresNodes(t)
	ctx := context.Background()
	// node B: its own hub announces what its store commits
	hubB := live.New(b, live.Config{Poll: 5 * time.Millisecond, Sweep: time.Hour})
	runB, stopB := context.WithCancel(ctx)
	ranB := make(chan struct{})
	go func() { hubB.Run(runB); close(ranB) }()
	defer func() { stopB(); <-ranB }()
	svcB, app, g := groupOn(t, live.Observe(b, hubB), "跨节点事件")
	unobserved := service.New(b, nil, nil)

	for i, told := range []bool{false, true} {
		ns := &nodeStore{Store: a, pg: a}
		var hs ding.Store = ns
		if told {
			hs = toldNodeStore{ns}
		}
		hubA, c, stop := watchedHub(t, hs, g.ChatID)
		for deadline := time.Now().Add(5 * time.Second); !hubA.Hearing() || !hubB.Hearing(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the hubs never heard the store's notices")
			}
		}
		before := ns.events.Load()
		time.Sleep(300 * time.Millisecond) // 60 polls
		n := ns.events.Load() - before
		if told && n > 2 {
			t.Errorf("told: %d reads of the corp's event head in 60 polls with nothing committed", n)
		}
		if !told && n < 20 {
			t.Errorf("not told: %d reads of the corp's event head in 60 polls; the poll is what finds other nodes' events", n)
		}
		for j, svc := range []*service.Service{svcB, unobserved} {
			name := []string{"改名一", "改名二", "改名三", "改名四"}[2*i+j]
			if _, err := svc.UpdateGroup(ctx, app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
				t.Fatal(err)
			}
			if got, ok := framesUntil(c, name, 2*time.Second); !ok {
				t.Errorf("told=%v: the rename on node B (observed %v) did not reach node A within 2 s: %q", told, j == 0, got)
			}
		}
		if told {
			// the notices lost: the corp's head is polled again until they
			// are heard once more (a second later)
			dingtest.DropListeners(t, url)
			for deadline := time.Now().Add(5 * time.Second); hubA.Hearing(); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("node A still hears after its listener was dropped")
				}
			}
			before := ns.events.Load()
			time.Sleep(200 * time.Millisecond)
			if n := ns.events.Load() - before; n < 10 && !hubA.Hearing() {
				t.Errorf("not hearing: %d reads of the corp's event head in 40 polls", n)
			}
		}
		c.Close()
		stop()
	}
}
