// Package events reads each corp's event log (the outbox written with every
// change) and delivers it to subscribers: at least once, in order per
// subscriber, from a durable cursor that one node at a time holds a lease
// on, so a crash or a dead node strands nothing.
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// Retries is how long a failed push waits before its next try: five tries
// in all, then the event is given up on and listed as a failed result.
// DingTalk publishes no schedule; this one spans about three minutes.
var Retries = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}

// pokeGap is the least time between two reads of the heads that commits
// on this node asked for.
const pokeGap = 2 * time.Millisecond

// busyHold is how long the node stays busy after it last looked saturated.
const busyHold = 100 * time.Millisecond

// Config tunes a Dispatcher; zero values take the defaults.
type Config struct {
	Node        string        // lease owner name; random when empty
	Poll        time.Duration // how often the newest event of each corp is read (25 ms); see told
	Refresh     time.Duration // how often subscriptions are re-read (1 s)
	Lease       time.Duration // how long a node holds a cursor without renewing (15 s)
	PushTimeout time.Duration // DingTalk's deadline for an event push (2.5 s)
	Flush       time.Duration // how long progress may stay unsaved (100 ms)
	Retention   time.Duration // how long delivery attempts are kept (7 days)
	Retries     []time.Duration
	MaxAttempts int // len(Retries)+1 when zero
	MaxInFlight int // concurrent pushes over all subscriptions (64)
	BatchEvents int // events read at once (100)
	EventIDSalt string
	DisableHTTP bool
	// ClaimAll takes over every lease at start: right when no other node
	// can be running (SQLite's file belongs to one process), so a restart
	// after a crash resumes at once instead of waiting out the old leases.
	ClaimAll   bool
	Log        *slog.Logger
	OnDelivery func(ding.Delivery) // observes every attempt (metrics, tests)
	AckTimeout time.Duration       // how long a Stream client has to ACK an event (5 s)
	// Faults is asked before each attempt (test controls: fail, delay,
	// close the socket, duplicate); nil never interferes.
	Faults ding.DeliveryFaults
	// Told, on a store shared by several nodes, reports whether every
	// node's event commits now reach Poke (this node's) and Heard (the
	// others', from the live hub's notices): heads are then read when told
	// and every sweepEvery instead of every Poll. Nil: polled.
	Told func() bool
	// PublicURL is the base of the sessionWebhook handed to robots in HTTP
	// mode; Stream clients get the address they connected to.
	PublicURL    string
	UnionIDCache int // user → unionId entries kept (10000)
	// Calls counts the node's API calls in progress. While some are in
	// flight and the node is short of CPU, deliveries give way to them:
	// one push at a time, using at most BusyShare of the time (0.1).
	// Nil never gives way.
	Calls     *ding.Calls
	BusyShare float64
}

// Dispatcher delivers events to HTTP subscriptions.
type Dispatcher struct {
	store       ding.Store
	pusher      ding.Pusher
	hub         ding.StreamHub
	robotClient *http.Client
	clock       ding.Clock
	cfg         Config
	log         *slog.Logger
	sem         chan struct{}

	mu       sync.Mutex
	subs     map[string]*ding.Subscription // by id
	running  map[string]context.CancelFunc // by consumer + "\x00" + corp
	heads    map[string]*head              // by corp
	unions   map[string]string             // corp + "\x00" + userid → unionId
	bizs     map[string]map[string]any     // corp + "\x00" + seq → business object, shared by every consumer
	payloads map[string][]byte             // corp + seq + dialect → plaintext, shared by every subscription of that dialect

	wake  chan struct{}
	poke  chan struct{}
	heard chan struct{}
	wg    sync.WaitGroup
	// the store tells when corps' event logs move (ding.EventNotifier):
	// heads are read then, and otherwise only every sweepEvery
	told bool

	busy     atomic.Bool   // the API is waiting for CPU: deliveries give way
	samples  atomic.Int64  // watchLoad's samples taken
	lane     chan struct{} // the one push allowed while busy
	laneNext time.Time     // when the lane may be used again; guarded by lane
}

type head struct {
	seq     int64
	changed chan struct{} // closed and replaced when seq moves
}

