package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// controls are the test controls: reset, the movable clock, fault rules.
type controls struct {
	enabled bool

	mu       sync.Mutex
	declared []*ding.Org // the org file as read at start
	demo     bool
	tokens   []ding.MemberToken // member tokens start printed, saved again by a reset
	hooks    []func(context.Context)

	// gate lets a reset wait for the requests in flight on this node and
	// holds new ones until the declared state is back.
	gate sync.RWMutex
	gen  atomic.Int64 // the reset generation this node has caught up with

	clockJSON atomic.Value // string: the stored clock state this node applied

	faults     *Faults
	faultsMu   sync.Mutex // orders storing and loading the rules
	faultsJSON string     // the stored rules this node applied
}

// WithTestControls switches the test controls on: reset, moving the clock,
// fault injection.
func WithTestControls() Option { return func(s *Service) { s.ctl.enabled = true } }

// TestControls reports whether the test controls are on.
func (s *Service) TestControls() bool { return s.ctl.enabled }

// Clock is the clock every rule reads; components that schedule (token
// expiry, retry backoff, tickets) take it from here.
func (s *Service) Clock() ding.Clock { return s.clock }

// Calls counts the API calls this node is serving (the server counts them;
// event delivery gives way to them).
func (s *Service) Calls() *ding.Calls { return &s.calls }

// Faults is the fault-rule set (also the ding.DeliveryFaults delivery code asks).
func (s *Service) Faults() *Faults { return s.ctl.faults }

// ResetGeneration counts the resets this node has seen.
func (s *Service) ResetGeneration() int64 { return s.ctl.gen.Load() }

// Declare remembers what start applied, so a reset applies it again: the
// organisations of the org file and whether the demo organisation is on.
func (s *Service) Declare(orgs []*ding.Org, demo bool) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	s.ctl.declared = orgs
	s.ctl.demo = demo
}

// DeclareMemberToken keeps a member token a reset saves again (the demo's,
// which the banner printed).
func (s *Service) DeclareMemberToken(t ding.MemberToken) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	s.ctl.tokens = append(s.ctl.tokens, t)
}

// ApplyDeclared applies the org file's organisations, then the demo
// organisation when it is on and the store holds no corp; it returns the
// demo's corp id when it created the demo.
func (s *Service) ApplyDeclared(ctx context.Context) (string, error) {
	s.ctl.mu.Lock()
	orgs, demo := s.ctl.declared, s.ctl.demo
	s.ctl.mu.Unlock()
	for _, o := range orgs {
		if err := s.ApplyOrg(ctx, o); err != nil {
			return "", fmt.Errorf("corp %s: %w", o.Corp.ID, err)
		}
	}
	if !demo {
		return "", nil
	}
	return s.EnsureDemo(ctx)
}

// OnReset registers fn to run after every reset, on every node, so that
// state kept in memory (limit counters, caches, delivery cursors) starts
// again with the store. fn runs while no request is served on this node
// when the reset was made here; on the other nodes it runs as soon as they
// notice (see WatchControls).
func (s *Service) OnReset(fn func(ctx context.Context)) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	s.ctl.hooks = append(s.ctl.hooks, fn)
}

func (s *Service) runResetHooks(ctx context.Context) {
	s.ctl.mu.Lock()
	hooks := append([]func(context.Context){}, s.ctl.hooks...)
	s.ctl.mu.Unlock()
	s.limits.reset()
	s.DropCaches()
	for _, fn := range hooks {
		fn(ctx)
	}
}

// Enter admits one request past the reset gate; the request calls Leave
// when it is done. Long-lived connections (Stream sockets) must not hold
// it: a reset waits for every holder.
func (s *Service) Enter() { s.ctl.gate.RLock() }

// Leave ends what Enter admitted.
func (s *Service) Leave() { s.ctl.gate.RUnlock() }

func (s *Service) requireControls() error {
	if !s.ctl.enabled {
		return ding.Errorf(ding.Forbidden, ding.ReasonNone, "test controls are off: start dingchat with --test-controls")
	}
	return nil
}

