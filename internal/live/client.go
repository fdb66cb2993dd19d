package live

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/dingchat/dingchat/internal/ding"
)

// Resume is where a client left off: the last event sequence number of its
// corp it saw, and the last message Seq per group. Nil or absent values
// start at the current heads.
type Resume struct {
	Events *int64           `json:"events,omitempty"`
	Groups map[string]int64 `json:"groups,omitempty"`
}

// Client is one member's connection.
type Client struct {
	hub    *Hub
	corpID string
	userID string
	admin  bool // an operator: every event of the corp, no membership

	mu      sync.Mutex
	groups  map[string]int64 // chatid → last Seq sent
	feeds   map[string]*feed // chatid → its feed
	corp    *feed
	events  int64    // last event Seq sent
	reads   [][]byte // read frames waiting
	tooSlow bool
	reset   bool
	wake    chan struct{}

	bound  <-chan struct{} // the end of the context Next last waited on, and
	unbind func() bool     // what stops it waking c (Next's and Close's goroutine)

	// Next's buffers, kept so a delivery allocates none (Next's goroutine)
	due []moved
	out [][]byte
}

// moved is a group whose head passed the client's cursor.
type moved struct {
	id string
	at int64
	f  *feed
}

// ErrClosed ends every client when the hub stops; ErrReset when the store
// was reset to its declared state.
var (
	ErrClosed = errors.New("live: server going away")
	ErrReset  = errors.New("live: store reset")
)

// GroupHead is a group as the hello frame reports it.
type GroupHead struct {
	ChatID  string `json:"chatid"`
	LastSeq int64  `json:"lastSeq"`
	ReadSeq int64  `json:"readSeq"`
}

type helloFrame struct {
	Type   string      `json:"type"` // hello
	CorpID string      `json:"corpId"`
	UserID string      `json:"userid"`
	Events int64       `json:"events"` // the corp's newest event Seq now
	Groups []GroupHead `json:"groups"`
}

type readFrame struct {
	Type   string `json:"type"` // read
	ChatID string `json:"chatid"`
	UserID string `json:"userid"`
	Seq    int64  `json:"seq"`
}

// MessageJSON is a message as the member API shows it.
type MessageJSON struct {
	MessageID  string          `json:"messageId"`
	Seq        int64           `json:"seq"`
	ChatID     string          `json:"chatid"`
	SenderType string          `json:"senderType"`
	Sender     string          `json:"sender"`
	MsgType    string          `json:"msgtype"`
	Msg        json.RawMessage `json:"msg"` // null once recalled
	Recalled   bool            `json:"recalled"`
	RecalledAt int64           `json:"recalledAt,omitempty"`
	CreatedAt  int64           `json:"createdAt"`
}

// MessageView is m as the member API shows it.
func MessageView(m *ding.Message) MessageJSON {
	v := MessageJSON{MessageID: m.ID, Seq: m.Seq, ChatID: m.ChatID, SenderType: m.SenderType, Sender: m.Sender,
		MsgType: m.MsgType, Msg: m.Body, CreatedAt: m.CreatedAt}
	if len(v.Msg) == 0 {
		v.Msg = json.RawMessage("null")
	}
	if m.RecalledAt != 0 {
		v.Msg, v.Recalled, v.RecalledAt = json.RawMessage("null"), true, m.RecalledAt
	}
	return v
}

type messageFrame struct {
	Type    string      `json:"type"` // message
	ChatID  string      `json:"chatid"`
	Seq     int64       `json:"seq"`
	Message MessageJSON `json:"message"`
}

