package ding

import (
	"sync"
	"time"
)

// Clock tells the time; tests inject one they can move.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// IDs mints the identifiers DingTalk clients see.
type IDs interface {
	ChatID() string             // "chat" + 32 lowercase hex
	OpenConversationID() string // "cid" + base64
	Token() string              // 32 lowercase hex
	MessageID() string          // "msg" + base64: may need URL-encoding, as DingTalk's do
	MediaID() string            // "@" + base64url
	RequestID() string          // upper-case UUID
}

// ClockState is where a ControlClock stands: real time plus Offset, or, when
// Pinned, frozen at PinnedAt.
type ClockState struct {
	OffsetMs   int64 `json:"offsetMs"`
	Pinned     bool  `json:"pinned"`
	PinnedAtMs int64 `json:"pinnedAtMs,omitempty"`
}

// ControlClock is the clock the test controls move. It never runs
// backwards: a reading is never earlier than one handed out before, so
// stored timestamps and the windows built on them only move forward.
type ControlClock struct {
	mu    sync.Mutex
	base  Clock
	state ClockState
	last  time.Time
}

// NewControlClock starts at base's time; nil base means the real clock.
func NewControlClock(base Clock) *ControlClock {
	if base == nil {
		base = SystemClock{}
	}
	return &ControlClock{base: base}
}

func (c *ControlClock) read(st ClockState) time.Time {
	if st.Pinned {
		return time.UnixMilli(st.PinnedAtMs)
	}
	return c.base.Now().Add(time.Duration(st.OffsetMs) * time.Millisecond)
}

// Now is the moved time, never earlier than the previous reading.
func (c *ControlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.read(c.state)
	if t.Before(c.last) {
		t = c.last
	}
	c.last = t
	return t
}

// State is where the clock stands.
func (c *ControlClock) State() ClockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Set moves the clock to st; Invalid when that would read earlier than a
// reading already handed out.
func (c *ControlClock) Set(st ClockState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setLocked(st)
}

func (c *ControlClock) setLocked(st ClockState) error {
	// states hold milliseconds: a move to the millisecond already read is no move back
	if t := c.read(st); t.Before(c.last.Truncate(time.Millisecond)) {
		return Errorf(Invalid, ReasonInvalidParam, "the clock never runs backwards: %s is before %s",
			t.UTC().Format(time.RFC3339Nano), c.last.UTC().Format(time.RFC3339Nano))
	}
	c.state = st
	return nil
}

// Force moves the clock to st even backwards, forgetting earlier readings:
// only for a store emptied by a reset, or a state another node decided.
func (c *ControlClock) Force(st ClockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = st
	c.last = time.Time{}
}

// Advance moves the clock forward by d (> 0), pinned or not.
func (c *ControlClock) Advance(d time.Duration) (ClockState, error) {
	if d <= 0 {
		return ClockState{}, Errorf(Invalid, ReasonInvalidParam, "advance by a positive duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	if st.Pinned {
		st.PinnedAtMs += d.Milliseconds()
	} else {
		st.OffsetMs += d.Milliseconds()
	}
	return st, c.setLocked(st)
}
