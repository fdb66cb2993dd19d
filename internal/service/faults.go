package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// Surfaces a fault rule may name. API calls: legacy (oapi paths), topapi
// (/topapi/…), v1.0 (/v1.0/… and /v2.0/…), webhook (/robot/send), dingchat
// (/_dingchat/ outside the admin API). Deliveries: callback, stream.
var faultSurfaces = map[string]bool{"legacy": true, "topapi": true, "v1.0": true, "webhook": true, "dingchat": true,
	ding.DeliveryCallback: true, ding.DeliveryStream: true}

// Fault actions. API calls: error, latency, drop. Deliveries: delay, fail,
// close, duplicate.
const (
	FaultError     = "error"
	FaultLatency   = "latency"
	FaultDrop      = "drop"
	FaultDelay     = "delay"
	FaultFail      = "fail"
	FaultClose     = "close"
	FaultDuplicate = "duplicate"
)

// FaultRule makes matching calls or deliveries misbehave.
type FaultRule struct {
	ID string `json:"id"`

	// match: every field set must hold
	Surface      string `json:"surface,omitempty"`      // see faultSurfaces; "" = any API surface
	Path         string `json:"path,omitempty"`         // exact path, or a prefix ending in *: "/chat/send", "/v1.0/im/*"
	Method       string `json:"method,omitempty"`       // GET, POST…
	AppKey       string `json:"appKey,omitempty"`       // the calling app (or the subscription's app)
	BodyContains string `json:"bodyContains,omitempty"` // a substring of the request body (or delivery payload)
	Subscription string `json:"subscription,omitempty"` // deliveries: the subscription id
	EventType    string `json:"eventType,omitempty"`    // deliveries: the event type

	// how often: the first Count matches (0 = every one), each with Probability (0 = 1)
	Count       int     `json:"count,omitempty"`
	Probability float64 `json:"probability,omitempty"`

	// what to do
	Action    string `json:"action"`
	Errcode   *int   `json:"errcode,omitempty"`   // legacy/topapi/webhook error: errcode (default -1)
	Errmsg    string `json:"errmsg,omitempty"`    // … and errmsg (default 系统繁忙)
	SubCode   string `json:"subCode,omitempty"`   // topapi: sub_code
	Status    int    `json:"status,omitempty"`    // v1.0 error: HTTP status (default 503)
	Code      string `json:"code,omitempty"`      // … code (default ServiceUnavailable)
	Message   string `json:"message,omitempty"`   // … message
	LatencyMs int    `json:"latencyMs,omitempty"` // latency and delay: how long; also added before error or drop
	Copies    int    `json:"copies,omitempty"`    // duplicate: extra copies (default 1)

	Hits int `json:"hits"` // how often it fired
}

func (r *FaultRule) delivery() bool {
	return r.Surface == ding.DeliveryCallback || r.Surface == ding.DeliveryStream
}

func (r *FaultRule) validate() error {
	bad := func(format string, args ...any) error {
		return ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, format, args...)
	}
	if r.Surface != "" && !faultSurfaces[r.Surface] {
		return bad("surface %q is none of legacy, topapi, v1.0, webhook, dingchat, callback, stream", r.Surface)
	}
	if r.Count < 0 {
		return bad("count must not be negative")
	}
	if r.Probability < 0 || r.Probability > 1 {
		return bad("probability is between 0 and 1")
	}
	if r.LatencyMs < 0 || r.LatencyMs > 120000 {
		return bad("latencyMs is 0 to 120000")
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return bad("path %q must start with /", r.Path)
	}
	if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
		return bad("status %d is not an HTTP error status", r.Status)
	}
	if r.Copies < 0 || r.Copies > 10 {
		return bad("copies is 0 to 10")
	}
	api := map[string]bool{FaultError: true, FaultLatency: true, FaultDrop: true}
	del := map[string]bool{FaultDelay: true, FaultFail: true, FaultClose: true, FaultDuplicate: true}
	switch {
	case r.delivery() && !del[r.Action]:
		return bad("a %s rule's action is delay, fail, close or duplicate", r.Surface)
	case !r.delivery() && !api[r.Action]:
		return bad("an API rule's action is error, latency or drop")
	case (r.Action == FaultLatency || r.Action == FaultDelay) && r.LatencyMs == 0:
		return bad("%s needs latencyMs", r.Action)
	case !r.delivery() && (r.Subscription != "" || r.EventType != ""):
		return bad("subscription and eventType match deliveries only (surface callback or stream)")
	}
	return nil
}

// Faults holds this node's fault rules, in the order they were added: the
// first rule that matches decides.
type Faults struct {
	mu    sync.Mutex
	rules []*FaultRule
}

// NewFaults is an empty rule set.
func NewFaults() *Faults { return &Faults{} }

var _ ding.DeliveryFaults = (*Faults)(nil)

// Add validates r, gives it an id and appends it.
func (f *Faults) Add(r FaultRule) (*FaultRule, error) {
	r.Hits = 0
	if err := r.validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// random: nodes sharing a store add rules independently
	r.ID = "fault-" + randHex(8)
	f.rules = append(f.rules, &r)
	c := r
	return &c, nil
}

// replace swaps in rules decided elsewhere; a rule that stays keeps this
// node's hit count.
func (f *Faults) replace(rules []FaultRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hits := map[string]int{}
	for _, r := range f.rules {
		hits[r.ID] = r.Hits
	}
	f.rules = f.rules[:0]
	for _, r := range rules {
		r.Hits = hits[r.ID]
		f.rules = append(f.rules, &r)
	}
}