// New returns a Dispatcher; Run starts it.
func New(store ding.Store, pusher ding.Pusher, clock ding.Clock, cfg Config) *Dispatcher {
	if clock == nil {
		clock = ding.SystemClock{}
	}
	if cfg.Node == "" {
		var b [6]byte
		rand.Read(b[:])
		cfg.Node = "node-" + hex.EncodeToString(b[:])
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Poll, 25*time.Millisecond)
	def(&cfg.Refresh, time.Second)
	def(&cfg.Lease, 15*time.Second)
	def(&cfg.PushTimeout, 2500*time.Millisecond)
	def(&cfg.Flush, 100*time.Millisecond)
	def(&cfg.Retention, 7*24*time.Hour)
	def(&cfg.AckTimeout, 5*time.Second)
	if cfg.Retries == nil {
		cfg.Retries = Retries
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = len(cfg.Retries) + 1
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.BatchEvents <= 0 {
		cfg.BatchEvents = 100
	}
	if cfg.UnionIDCache <= 0 {
		cfg.UnionIDCache = 10000
	}
	if cfg.BusyShare <= 0 || cfg.BusyShare > 1 {
		cfg.BusyShare = 0.1
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{store: store, pusher: pusher, clock: clock, cfg: cfg, log: log,
		robotClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		sem:         make(chan struct{}, cfg.MaxInFlight),
		subs:        map[string]*ding.Subscription{}, running: map[string]context.CancelFunc{},
		heads: map[string]*head{}, unions: map[string]string{}, bizs: map[string]map[string]any{}, payloads: map[string][]byte{}, wake: make(chan struct{}, 1),
		poke: make(chan struct{}, 1), heard: make(chan struct{}, 1), lane: make(chan struct{}, 1)}
	if sw, ok := store.(ding.SoleWriter); ok && sw.SoleWriter() {
		if n, ok := store.(ding.EventNotifier); ok {
			d.told = true
			n.OnEvents(func([]string) { d.pokeHeads() })
		}
	}
	return d
}

// sweepEvery is how often a dispatcher that is told of moved event logs
// reads every head anyway: what a hand edit of the file appended.
const sweepEvery = 2 * time.Second

// SetStreamHub gives the dispatcher this node's Stream connections: it
// then delivers to every client connected here.
func (d *Dispatcher) SetStreamHub(h ding.StreamHub) { d.hub = h }

// Reset forgets everything learnt from the store — cached business
// objects and union ids, the corps' heads — and stops every worker, after
// the store was put back to its declared state: sequence numbers start
// again, so nothing remembered still means the same event. Workers start
// afresh at the next refresh.
func (d *Dispatcher) Reset() {
	d.mu.Lock()
	clear(d.bizs)
	clear(d.payloads)
	clear(d.unions)
	for _, h := range d.heads {
		h.seq = -1
	}
	for _, cancel := range d.running {
		cancel()
	}
	d.mu.Unlock()
	d.pokeHeads()
	d.Refresh()
}

// Observe calls f with every delivery attempt (metrics); call it before Run.
func (d *Dispatcher) Observe(f func(ding.Delivery)) { d.cfg.OnDelivery = f }

// Backlog is how many events each consumer's cursors are behind their
// corps' newest event, summed, read from the store.
func (d *Dispatcher) Backlog(ctx context.Context) (map[string]int64, error) {
	cs, err := d.store.Cursors(ctx, "")
	if err != nil {
		return nil, err
	}
	heads := map[string]int64{}
	out := map[string]int64{}
	for _, c := range cs {
		h, ok := heads[c.CorpID]
		if !ok {
			if h, err = d.store.LatestEventSeq(ctx, c.CorpID); err != nil {
				return nil, err
			}
			heads[c.CorpID] = h
		}
		kind, _, _ := strings.Cut(c.Consumer, ":")
		out[kind] += max(0, h-c.Seq)
	}
	return out, nil
}

// SetPublicURL sets the base of sessionWebhooks given to HTTP robots; call
// it before Run.
func (d *Dispatcher) SetPublicURL(u string) { d.cfg.PublicURL = u }

// Node is the name this dispatcher holds leases under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Refresh makes the dispatcher re-read subscriptions now rather than at
// its next refresh.
func (d *Dispatcher) Refresh() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Poke tells the dispatcher this node committed events: it reads the
// corps' heads at once instead of at the next poll. It never blocks.
func (d *Dispatcher) Poke() {
	if d.busy.Load() && !d.toldNow() {
		return // deliveries give way now; the regular poll is soon enough
	}
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// Heard tells the dispatcher another node committed events (see
// Config.Told): it reads the corps' heads soon, at most once a Poll, as
// its poll would. It never blocks.
func (d *Dispatcher) Heard() {
	select {
	case d.heard <- struct{}{}:
	default:
	}
}

// toldNow is whether every commit that moves a head is told now, so that
// polling every Poll finds nothing more.
func (d *Dispatcher) toldNow() bool { return d.told || (d.cfg.Told != nil && d.cfg.Told()) }

// EventID is ding.EventID, kept here for the package's readers.
func EventID(corpID string, seq int64) string { return ding.EventID(corpID, seq) }

// Run delivers until ctx ends, then saves every worker's progress and
// gives up its leases.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.wg.Wait()
	refresh := time.NewTicker(d.cfg.Refresh)
	defer refresh.Stop()
	period := func() time.Duration {
		if d.toldNow() {
			return sweepEvery
		}
		return d.cfg.Poll
	}
	every := period()
	poll := time.NewTicker(every)
	defer poll.Stop()
	prune := time.NewTicker(10 * time.Minute)
	defer prune.Stop()
	if d.cfg.ClaimAll {
		if cs, err := d.store.Cursors(ctx, "http:"); err == nil {
			for _, c := range cs {
				if c.LeaseOwner != "" && c.LeaseOwner != d.cfg.Node {
					d.store.ReleaseCursor(ctx, c.Consumer, c.CorpID, c.LeaseOwner)
				}
			}
		}
	}
	if d.cfg.Calls != nil {
		d.wg.Add(1)
		go func() { defer d.wg.Done(); d.watchLoad(ctx) }()
	}
	d.refresh(ctx)
	polling := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			d.refresh(ctx)
		case <-refresh.C:
			d.refresh(ctx)
		case <-poll.C:
			if !d.waitedOn() {
				// no worker waits on a corp: nothing to read until one does
				// (headOf pokes)
				poll.Stop()
				polling = false
				continue
			}
			d.pollHeads(ctx)
		case <-d.poke:
			if !polling {
				poll.Reset(every)
				polling = true
			}
			d.pollHeads(ctx)
			// pokes arriving meanwhile are served by one more read, so a
			// node committing thousands of events a second reads its heads
			// at most every pokeGap; while deliveries give way, every Poll
			// (a store that tells pokes even then: nothing else reads)
			gap := pokeGap
			if d.toldNow() && d.busy.Load() {
				gap = d.cfg.Poll
			}
			d.rest(ctx, gap)
		case <-d.heard:
			if !polling {
				poll.Reset(every)
				polling = true
			}
			// other nodes' notices come every few milliseconds under load:
			// read no more often than the poll did
			d.pollHeads(ctx)
			d.rest(ctx, d.cfg.Poll)
		case <-prune.C:
			if err := d.store.PruneDeliveries(ctx, d.clock.Now().Add(-d.cfg.Retention).UnixMilli()); err != nil && ctx.Err() == nil {
				d.log.Warn("events: prune delivery attempts", "err", err)
			}
		}
		if p := period(); p != every {
			if p > every && polling {
				// just told: read what moved before the telling began
				d.pollHeads(ctx)
			}
			every = p
			if polling {
				poll.Reset(every)
			}
		}
	}
}

