package live_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// countingStore counts reads of watched groups' heads.
type countingStore struct {
	ding.Store
	sole  bool
	heads atomic.Int64
}

func (s *countingStore) LastSeqs(ctx context.Context, ids []string) (map[string]int64, error) {
	s.heads.Add(1)
	return s.Store.LastSeqs(ctx, ids)
}

func (s *countingStore) SoleWriter() bool { return s.sole }

// groupOn creates a group of manager4220 and zhangsan through a service
// on st that no hub observes, and returns the service and its caller.
func groupOn(t *testing.T, st ding.Store, name string) (*service.Service, *service.Caller, *ding.Group) {
	t.Helper()
	ctx := context.Background()
	svc := service.New(st, nil, nil)
	tok, err := svc.IssueToken(ctx, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	app, err := svc.Authenticate(ctx, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateGroup(ctx, app, service.CreateGroupInput{Name: name, Owner: "manager4220", UserIDs: []string{"manager4220", "zhangsan"}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, app, g
}

// watchedHub runs a hub on st that polls every 5 ms and sweeps every hour,
// with an operator's client watching chatID and its corp; stop ends the hub.
func watchedHub(t *testing.T, st ding.Store, chatID string) (*live.Hub, *live.Client, func()) {
	t.Helper()
	ctx := context.Background()
	hub := live.New(st, live.Config{Poll: 5 * time.Millisecond, Sweep: time.Hour})
	run, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { hub.Run(run); close(ran) }()
	c, _, err := hub.Watch(ctx, dingtest.CorpID, []string{chatID}, live.Resume{})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	return hub, c, func() { stop(); <-ran }
}

// On a store only this process writes, each commit reaches the hub through
// Observe: the heads of watched groups are not polled, and messages still
// arrive at once.
func TestSoleWriterPollsNoHeads(t *testing.T) {
	ctx := context.Background()
	st := servertest.OpenStore(t)
	if _, ok := st.(ding.HeadNotices); ok {
		t.Skip("a store shared by nodes: heads come from its notices (TestHeadNotices)")
	}
	_, app, g := groupOn(t, st, "不轮询群")

	for _, sole := range []bool{false, true} {
		cs := &countingStore{Store: st, sole: sole}
		hub, c, stop := watchedHub(t, cs, g.ChatID)
		time.Sleep(300 * time.Millisecond) // 60 polls
		n := cs.heads.Load()
		if sole && n > 3 {
			t.Errorf("sole writer: %d reads of the watched heads in 60 polls; want the watch's own and the first sweep's", n)
		}
		if !sole && n < 5 {
			t.Errorf("shared store: %d reads of the watched heads in 60 polls; the poll is what finds other nodes' commits", n)
		}
		if sole {
			sender := service.New(live.Observe(cs, hub), nil, nil)
			if _, err := sender.SendMessage(ctx, app, service.SendInput{ChatID: g.ChatID, Body: []byte(`{"msgtype":"text","text":{"content":"到了"}}`)}); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			frames, err := c.Next(wctx)
			cancel()
			if err != nil || len(frames) == 0 || !bytes.Contains(frames[0], []byte("到了")) {
				t.Fatalf("sole writer: Next = %q, %v; want the message sent through Observe", frames, err)
			}
		}
		c.Close()
		stop()
	}
}

// eventCountingStore counts reads of corps' event heads.
type eventCountingStore struct {
	ding.Store
	events atomic.Int64
}

func (s *eventCountingStore) LatestEventSeq(ctx context.Context, corpID string) (int64, error) {
	s.events.Add(1)
	return s.Store.LatestEventSeq(ctx, corpID)
}

func (s *eventCountingStore) SoleWriter() bool { return true }

// toldCountingStore also passes on the store's word of which event logs moved.
type toldCountingStore struct{ *eventCountingStore }

func (s toldCountingStore) OnEvents(f func([]string)) { s.Store.(ding.EventNotifier).OnEvents(f) }

// A store that tells which event logs each commit moved spares the hub
// its poll of every watched corp's head; an event committed on a path that
// does not go through Observe still arrives at once.
func TestToldStorePollsNoCorpHeads(t *testing.T) {
	ctx := context.Background()
	st := servertest.OpenStore(t)
	if _, ok := st.(ding.EventNotifier); !ok {
		t.Skip("the store does not tell which event logs moved: corps' heads are polled")
	}
	svc, app, g := groupOn(t, st, "不轮询事件") // not observed: only the store can tell
	for i, told := range []bool{false, true} {
		cs := &eventCountingStore{Store: st}
		var hs ding.Store = cs
		if told {
			hs = toldCountingStore{cs}
		}
		_, c, stop := watchedHub(t, hs, g.ChatID)
		time.Sleep(300 * time.Millisecond) // 60 polls
		n := cs.events.Load()
		if told && n > 3 {
			t.Errorf("told: %d reads of the corp's event head in 60 polls; want the watch's own, its recheck and the first sweep's", n)
		}
		if !told && n < 20 {
			t.Errorf("not told: %d reads of the corp's event head in 60 polls; the poll is what finds its events", n)
		}
		name := []string{"改名一", "改名二"}[i]
		if _, err := svc.UpdateGroup(ctx, app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
			t.Fatal(err)
		}
		if got, ok := framesUntil(c, name, 2*time.Second); !ok {
			t.Errorf("told=%v: the rename's event did not arrive within 2 s (Sweep is an hour): %q", told, got)
		}
		c.Close()
		stop()
	}
}

// framesUntil reads c's frames until one holds text or within has passed,
// and reports whether one did.
func framesUntil(c *live.Client, text string, within time.Duration) ([][]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got [][]byte
	for !bytes.Contains(bytes.Join(got, nil), []byte(text)) && ctx.Err() == nil {
		frames, err := c.Next(ctx)
		if err != nil {
			break
		}
		got = append(got, frames...)
	}
	return got, bytes.Contains(bytes.Join(got, nil), []byte(text))
}

// Resets, watches, commits and polls at once touch the hub's feeds only
// under its lock (run with -race: Reset replaces the maps the others read).
func TestResetBesideEverything(t *testing.T) {
	ctx := context.Background()
	st := servertest.OpenStore(t)
	_, app, g := groupOn(t, st, "重置竞争")
	hub := live.New(st, live.Config{Poll: time.Millisecond, Sweep: 5 * time.Millisecond})
	sender := service.New(live.Observe(st, hub), nil, nil)
	run, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { hub.Run(run); close(ran) }()
	defer func() { stop(); <-ran }()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			hub.Reset()
			time.Sleep(200 * time.Microsecond)
		}
	})
	wg.Go(func() {
		for range 50 {
			c, _, err := hub.Watch(ctx, dingtest.CorpID, []string{g.ChatID}, live.Resume{})
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		}
	})
	wg.Go(func() {
		for i := range 30 {
			if _, err := sender.SendMessage(ctx, app, service.SendInput{ChatID: g.ChatID, Body: []byte(fmt.Sprintf(`{"msgtype":"text","text":{"content":"竞争 %d"}}`, i))}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
}

// A hub that polls stops while nobody watches anything, and polls again
// for the first client: an event committed behind its back reaches a
// client that connected after a quiet start.
func TestPollingResumesForFirstClient(t *testing.T) {
	ctx := context.Background()
	st := servertest.OpenStore(t)
	svc, app, g := groupOn(t, st, "静后轮询")
	hub := live.New(&eventCountingStore{Store: st}, live.Config{Poll: 5 * time.Millisecond, Sweep: time.Hour})
	run, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { hub.Run(run); close(ran) }()
	defer func() { stop(); <-ran }()
	time.Sleep(100 * time.Millisecond) // nobody watches: the poll stops
	c, _, err := hub.Watch(ctx, dingtest.CorpID, nil, live.Resume{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // the watch's own reads are done
	name := "静后改名"
	if _, err := svc.UpdateGroup(ctx, app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var got [][]byte
	for !bytes.Contains(bytes.Join(got, nil), []byte(name)) {
		frames, err := c.Next(wctx)
		if err != nil {
			t.Fatalf("the rename's event did not arrive within 2 s: %v; got %q", err, got)
		}
		got = append(got, frames...)
	}
}