// encode is the rules as stored, without this node's hit counts.
func (f *Faults) encode() string {
	rules := f.List()
	for i := range rules {
		rules[i].Hits = 0
	}
	b, _ := json.Marshal(rules)
	return string(b)
}

// List copies the rules.
func (f *Faults) List() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, *r)
	}
	return out
}

// Remove deletes one rule; false when there is none with that id.
func (f *Faults) Remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear deletes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Active reports whether any rule exists, so the middleware skips its work
// when none does.
func (f *Faults) Active() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rules) > 0
}

// NeedsApp reports whether some API rule matches on the app, so the caller
// resolves the request's app only then.
func (f *Faults) NeedsApp() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.AppKey != "" && !r.delivery() {
			return true
		}
	}
	return false
}

// Call describes one API call for matching.
type Call struct {
	Surface string
	Method  string
	Path    string
	AppKey  string
	Body    []byte // the start of the body
}

func pathMatch(pattern, path string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, p)
	}
	return pattern == path
}

// take reports whether r fires for a matching call and counts it.
func (r *FaultRule) take() bool {
	if r.Count > 0 && r.Hits >= r.Count {
		return false
	}
	if r.Probability > 0 && r.Probability < 1 && rand.Float64() >= r.Probability {
		return false
	}
	r.Hits++
	return true
}

// MatchCall returns a copy of the first API rule that fires for c, nil when
// none does.
func (f *Faults) MatchCall(c Call) *FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.delivery() || (r.Surface != "" && r.Surface != c.Surface) || (r.Path != "" && !pathMatch(r.Path, c.Path)) ||
			(r.Method != "" && !strings.EqualFold(r.Method, c.Method)) || (r.AppKey != "" && r.AppKey != c.AppKey) ||
			(r.BodyContains != "" && !strings.Contains(string(c.Body), r.BodyContains)) {
			continue
		}
		if r.take() {
			cp := *r
			return &cp
		}
	}
	return nil
}

// DeliveryFault answers what the delivery code should do with one delivery
// attempt: the first delivery rule that fires decides.
func (f *Faults) DeliveryFault(ctx context.Context, d ding.Push) ding.DeliveryFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if !r.delivery() || r.Surface != d.Channel || (r.Subscription != "" && r.Subscription != d.Subscription) ||
			(r.AppKey != "" && r.AppKey != d.AppKey) || (r.EventType != "" && r.EventType != d.EventType) ||
			(r.BodyContains != "" && !strings.Contains(string(d.Body), r.BodyContains)) {
			continue
		}
		if !r.take() {
			continue
		}
		out := ding.DeliveryFault{Delay: time.Duration(r.LatencyMs) * time.Millisecond, RuleID: r.ID}
		switch r.Action {
		case FaultFail:
			out.Fail = true
		case FaultClose:
			out.Close = true
			out.Fail = d.Channel == ding.DeliveryCallback
		case FaultDuplicate:
			out.Duplicate = max(r.Copies, 1)
		}
		return out
	}
	return ding.DeliveryFault{}
}

// AddFault adds a fault rule (test controls on); every node sharing the
// store applies it.
func (s *Service) AddFault(ctx context.Context, r FaultRule) (*FaultRule, error) {
	if err := s.requireControls(); err != nil {
		return nil, err
	}
	s.ctl.faultsMu.Lock()
	defer s.ctl.faultsMu.Unlock()
	out, err := s.ctl.faults.Add(r)
	if err != nil {
		return nil, err
	}
	return out, s.storeFaults(ctx)
}

// RemoveFault deletes one rule on every node; NotFound when none has the id.
func (s *Service) RemoveFault(ctx context.Context, id string) error {
	s.ctl.faultsMu.Lock()
	defer s.ctl.faultsMu.Unlock()
	if !s.ctl.faults.Remove(id) {
		return ding.Errorf(ding.NotFound, ding.ReasonNone, "no fault rule %s", id)
	}
	return s.storeFaults(ctx)
}

// ClearFaults deletes every rule on every node.
func (s *Service) ClearFaults(ctx context.Context) error {
	s.ctl.faultsMu.Lock()
	defer s.ctl.faultsMu.Unlock()
	s.ctl.faults.Clear()
	return s.storeFaults(ctx)
}

// storeFaults stores this node's rules; the caller holds faultsMu from its
// change until the rules are stored, so a sync cannot put back what the
// store held before the change.
func (s *Service) storeFaults(ctx context.Context) error {
	js := s.ctl.faults.encode()
	if err := s.store.PutSetting(ctx, ding.SettingFaults, js); err != nil {
		return err
	}
	s.ctl.faultsJSON = js
	return nil
}

// syncFaults takes the rules another node stored.
func (s *Service) syncFaults(ctx context.Context) error {
	// read under the lock: a read from before a local change, taken after
	// it, would replace the new rules with the old
	s.ctl.faultsMu.Lock()
	defer s.ctl.faultsMu.Unlock()
	js, _, err := s.store.GetSetting(ctx, ding.SettingFaults)
	if err != nil {
		return err
	}
	if js == s.ctl.faultsJSON {
		return nil
	}
	var rules []FaultRule
	if js != "" {
		if err := json.Unmarshal([]byte(js), &rules); err != nil {
			return fmt.Errorf("stored fault rules: %w", err)
		}
	}
	s.ctl.faults.replace(rules)
	s.ctl.faultsJSON = js
	return nil
}

// AppKeyOfToken names the app an access token belongs to, "" when none.
func (s *Service) AppKeyOfToken(ctx context.Context, token string) string {
	if token == "" {
		return ""
	}
	t, err := s.store.Token(ctx, ding.SecretHash(token))
	if err != nil {
		return ""
	}
	return t.AppKey
}
