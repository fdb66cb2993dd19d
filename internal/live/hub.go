// Package live delivers what commits in a member's groups to that member's
// open connections: new messages, recalls and group changes (from each
// group's message sequence and the corp's event log) and read marks.
//
// Delivery is pulled, not queued: each client holds a cursor per group and
// one on the corp's event log and reads from a shared window of recent
// frames, so a reconnect with the last cursors gets exactly what it missed,
// a slow client costs no memory beyond one batch, and a client that falls
// too far behind is told so and closed. Heads move when this node's store
// commits (Observe) and when another node's commits are heard: from the
// store's head notices when it has them (PostgreSQL), else from a poll of
// every watched group's head. A store only this process writes (SQLite)
// needs neither: its heads are read only at the sweep, for a hand edit.
// Corps' event heads are read when the store says this node's commits moved
// them (EventNotifier) and, on a shared store, when another node's notice
// says so; while notices are not heard, they are polled.
package live

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// Config tunes a Hub; zero values take the defaults.
type Config struct {
	Poll   time.Duration // how often heads are read from the store (25 ms): other nodes' commits
	Sweep  time.Duration // how often every watched group's head is read while the store's notices are heard (2 s)
	MaxLag int64         // messages or events a client may trail a head by before it is closed (2000)
	Batch  int           // messages or events read at once (100)
	Window int           // recent frames kept per group and corp for clients to share (256)
	// OnEvents is told, without blocking, of every event this node
	// committed (the event dispatcher polls at once rather than at its next tick).
	OnEvents func()
	// OnHeard is told, without blocking, when another node's notice says
	// corps' event logs moved, and when the notices stop being heard (see
	// TellsEvents).
	OnHeard func()
}

// ErrTooSlow closes a client that trails a head by more than Config.MaxLag.
var ErrTooSlow = errors.New("live: client too slow")

// Hub tracks the heads of watched groups and corps and wakes their clients.
type Hub struct {
	store   ding.Store
	notices ding.HeadNotices // nil: poll every watched group's head
	cfg     Config

	hearing atomic.Bool // the store's notices are heard
	// the store tells which corps' event logs this node's commits appended
	// to (ding.EventNotifier), and other nodes' are announced: while
	// hearing, corps' heads are read when they move and at the sweep, not
	// at every poll
	told  bool
	sweep atomic.Bool // read every watched group's head at the next poll
	// groups whose heads to read at the next poll: just watched, so a
	// commit between their first read and their feed is not missed
	checkMu sync.Mutex
	check   map[string]struct{}
	moved   map[string]struct{} // corps whose heads to read at the next poll (told)
	// heads this node committed, and corps whose event logs it appended
	// to, not yet announced to the others
	annMu    sync.Mutex
	announce map[string]int64
	annCorps map[string]struct{}
	annKick  chan struct{}

	mu     sync.Mutex
	groups map[string]*feed // by chatid
	corps  map[string]*feed // by corpid
	kick   chan struct{}
	done   chan struct{} // closed when Run returns: clients go away
}

// feed is one group's messages or one corp's events: the newest sequence
// number known, a window of recent encoded frames, the clients watching.
// Clients read the head and the window without a lock: both are replaced,
// never changed in place.
type feed struct {
	key   string
	corp  bool
	head  atomic.Int64
	subs  atomic.Pointer[[]*Client] // copy on write, under Hub.mu
	fetch sync.Mutex                // one store read at a time per feed
	win   atomic.Pointer[[]Frame]   // contiguous by Seq, newest last
}

func (f *feed) window() []Frame {
	if w := f.win.Load(); w != nil {
		return *w
	}
	return nil
}

// Frame is one encoded server message and the sequence number it carries.
type Frame struct {
	Seq    int64
	ChatID string
	Data   []byte // JSON
	ev     *ding.Event
}