// rest waits for gap or the end of ctx.
func (d *Dispatcher) rest(ctx context.Context, gap time.Duration) {
	t := time.NewTimer(gap)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
}

// refresh re-reads subscriptions and cursors, creates the cursors suites
// need in newly authorising corps, and starts a worker for every cursor
// whose lease is free.
func (d *Dispatcher) refresh(ctx context.Context) {
	if d.cfg.DisableHTTP {
		return
	}
	subs, err := d.store.Subscriptions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("events: read subscriptions", "err", err)
		}
		return
	}
	byID := make(map[string]*ding.Subscription, len(subs))
	for i := range subs {
		s := &subs[i]
		byID[s.ID] = s
		if s.Kind == ding.SubSuitePush {
			corps, err := d.store.SuiteCorps(ctx, s.Key)
			if err != nil {
				continue
			}
			for _, c := range corps {
				if err := d.store.EnsureCursor(ctx, "http:"+s.ID, c); err != nil && ctx.Err() == nil {
					d.log.Warn("events: suite cursor", "suite", s.Key, "corp", c, "err", err)
				}
			}
		}
	}
	cursors, err := d.store.Cursors(ctx, "http:")
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("events: read cursors", "err", err)
		}
		return
	}
	d.mu.Lock()
	d.subs = byID
	d.mu.Unlock()
	now := d.clock.Now().UnixMilli()
	for _, c := range cursors {
		id := strings.TrimPrefix(c.Consumer, "http:")
		if byID[id] == nil {
			continue // the subscription went away; its cursors go with it
		}
		k := c.Consumer + "\x00" + c.CorpID
		d.mu.Lock()
		_, busy := d.running[k]
		d.mu.Unlock()
		if busy || (c.LeaseOwner != "" && c.LeaseOwner != d.cfg.Node && c.LeaseUntil > now) {
			continue
		}
		cur, ok, err := d.store.LeaseCursor(ctx, c.Consumer, c.CorpID, d.cfg.Node, now, now+d.cfg.Lease.Milliseconds())
		if err != nil || !ok {
			continue
		}
		d.start(ctx, k, &httpSink{d: d, subID: id}, *cur)
	}
	d.refreshStream(ctx, now)
}