// EventJSON is an event of the corp's log as live clients see it.
type EventJSON struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	ChatID    string          `json:"chatid,omitempty"`
	Operator  string          `json:"operator,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt int64           `json:"createdAt"`
}

type eventFrame struct {
	Type  string    `json:"type"` // event
	Seq   int64     `json:"seq"`
	Event EventJSON `json:"event"`
}

// MessageFrame encodes m as a message frame.
func MessageFrame(m *ding.Message) Frame {
	b, _ := json.Marshal(messageFrame{Type: "message", ChatID: m.ChatID, Seq: m.Seq, Message: MessageView(m)})
	return Frame{Seq: m.Seq, ChatID: m.ChatID, Data: b}
}

func eventFrameOf(ev *ding.Event) Frame {
	e := EventJSON{Seq: ev.Seq, Type: ev.Type, ChatID: ev.ChatID, Operator: ev.Operator, CreatedAt: ev.CreatedAt}
	if json.Valid(ev.Data) {
		e.Data = ev.Data
	}
	b, _ := json.Marshal(eventFrame{Type: "event", Seq: ev.Seq, Event: e})
	c := *ev
	return Frame{Seq: ev.Seq, ChatID: ev.ChatID, Data: b, ev: &c}
}

// membership events: after them the client checks whether it is still, or
// now, a member of the group.
var membership = map[string]bool{
	ding.EventChatCreate: true, ding.EventChatAddMember: true, ding.EventChatRemoveMember: true,
	ding.EventChatQuit: true, ding.EventChatDisband: true,
}

// Connect registers a member's connection and returns it with its hello
// frame. Close releases it.
func (h *Hub) Connect(ctx context.Context, corpID, userID string, from Resume) (*Client, []byte, error) {
	hs, err := h.store.MemberHeads(ctx, corpID, userID)
	if err != nil {
		return nil, nil, err
	}
	return h.connect(ctx, corpID, userID, hs, from)
}

// Watch registers an operator's connection: every event of the corp and
// the messages of the chosen groups of it (unknown ones are left out).
func (h *Hub) Watch(ctx context.Context, corpID string, chats []string, from Resume) (*Client, []byte, error) {
	var ids []string
	for _, id := range chats {
		if _, err := h.store.Group(ctx, corpID, id); err == nil {
			ids = append(ids, id)
		} else if !ding.IsKind(err, ding.NotFound) {
			return nil, nil, err
		}
	}
	seqs, err := h.store.LastSeqs(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	hs := make([]ding.GroupHead, len(ids))
	for i, id := range ids {
		hs[i] = ding.GroupHead{ChatID: id, LastSeq: seqs[id]}
	}
	return h.connect(ctx, corpID, "", hs, from)
}

func (h *Hub) connect(ctx context.Context, corpID, userID string, hs []ding.GroupHead, from Resume) (*Client, []byte, error) {
	evHead, err := h.store.LatestEventSeq(ctx, corpID)
	if err != nil {
		return nil, nil, err
	}
	c := &Client{hub: h, corpID: corpID, userID: userID, admin: userID == "", groups: map[string]int64{}, feeds: map[string]*feed{}, events: evHead, wake: make(chan struct{}, 1)}
	if from.Events != nil && *from.Events >= 0 && *from.Events < evHead {
		c.events = *from.Events
	}
	hello := helloFrame{Type: "hello", CorpID: corpID, UserID: userID, Events: evHead, Groups: make([]GroupHead, 0, len(hs))}
	ids := make([]string, len(hs))
	for i, g := range hs {
		id, last := g.ChatID, g.LastSeq
		ids[i] = id
		c.groups[id] = last
		if s, ok := from.Groups[id]; ok && s >= 0 && s < last {
			c.groups[id] = s
		}
		hello.Groups = append(hello.Groups, GroupHead{ChatID: id, LastSeq: last, ReadSeq: g.ReadSeq})
	}
	c.corp = h.watch(corpID, true, evHead, c)
	for _, g := range hs {
		f := h.watch(g.ChatID, false, g.LastSeq, c)
		c.mu.Lock()
		c.feeds[g.ChatID] = f
		c.mu.Unlock()
	}
	// a commit between reading the heads and watching them: read them again
	h.recheck(ids)
	if h.told {
		h.eventsMoved([]string{corpID})
	}
	c.poke()
	b, _ := json.Marshal(hello)
	return c, b, nil
}

// Close stops delivery to c.
func (c *Client) Close() {
	c.mu.Lock()
	ids := slices.Collect(maps.Keys(c.groups))
	c.mu.Unlock()
	for _, id := range ids {
		c.hub.unwatch(id, false, c)
	}
	c.hub.unwatch(c.corpID, true, c)
	if c.unbind != nil {
		c.unbind()
	}
}

func (c *Client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Client) addRead(b []byte) {
	c.mu.Lock()
	if int64(len(c.reads)) >= c.hub.cfg.MaxLag {
		c.tooSlow = true
	} else {
		c.reads = append(c.reads, b)
	}
	c.mu.Unlock()
	c.poke()
}

// Next waits for what the client has not seen yet and returns it, in
// order per group and per corp: each message, event and read mark once.
// The slice it returns is valid until the next call.
// ErrTooSlow when the client trails a head by more than MaxLag.
func (c *Client) Next(ctx context.Context) ([][]byte, error) {
	for {
		out, err := c.pending(ctx)
		if err != nil || len(out) > 0 {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		select {
		case <-c.hub.done:
			return nil, ErrClosed
		default:
		}
		c.bind(ctx)
		<-c.wake // the end of ctx and the hub's stop poke too
	}
}

// bind makes the end of ctx wake c: once per context, not per wait (a
// three-way select per delivery was a twelfth of the fan-out's CPU).
func (c *Client) bind(ctx context.Context) {
	done := ctx.Done() // names the context's end; contexts themselves may not compare
	if done == c.bound {
		return
	}
	if c.unbind != nil {
		c.unbind()
		c.unbind = nil
	}
	c.bound = done
	if done != nil {
		c.unbind = context.AfterFunc(ctx, c.poke)
	}
}

func (c *Client) pending(ctx context.Context) ([][]byte, error) {
	h := c.hub
	clear(c.out) // what the last call returned: the caller is done with it
	out := c.out[:0]
	c.mu.Lock()
	slow, reset := c.tooSlow, c.reset
	reads := c.reads
	c.reads = nil
	// only the groups that moved, so a wake costs no copy of every cursor
	due := c.due[:0]
	for id, at := range c.groups {
		if f := c.feeds[id]; f != nil && f.head.Load() > at {
			due = append(due, moved{id, at, f})
		}
	}
	c.due = due[:0]
	defer clear(due)
	evAt := c.events
	c.mu.Unlock()
	if reset {
		return nil, ErrReset
	}
	if slow {
		return nil, ErrTooSlow
	}
	more := false
	for _, d := range due {
		id, at, f := d.id, d.at, d.f
		head := f.head.Load()
		if head-at > h.cfg.MaxLag {
			return nil, ErrTooSlow
		}
		fs, err := h.since(ctx, f, at, head)
		if err != nil {
			return nil, err
		}
		for _, fr := range fs {
			if fr.Seq == at+1 { // never a gap, never twice
				out = append(out, fr.Data)
				at = fr.Seq
			}
		}
		more = more || at < head
		c.mu.Lock()
		if _, ok := c.groups[id]; ok {
			c.groups[id] = at
		}
		c.mu.Unlock()
	}
	if f, head := c.corp, c.corp.head.Load(); head > evAt {
		if head-evAt > h.cfg.MaxLag {
			return nil, ErrTooSlow
		}
		fs, err := h.since(ctx, f, evAt, head)
		if err != nil {
			return nil, err
		}
		for _, fr := range fs {
			if fr.Seq != evAt+1 {
				continue
			}
			evAt = fr.Seq
			if c.admin {
				out = append(out, fr.Data)
				continue
			}
			if fr.ev == nil || fr.ChatID == "" {
				continue
			}
			c.mu.Lock()
			_, in := c.groups[fr.ChatID]
			c.mu.Unlock()
			if membership[fr.ev.Type] {
				now, err := c.member(ctx, fr.ChatID)
				if err != nil {
					return nil, err
				}
				if now && !in {
					if err := c.join(ctx, fr.ChatID, fr.ev.Type == ding.EventChatCreate); err != nil {
						return nil, err
					}
				}
				if in || now {
					out = append(out, fr.Data)
				}
				if in && !now {
					c.leave(fr.ChatID)
				}
				continue
			}
			if in {
				out = append(out, fr.Data)
			}
		}
		more = more || evAt < head
		c.mu.Lock()
		c.events = evAt
		c.mu.Unlock()
	}
	out = append(out, reads...)
	if more {
		c.poke()
	}
	c.out = nil
	if cap(out) <= 64 { // a burst's big slice is not kept
		c.out = out
	}
	return out, nil
}

func (c *Client) member(ctx context.Context, chatID string) (bool, error) {
	_, err := c.hub.store.Member(ctx, chatID, ding.MemberEmp, c.userID)
	if ding.IsKind(err, ding.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// join starts delivering a group the member was added to: a new group from
// its first message, an existing one from its newest (DingChat's choice:
// history shown to new members is the REST API's, not the live feed's).
func (c *Client) join(ctx context.Context, chatID string, created bool) error {
	var at int64
	if !created {
		seqs, err := c.hub.store.LastSeqs(ctx, []string{chatID})
		if err != nil {
			return err
		}
		at = seqs[chatID]
	}
	f := c.hub.watch(chatID, false, at, c)
	c.mu.Lock()
	c.groups[chatID] = at
	c.feeds[chatID] = f
	c.mu.Unlock()
	c.hub.recheck([]string{chatID})
	return nil
}

func (c *Client) leave(chatID string) {
	c.mu.Lock()
	delete(c.groups, chatID)
	delete(c.feeds, chatID)
	c.mu.Unlock()
	c.hub.unwatch(chatID, false, c)
}