// droppedSettings are the settings a reset deletes: the moved clock. The
// rest are keys and seeds (the admin token's hash, the demo's seed, signing
// keys) and the fault rules, which are controls rather than state.
var droppedSettings = []string{ding.SettingClock}

// ResetResult describes a finished reset.
type ResetResult struct {
	Generation int64 `json:"generation"`
	TookMs     int64 `json:"tookMs"`
}

// Reset puts the store back to what start declared: every table emptied,
// uploaded files removed, the org file and the demo applied again, the clock
// back to real time, in-memory state cleared through the OnReset hooks. On
// this node no request runs between the first delete and the last hook.
func (s *Service) Reset(ctx context.Context) (*ResetResult, error) {
	if err := s.requireControls(); err != nil {
		return nil, err
	}
	start := time.Now()
	s.ctl.gate.Lock()
	defer s.ctl.gate.Unlock()
	gen, err := s.store.Reset(ctx, droppedSettings)
	if err != nil {
		return nil, err
	}
	if c, ok := s.blobs.(interface{ Clear(context.Context) error }); ok {
		if err := c.Clear(ctx); err != nil {
			return nil, err
		}
	}
	if cc, ok := s.clock.(*ding.ControlClock); ok {
		// the stored clock setting went with the reset
		cc.Force(ding.ClockState{})
		s.ctl.clockJSON.Store("")
	}
	if _, err := s.ApplyDeclared(ctx); err != nil {
		return nil, err
	}
	s.ctl.mu.Lock()
	tokens := append([]ding.MemberToken{}, s.ctl.tokens...)
	s.ctl.mu.Unlock()
	for _, t := range tokens {
		if _, err := s.store.User(ctx, t.CorpID, t.UserID); err != nil {
			continue // its corp is no longer declared
		}
		if err := s.store.SaveMemberToken(ctx, t); err != nil {
			return nil, err
		}
	}
	s.runResetHooks(ctx)
	s.ctl.gen.Store(gen)
	return &ResetResult{Generation: gen, TookMs: time.Since(start).Milliseconds()}, nil
}

// SyncControls catches up with what another node sharing the store
// decided: a reset (run the hooks), the clock, the fault rules.
func (s *Service) SyncControls(ctx context.Context) error {
	if !s.ctl.enabled {
		return nil
	}
	if err := s.syncFaults(ctx); err != nil {
		return err
	}
	v, _, err := s.store.GetSetting(ctx, ding.SettingResetGeneration)
	if err != nil {
		return err
	}
	gen, _ := strconv.ParseInt(v, 10, 64)
	if gen != s.ctl.gen.Load() {
		s.ctl.gate.Lock()
		if gen != s.ctl.gen.Load() { // not a reset this node just made
			s.runResetHooks(ctx)
			s.ctl.gen.Store(gen)
		}
		s.ctl.gate.Unlock()
	}
	cc, ok := s.clock.(*ding.ControlClock)
	if !ok {
		return nil
	}
	js, _, err := s.store.GetSetting(ctx, ding.SettingClock)
	if err != nil {
		return err
	}
	if prev, _ := s.ctl.clockJSON.Load().(string); js != prev {
		var st ding.ClockState
		if js != "" {
			if err := json.Unmarshal([]byte(js), &st); err != nil {
				return fmt.Errorf("stored clock %q: %w", js, err)
			}
		}
		cc.Force(st)
		s.ctl.clockJSON.Store(js)
	}
	return nil
}