// New returns a Hub; Run polls the store.
func New(store ding.Store, cfg Config) *Hub {
	if cfg.Poll <= 0 {
		cfg.Poll = 25 * time.Millisecond
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = 2000
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Window <= 0 {
		cfg.Window = 256
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 2 * time.Second
	}
	h := &Hub{store: store, cfg: cfg, groups: map[string]*feed{}, corps: map[string]*feed{}, kick: make(chan struct{}, 1), done: make(chan struct{}),
		check: map[string]struct{}{}, moved: map[string]struct{}{}, announce: map[string]int64{}, annCorps: map[string]struct{}{},
		annKick: make(chan struct{}, 1)}
	h.notices, _ = store.(ding.HeadNotices)
	sole := false
	if s, ok := store.(ding.SoleWriter); ok && s.SoleWriter() {
		// every commit comes through Observe: heads are read only at the
		// sweep, as when a shared store's notices are heard
		h.hearing.Store(true)
		sole = true
	}
	if n, ok := store.(ding.EventNotifier); ok && (sole || h.notices != nil) {
		h.told = true
		n.OnEvents(h.eventsCommitted)
	}
	return h
}

// eventsMoved has the next poll read these corps' event heads.
func (h *Hub) eventsMoved(corps []string) { h.readSoon(&h.moved, corps) }

// eventsCommitted is the store's word that this node's commit appended to
// these corps' event logs: read here, and announced to the other nodes.
func (h *Hub) eventsCommitted(corps []string) {
	h.eventsMoved(corps)
	if h.notices == nil || len(corps) == 0 {
		return
	}
	if h.cfg.OnEvents != nil {
		h.cfg.OnEvents() // also the writes Observe does not see
	}
	h.annMu.Lock()
	for _, c := range corps {
		h.annCorps[c] = struct{}{}
	}
	h.annMu.Unlock()
	select {
	case h.annKick <- struct{}{}:
	default:
	}
}

// readSoon adds keys to one of the sets the next poll reads (check or
// moved, which poll replaces under checkMu) and wakes the poll.
func (h *Hub) readSoon(set *map[string]struct{}, keys []string) {
	if len(keys) == 0 {
		return
	}
	h.checkMu.Lock()
	for _, k := range keys {
		(*set)[k] = struct{}{}
	}
	h.checkMu.Unlock()
	h.wake()
}

// Run follows the heads of every watched group and corp until ctx ends.
// Corps' event heads are polled (one read per corp), or, when the store
// tells which moved and other nodes' moves are heard, read as they move,
// at most once a Poll, and all at the sweep. Groups' heads come from the
// store's notices when it has them, read in full only every Sweep and
// while the notices are not heard; else every poll reads them all at once,
// whatever the number of clients. An idle hub on a store that tells, while
// it hears, wakes once a Sweep.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer h.stopped()
	defer wg.Wait()
	if h.notices != nil {
		wg.Go(func() { h.listen(ctx) })
		wg.Go(func() { h.announcing(ctx) })
	}
	// ticks find what nobody told: every Poll, or only the sweep's while
	// the store tells and the notices are heard
	period := func() time.Duration {
		if h.told && h.hearing.Load() {
			return h.cfg.Sweep
		}
		return h.cfg.Poll
	}
	every := period()
	t := time.NewTicker(every)
	defer t.Stop()
	ticking := true
	var swept time.Time
	for {
		tick := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick = true
			if !h.watched() {
				// nobody watches anything: nothing to read until a client
				// does (watch kicks)
				t.Stop()
				ticking = false
				continue
			}
		case <-h.kick:
			if !ticking {
				t.Reset(every)
				ticking = true
			}
		}
		if p := period(); p != every {
			every = p
			if ticking {
				t.Reset(every)
			}
		}
		all := !h.hearing.Load() || h.sweep.Swap(false) || time.Since(swept) >= h.cfg.Sweep || (tick && h.told)
		if all {
			swept = time.Now()
		}
		h.poll(ctx, all)
		if h.told {
			// commits that keep coming are read together, as a poll would
			select {
			case <-ctx.Done():
				return
			case <-time.After(h.cfg.Poll):
			}
		}
	}
}

// listen hears the store's head notices, listening again a second after
// the connection is lost; meanwhile every poll reads every head.
func (h *Hub) listen(ctx context.Context) {
	for {
		h.notices.ListenHeads(ctx, func() {
			h.hearing.Store(true)
			h.resweep() // what was announced before anyone listened
		}, func(heads map[string]int64, corps []string) {
			for id, seq := range heads {
				h.advance(false, id, seq)
			}
			if len(corps) > 0 {
				h.eventsMoved(corps)
				h.heard()
			}
		})
		h.hearing.Store(false)
		h.wake()  // ticks at Poll again
		h.heard() // and so does the dispatcher
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// announcing tells the other nodes of this node's commits: one notice for
// whatever committed since the last, at most one every few milliseconds.
func (h *Hub) announcing(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.annKick:
		}
		h.annMu.Lock()
		heads := h.announce
		h.announce = make(map[string]int64, len(heads))
		var corps []string
		for c := range h.annCorps {
			corps = append(corps, c)
		}
		clear(h.annCorps)
		h.annMu.Unlock()
		actx, cancel := context.WithTimeout(ctx, time.Second)
		h.notices.AnnounceHeads(actx, heads, corps) // when lost, the others' sweep finds it
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(announceGap):
		}
	}
}

// announceGap spaces notices under a stream of commits, so a busy node
// sends a few hundred a second, each naming every group that moved.
const announceGap = 5 * time.Millisecond

// stopped ends every client's wait: done is closed before the clients are
// poked, and a client that connects later sees it closed before it waits.
func (h *Hub) stopped() {
	close(h.done)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range []map[string]*feed{h.groups, h.corps} {
		for _, f := range m {
			if subs := f.subs.Load(); subs != nil {
				for _, c := range *subs {
					c.poke()
				}
			}
		}
	}
}