// refreshStream starts a worker for each corp of each Stream client
// connected to this node, when no other node delivers to it already.
func (d *Dispatcher) refreshStream(ctx context.Context, now int64) {
	if d.hub == nil {
		return
	}
	for _, client := range d.hub.Clients() {
		consumer := "stream:" + client
		cursors, err := d.store.Cursors(ctx, consumer)
		if err != nil {
			continue
		}
		for _, c := range cursors {
			if c.Consumer != consumer {
				continue // another client whose key starts with this one
			}
			k := c.Consumer + "\x00" + c.CorpID
			d.mu.Lock()
			_, busy := d.running[k]
			d.mu.Unlock()
			if busy || (c.LeaseOwner != "" && c.LeaseOwner != d.cfg.Node && c.LeaseUntil > now) {
				continue
			}
			cur, ok, err := d.store.LeaseCursor(ctx, c.Consumer, c.CorpID, d.cfg.Node, now, now+d.cfg.Lease.Milliseconds())
			if err != nil || !ok {
				continue
			}
			d.start(ctx, k, &streamSink{d: d, clientID: client}, *cur)
		}
	}
}

func (d *Dispatcher) start(ctx context.Context, k string, sk sink, c ding.Cursor) {
	wctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.running[k] = cancel
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() {
			d.mu.Lock()
			delete(d.running, k)
			d.mu.Unlock()
			cancel()
		}()
		w := &worker{d: d, sink: sk, cur: c}
		w.run(wctx)
	}()
}

// sub is the current version of a subscription, nil once deleted.
func (d *Dispatcher) sub(id string) *ding.Subscription {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.subs[id]
}

// headOf is the corp's head, created on first use.
func (d *Dispatcher) headOf(corp string) *head {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.heads[corp]
	if h == nil {
		h = &head{changed: make(chan struct{})}
		d.heads[corp] = h
		d.pokeHeads() // its first read, rather than at the next poll or sweep
	}
	return h
}

// waitedOn is whether any corp's head is followed.
func (d *Dispatcher) waitedOn() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.heads) > 0
}

func (d *Dispatcher) pokeHeads() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// pollHeads reads the newest event of every corp a worker waits on and
// wakes those workers when it moved. One cheap read per corp, whatever the
// number of subscribers; a commit on any node is seen within one poll.
func (d *Dispatcher) pollHeads(ctx context.Context) {
	d.mu.Lock()
	corps := make([]string, 0, len(d.heads))
	for c := range d.heads {
		corps = append(corps, c)
	}
	d.mu.Unlock()
	for _, c := range corps {
		seq, err := d.store.LatestEventSeq(ctx, c)
		if err != nil {
			continue
		}
		d.mu.Lock()
		h := d.heads[c]
		if seq != h.seq {
			h.seq = seq
			close(h.changed)
			h.changed = make(chan struct{})
		}
		d.mu.Unlock()
	}
}

// waitFor returns a channel closed when the corp's head moves past seq
// (nil when it already has).
func (d *Dispatcher) waitFor(corp string, seq int64) <-chan struct{} {
	h := d.headOf(corp)
	d.mu.Lock()
	defer d.mu.Unlock()
	if h.seq > seq {
		return nil
	}
	return h.changed
}

// nextMove returns a channel closed when the corp's head next moves.
func (d *Dispatcher) nextMove(corp string) <-chan struct{} {
	h := d.headOf(corp)
	d.mu.Lock()
	defer d.mu.Unlock()
	return h.changed
}

// unionID is the user's unionId, "" when unknown; cached, as it never changes.
func (d *Dispatcher) unionID(ctx context.Context, corp, user string) string {
	k := corp + "\x00" + user
	d.mu.Lock()
	u, ok := d.unions[k]
	d.mu.Unlock()
	if ok {
		return u
	}
	if usr, err := d.store.User(ctx, corp, user); err == nil {
		u = usr.UnionID
	} else if !ding.IsKind(err, ding.NotFound) {
		return ""
	}
	d.mu.Lock()
	if len(d.unions) >= d.cfg.UnionIDCache {
		clear(d.unions)
	}
	d.unions[k] = u
	d.mu.Unlock()
	return u
}