// WatchControls calls SyncControls every interval until ctx ends, so that
// every node sharing a database sees a reset or a clock move made on
// another within about one interval.
func (s *Service) WatchControls(ctx context.Context, every time.Duration, onErr func(error)) {
	if !s.ctl.enabled {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.SyncControls(ctx); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// ClockView is what the clock control answers.
type ClockView struct {
	Now      string `json:"now"` // RFC 3339 with milliseconds, China time as DingTalk speaks it
	NowMs    int64  `json:"nowMs"`
	Movable  bool   `json:"movable"`
	OffsetMs int64  `json:"offsetMs"`
	Pinned   bool   `json:"pinned"`
}

func (s *Service) clockView() *ClockView {
	now := s.clock.Now()
	v := &ClockView{Now: now.In(chinaTime).Format("2006-01-02T15:04:05.000Z07:00"), NowMs: now.UnixMilli()}
	if cc, ok := s.clock.(*ding.ControlClock); ok {
		st := cc.State()
		v.Movable, v.OffsetMs, v.Pinned = true, st.OffsetMs, st.Pinned
	}
	return v
}

// ReadClock tells the server's time.
func (s *Service) ReadClock(ctx context.Context) *ClockView { return s.clockView() }

// ClockMove is one move of the clock; exactly one field is set.
type ClockMove struct {
	Advance string `json:"advance,omitempty"` // a Go duration, optionally with a leading +: "+2h", "90s", "24h30m"
	Pin     string `json:"pin,omitempty"`     // an RFC 3339 time: the clock stops there
	Freeze  bool   `json:"freeze,omitempty"`  // stop the clock where it stands
	Resume  bool   `json:"resume,omitempty"`  // let a pinned clock tick again from where it stands
	Real    bool   `json:"real,omitempty"`    // back to real time; refused while that would run backwards (a reset always does it)
}

// MoveClock moves the server's clock; every node sharing the store follows.
func (s *Service) MoveClock(ctx context.Context, m ClockMove) (*ClockView, error) {
	if err := s.requireControls(); err != nil {
		return nil, err
	}
	cc, ok := s.clock.(*ding.ControlClock)
	if !ok {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonNone, "this server's clock is not movable")
	}
	n := 0
	for _, set := range []bool{m.Advance != "", m.Pin != "", m.Freeze, m.Resume, m.Real} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "give exactly one of advance, pin, freeze, resume, real")
	}
	st := cc.State()
	now := cc.Now()
	var err error
	switch {
	case m.Advance != "":
		d, perr := time.ParseDuration(strings.TrimPrefix(m.Advance, "+"))
		if perr != nil {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "advance %q is not a duration like +2h or 90s", m.Advance)
		}
		st, err = cc.Advance(d)
	case m.Pin != "":
		t, perr := time.Parse(time.RFC3339Nano, m.Pin)
		if perr != nil {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "pin %q is not an RFC 3339 time like 2026-01-31T23:59:00+08:00", m.Pin)
		}
		st = ding.ClockState{Pinned: true, PinnedAtMs: t.UnixMilli()}
		err = cc.Set(st)
	case m.Freeze:
		st = ding.ClockState{Pinned: true, PinnedAtMs: now.UnixMilli()}
		err = cc.Set(st)
	case m.Resume:
		// rounded up: milliseconds lost to rounding would read as running back
		st = ding.ClockState{OffsetMs: now.Sub(time.Now()).Milliseconds() + 1}
		err = cc.Set(st)
	case m.Real:
		st = ding.ClockState{}
		err = cc.Set(st)
	}
	if err != nil {
		return nil, err
	}
	js, _ := json.Marshal(st)
	if err := s.store.PutSetting(ctx, ding.SettingClock, string(js)); err != nil {
		return nil, err
	}
	s.ctl.clockJSON.Store(string(js))
	return s.clockView(), nil
}

// TestCorpInput asks for a throwaway corp; every field is optional.
type TestCorpInput struct {
	Name  string   `json:"name,omitempty"`
	Users []string `json:"users,omitempty"` // userids; default manager, user1 … user4
	// Robots is how many org robots to create (default 0).
	Robots int `json:"robots,omitempty"`
}

// TestCorp is a throwaway corp with what a test needs to call DingChat.
type TestCorp struct {
	CorpID string        `json:"corpId"`
	Name   string        `json:"name"`
	Apps   []TestCorpApp `json:"apps"`
	Users  []string      `json:"users"`
	Robots []string      `json:"robots"`
}