// Hearing is whether the hub hears the store's head notices now, rather
// than polling every watched group's head.
func (h *Hub) Hearing() bool { return h.hearing.Load() }

// TellsEvents is whether every event commit, this node's or another's,
// now reaches Config.OnEvents or Config.OnHeard: the store tells this
// node's, and the notices carrying the others' are heard.
func (h *Hub) TellsEvents() bool { return h.told && h.hearing.Load() }

func (h *Hub) heard() {
	if h.cfg.OnHeard != nil {
		h.cfg.OnHeard()
	}
}

// resweep has the next poll read every watched group's head.
func (h *Hub) resweep() {
	h.sweep.Store(true)
	h.wake()
}

// recheck has the next poll read these groups' heads.
func (h *Hub) recheck(ids []string) { h.readSoon(&h.check, ids) }

func (h *Hub) poll(ctx context.Context, all bool) {
	h.checkMu.Lock()
	// taken whole, or not at all: the maps are written again once unlocked
	var check, moved map[string]struct{}
	if len(h.check) > 0 {
		check, h.check = h.check, map[string]struct{}{}
	}
	if len(h.moved) > 0 {
		moved, h.moved = h.moved, map[string]struct{}{}
	}
	h.checkMu.Unlock()
	h.mu.Lock()
	var chats []string
	if all {
		chats = make([]string, 0, len(h.groups))
		for id := range h.groups {
			chats = append(chats, id)
		}
	} else {
		for id := range check {
			if h.groups[id] != nil {
				chats = append(chats, id)
			}
		}
	}
	var corps []string
	for id := range h.corps {
		if _, ok := moved[id]; ok || all || !h.told {
			corps = append(corps, id)
		}
	}
	h.mu.Unlock()
	if len(chats) > 0 {
		if seqs, err := h.store.LastSeqs(ctx, chats); err == nil {
			for id, seq := range seqs {
				h.advance(false, id, seq)
			}
		}
	}
	for _, c := range corps {
		if seq, err := h.store.LatestEventSeq(ctx, c); err == nil {
			h.advance(true, c, seq)
		}
	}
}

// feeds is the corps' feeds or the groups'; mu is held (Reset replaces
// both maps, so they are never read from their fields without it).
func (h *Hub) feeds(corp bool) map[string]*feed {
	if corp {
		return h.corps
	}
	return h.groups
}

// advance moves a feed's head and wakes its clients.
func (h *Hub) advance(corp bool, key string, seq int64) {
	h.mu.Lock()
	f := h.feeds(corp)[key]
	h.mu.Unlock()
	if f == nil {
		return
	}
	for {
		cur := f.head.Load()
		if seq <= cur {
			return
		}
		if f.head.CompareAndSwap(cur, seq) {
			break
		}
	}
	if subs := f.subs.Load(); subs != nil {
		for _, c := range *subs {
			c.poke()
		}
	}
}

// Poke makes the hub read the heads now instead of at the next poll.
func (h *Hub) Poke() {
	if h.cfg.OnEvents != nil {
		h.cfg.OnEvents()
	}
	h.wake()
}

// committed is called after this node stored m. When m extends its
// group's window, its frame joins the window before the head moves, so
// the clients woken read it from memory instead of from the store, each
// wave of them behind one read.
func (h *Hub) committed(m *ding.Message) {
	if h.notices != nil {
		h.annMu.Lock()
		if m.Seq > h.announce[m.ChatID] {
			h.announce[m.ChatID] = m.Seq
		}
		h.annMu.Unlock()
		select {
		case h.annKick <- struct{}{}:
		default:
		}
	}
	h.mu.Lock()
	f := h.groups[m.ChatID]
	h.mu.Unlock()
	if f == nil {
		return
	}
	if f.fetch.TryLock() { // a read in progress extends the window itself
		w := f.window()
		n := len(w)
		if (n > 0 && w[n-1].Seq == m.Seq-1) || (n == 0 && f.head.Load() == m.Seq-1) {
			nw := make([]Frame, 0, min(n+1, h.cfg.Window))
			nw = append(nw, w[max(0, n+1-h.cfg.Window):]...)
			nw = append(nw, MessageFrame(m))
			f.win.Store(&nw)
		}
		f.fetch.Unlock()
	}
	h.advance(false, m.ChatID, m.Seq)
}

// read is called after this node moved a read mark.
func (h *Hub) read(chatID, userID string, seq int64) {
	h.mu.Lock()
	f := h.groups[chatID]
	h.mu.Unlock()
	if f == nil {
		return
	}
	b, _ := json.Marshal(readFrame{Type: "read", ChatID: chatID, UserID: userID, Seq: seq})
	if subs := f.subs.Load(); subs != nil {
		for _, c := range *subs {
			c.addRead(b)
		}
	}
}