// Biz is the event's camelCase business object with the operator's and
// the users' union ids, as DingTalk's pushes carry them. Every consumer of
// an event reads the same one, built once; callers must not change it.
func (d *Dispatcher) Biz(ctx context.Context, ev *ding.Event) map[string]any {
	k := ev.CorpID + "\x00" + strconv.FormatInt(ev.Seq, 10)
	d.mu.Lock()
	biz, ok := d.bizs[k]
	d.mu.Unlock()
	if ok {
		return biz
	}
	biz = d.biz(ctx, ev)
	d.mu.Lock()
	if len(d.bizs) >= 4096 {
		clear(d.bizs)
	}
	d.bizs[k] = biz
	d.mu.Unlock()
	return biz
}

func (d *Dispatcher) biz(ctx context.Context, ev *ding.Event) map[string]any {
	biz := map[string]any{}
	if len(ev.Data) > 0 {
		json.Unmarshal(ev.Data, &biz)
	}
	if ev.Operator != "" {
		biz["operatorUnionId"] = d.unionID(ctx, ev.CorpID, ev.Operator)
	}
	if ids, ok := biz["userId"].([]any); ok && (ev.Type == ding.EventChatAddMember || ev.Type == ding.EventChatRemoveMember) {
		unions := make([]string, 0, len(ids))
		for _, x := range ids {
			if s, ok := x.(string); ok {
				unions = append(unions, d.unionID(ctx, ev.CorpID, s))
			}
		}
		if ext, ok := biz["unionId"].([]any); ok { // external contacts are known by unionId alone
			for _, x := range ext {
				if s, ok := x.(string); ok {
					unions = append(unions, s)
				}
			}
		}
		biz["unionId"] = unions
	}
	return biz
}

// watchLoad keeps busy up to date: API calls are in flight and goroutines
// wait for a CPU (the scheduler's runnable count, smoothed over ~40 ms),
// now or within the last busyHold, so short lulls in a saturating load do
// not let every delivery loose at once.
// Deliveries are background work; under saturation each push they make is
// an API call's CPU, so they give way rather than lower the API's
// throughput, and catch up once the node has CPU to spare.
// With no call in flight and not busy it samples every quietSample
// instead: an idle node is not woken 200 times a second.
func (d *Dispatcher) watchLoad(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	t := time.NewTicker(loadSample)
	defer t.Stop()
	quiet := false
	var runnable float64
	var busyTill time.Time
	for {
		select {
		case <-ctx.Done():
			d.busy.Store(false)
			return
		case <-t.C:
		}
		d.samples.Add(1)
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			runnable = 0.875*runnable + 0.125*float64(sample[0].Value.Uint64())
		}
		now := time.Now()
		if d.cfg.Calls.InFlight() > 0 && runnable >= float64(runtime.GOMAXPROCS(0))/2 {
			busyTill = now.Add(busyHold)
		}
		busy := now.Before(busyTill)
		d.busy.Store(busy)
		// not the runnable count: other processes' load would keep it up
		if q := !busy && d.cfg.Calls.InFlight() == 0; q != quiet {
			quiet = q
			if quiet {
				t.Reset(quietSample)
			} else {
				t.Reset(loadSample)
			}
		}
	}
}

// How often watchLoad samples: while a call is in flight or the node is
// busy, and else. A saturating load is seen within a quietSample.
const (
	loadSample  = 5 * time.Millisecond
	quietSample = 100 * time.Millisecond
)

// giveWay waits, while the node is busy, for the one lane deliveries have
// then and for its pause to end; paced reports whether the caller holds
// the lane and must call leave after its push. ok is false when ctx ended.
func (d *Dispatcher) giveWay(ctx context.Context) (paced, ok bool) {
	if !d.busy.Load() {
		return false, true
	}
	select {
	case d.lane <- struct{}{}:
	case <-ctx.Done():
		return false, false
	}
	for wait := time.Until(d.laneNext); wait > 0 && d.busy.Load(); wait = time.Until(d.laneNext) {
		t := time.NewTimer(min(wait, 10*time.Millisecond)) // in steps: busy may end
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-d.lane
			return false, false
		}
	}
	if !d.busy.Load() {
		<-d.lane
		return false, true
	}
	return true, true
}

// leave frees the lane after a paced push that took took: the next one
// waits long enough for deliveries to use BusyShare of the time.
func (d *Dispatcher) leave(took time.Duration) {
	d.laneNext = time.Now().Add(time.Duration(float64(took) * (1 - d.cfg.BusyShare) / d.cfg.BusyShare))
	<-d.lane
}