// TestCorpApp is the throwaway corp's app.
type TestCorpApp struct {
	AppKey    string `json:"appKey"`
	AppSecret string `json:"appSecret"`
	AgentID   int64  `json:"agentId"`
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// CreateTestCorp creates a corp of its own with one internal app (every
// scope, every user visible) and users, for one test: parallel tests each
// use theirs and never see each other's groups or messages.
func (s *Service) CreateTestCorp(ctx context.Context, in TestCorpInput) (*TestCorp, error) {
	users := in.Users
	if len(users) == 0 {
		users = []string{"manager", "user1", "user2", "user3", "user4"}
	}
	if len(users) > 1000 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "at most 1000 users")
	}
	if in.Robots < 0 || in.Robots > 20 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "robots is 0 to 20")
	}
	seen := map[string]bool{}
	for _, u := range users {
		if u == "" || len(u) > 64 || strings.ContainsAny(u, " /?#&\t\n") {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "userid %q must be 1-64 characters without spaces, / ? # &", u)
		}
		if seen[u] {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "userid %q is given twice", u)
		}
		seen[u] = true
	}
	name := in.Name
	if name == "" {
		name = "测试企业"
	}
	now := s.nowMs()
	corpID := "ding" + randHex(16)
	org := &ding.Org{Corp: ding.Corp{ID: corpID, Name: name, CreatedAt: now}}
	app := ding.App{Key: "ding" + randHex(16), CorpID: corpID, Secret: randHex(64), AgentID: 3000000001, Name: "测试应用",
		Scopes: ding.DefaultScopes, VisibleAll: true, OrdinaryGroups: true, CreatedAt: now}
	org.Apps = []ding.App{app}
	for i, u := range users {
		org.Users = append(org.Users, ding.User{CorpID: corpID, UserID: u, UnionID: randHex(22) + "iE", Name: u,
			Mobile: fmt.Sprintf("139%08d", i), Active: true, Admin: i == 0, DeptIDs: []int64{1}, Created: now})
	}
	out := &TestCorp{CorpID: corpID, Name: name, Users: users, Robots: []string{},
		Apps: []TestCorpApp{{AppKey: app.Key, AppSecret: app.Secret, AgentID: app.AgentID}}}
	for i := 0; i < in.Robots; i++ {
		code := "dingrobot" + randHex(16)
		org.Robots = append(org.Robots, ding.Robot{Code: code, CorpID: corpID, Name: fmt.Sprintf("测试机器人%d", i+1), CreatedAt: now})
		out.Robots = append(out.Robots, code)
	}
	if err := s.store.ApplyOrg(ctx, org); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteCorp deletes a corp with everything it owns: apps and their tokens,
// users, groups, messages, media records, robots, events.
func (s *Service) DeleteCorp(ctx context.Context, corpID string) error {
	err := s.store.DeleteCorp(ctx, corpID)
	s.DropCaches() // its tokens and apps must not outlive it here
	if ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonNone, "no corp %s", corpID)
	}
	return err
}

// EventQuery filters the event log.
type EventQuery struct {
	CorpID string
	Type   string // "" = every type
	Since  int64  // Unix ms, inclusive; 0 = from the start
	Until  int64  // Unix ms, exclusive; 0 = no end
	After  int64  // seq cursor
	Limit  int
}

// FindEvents reads a corp's events after a cursor, filtered, oldest first;
// next is the cursor of the following page (the last seq looked at) and
// more tells whether the log goes on.
func (s *Service) FindEvents(ctx context.Context, q EventQuery) (events []ding.Event, next int64, more bool, err error) {
	if q.Limit <= 0 || q.Limit > 500 {
		return nil, 0, false, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "limit is 1 to 500")
	}
	if q.After < 0 {
		return nil, 0, false, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "after must not be negative")
	}
	if _, err := s.store.Corp(ctx, q.CorpID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return nil, 0, false, ding.Errorf(ding.NotFound, ding.ReasonNone, "no corp %s", q.CorpID)
		}
		return nil, 0, false, err
	}
	after := q.After
	out := []ding.Event{}
	for {
		page, err := s.store.Events(ctx, q.CorpID, after, 500)
		if err != nil {
			return nil, 0, false, err
		}
		for i, e := range page {
			after = e.Seq
			if (q.Type == "" || e.Type == q.Type) && e.CreatedAt >= q.Since && (q.Until == 0 || e.CreatedAt < q.Until) {
				out = append(out, e)
				if len(out) == q.Limit {
					return out, after, i < len(page)-1 || len(page) == 500, nil
				}
			}
		}
		if len(page) < 500 {
			return out, after, false, nil
		}
	}
}