// watch subscribes c to a feed, creating it with head when new.
func (h *Hub) watch(key string, corp bool, head int64, c *Client) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.feeds(corp)
	f := m[key]
	if f == nil {
		f = &feed{key: key, corp: corp}
		m[key] = f
		h.wake() // a poll that stopped for want of feeds goes on
	}
	if head > f.head.Load() {
		f.head.Store(head)
	}
	var subs []*Client
	if old := f.subs.Load(); old != nil {
		subs = slices.Clone(*old)
	}
	subs = append(subs, c)
	f.subs.Store(&subs)
	return f
}

func (h *Hub) unwatch(key string, corp bool, c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.feeds(corp)
	f := m[key]
	if f == nil {
		return
	}
	var subs []*Client
	if old := f.subs.Load(); old != nil {
		subs = slices.DeleteFunc(slices.Clone(*old), func(x *Client) bool { return x == c })
	}
	f.subs.Store(&subs)
	if len(subs) == 0 {
		delete(m, key)
	}
}

// watched is whether any client watches a group or a corp.
func (h *Hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.groups) > 0 || len(h.corps) > 0
}

func (h *Hub) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Watching is how many groups and corps the connected clients watch.
func (h *Hub) Watching() (groups, corps int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.groups), len(h.corps)
}

// since returns the frames of f after seq, at most Batch: from the shared
// window when it reaches head, else read from the store once for every
// client asking at the same time. The slice returned is not to be changed.
func (h *Hub) since(ctx context.Context, f *feed, after, head int64) ([]Frame, error) {
	if out, ok := h.cut(f.window(), after, head); ok {
		return out, nil
	}
	f.fetch.Lock()
	defer f.fetch.Unlock()
	w := f.window()
	if out, ok := h.cut(w, after, head); ok { // another client fetched meanwhile
		return out, nil
	}
	if n := len(w); n > 0 && w[0].Seq <= after+1 && w[n-1].Seq >= after {
		// the client is inside the window: extend it
		got, err := h.load(ctx, f, w[n-1].Seq)
		if err != nil {
			return nil, err
		}
		all := make([]Frame, 0, n+len(got))
		all = append(append(all, w...), got...)
		out, _ := h.cut(all, after, 0)
		if len(all) > h.cfg.Window { // a read may bring more than the window holds
			all = all[len(all)-h.cfg.Window:]
		}
		f.win.Store(&all)
		return out, nil
	}
	got, err := h.load(ctx, f, after)
	if err != nil {
		return nil, err
	}
	if len(got) > 0 && (len(w) == 0 || got[len(got)-1].Seq >= w[len(w)-1].Seq) {
		f.win.Store(&got)
	}
	return got, nil
}

// cut is w's frames after seq, at most Batch, when w starts at or before
// seq+1 and holds either a full batch or everything up to head.
func (h *Hub) cut(w []Frame, after, head int64) ([]Frame, bool) {
	if len(w) == 0 || w[0].Seq > after+1 {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(w, after+1, func(fr Frame, s int64) int { return cmp.Compare(fr.Seq, s) })
	out := w[i:min(len(w), i+h.cfg.Batch)]
	if len(out) < h.cfg.Batch && w[len(w)-1].Seq < head {
		return nil, false
	}
	return out, true
}

// load reads a feed's entries after seq from the store and encodes them.
func (h *Hub) load(ctx context.Context, f *feed, after int64) ([]Frame, error) {
	if f.corp {
		evs, err := h.store.Events(ctx, f.key, after, h.cfg.Batch)
		if err != nil {
			return nil, err
		}
		out := make([]Frame, 0, len(evs))
		for i := range evs {
			out = append(out, eventFrameOf(&evs[i]))
		}
		return out, nil
	}
	ms, err := h.store.Messages(ctx, f.key, ding.MessageQuery{After: after, Limit: h.cfg.Batch})
	if err != nil {
		return nil, err
	}
	out := make([]Frame, 0, len(ms))
	for i := range ms {
		out = append(out, MessageFrame(&ms[i]))
	}
	return out, nil
}

// Reset closes every client, after the store was emptied under them: their
// sequence numbers mean nothing any more. They reconnect from scratch.
func (h *Hub) Reset() {
	h.mu.Lock()
	var all []*Client
	for _, m := range []map[string]*feed{h.groups, h.corps} {
		for _, f := range m {
			if subs := f.subs.Load(); subs != nil {
				all = append(all, *subs...)
			}
		}
	}
	h.groups, h.corps = map[string]*feed{}, map[string]*feed{}
	h.mu.Unlock()
	for _, c := range all {
		c.mu.Lock()
		c.reset = true
		c.mu.Unlock()
		c.poke()
	}
}
