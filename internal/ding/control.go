package ding

import (
	"context"
	"sync"
	"time"
)

// ControlStore is what the test controls need of a store.
type ControlStore interface {
	// Reset empties every table of the schema except its migration record
	// and settings, and deletes the settings named in drop, in one
	// transaction. Tables are found in the schema itself, so tables added
	// later are emptied too; settings (keys, seeds, the admin token's hash)
	// stay unless named. It stores and returns the next reset generation.
	Reset(ctx context.Context, drop []string) (int64, error)
	// DeleteCorp deletes a corp and every row that belongs to it: rows
	// holding its corp_id and, through foreign keys, rows referring to those.
	// NotFound when the corp is unknown.
	DeleteCorp(ctx context.Context, corpID string) error
	// PutSetting stores value under key, replacing what was there.
	PutSetting(ctx context.Context, key, value string) error
	// GetSetting returns a setting's value; ok is false when it is unset.
	GetSetting(ctx context.Context, key string) (value string, ok bool, err error)
}

// Settings the test controls keep in the store.
const (
	SettingResetGeneration = "reset_generation"
	SettingClock           = "clock"
	SettingFaults          = "fault_rules"
)

// CallInfo is what layers below the surfaces learn about one API call and
// the request log records: the app it acts for.
type CallInfo struct {
	mu     sync.Mutex
	appKey string
}

type callInfoKey struct{}

// WithCallInfo returns ctx carrying a fresh CallInfo.
func WithCallInfo(ctx context.Context) (context.Context, *CallInfo) {
	ci := &CallInfo{}
	return context.WithValue(ctx, callInfoKey{}, ci), ci
}

// NoteApp records that the call acts for app key; without a CallInfo in
// ctx it does nothing.
func NoteApp(ctx context.Context, key string) {
	if ci, _ := ctx.Value(callInfoKey{}).(*CallInfo); ci != nil {
		ci.mu.Lock()
		ci.appKey = key
		ci.mu.Unlock()
	}
}

// AppKey is the app the call acted for, "" when none was noted.
func (c *CallInfo) AppKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.appKey
}

// Push names one delivery attempt about to be made to an integration (an
// HTTP callback or a Stream message), for the delivery-fault rules.
type Push struct {
	Channel      string // DeliveryCallback or DeliveryStream
	Subscription string // the HTTP subscription's id, or for Stream the app key (Cursor.Consumer without its prefix)
	AppKey       string // the app the subscription belongs to, "" when none
	CorpID       string
	EventType    string
	Body         []byte // the payload about to be sent
}

// Delivery channels.
const (
	DeliveryCallback = "callback"
	DeliveryStream   = "stream"
)

// DeliveryFault is what a delivery-fault rule asks of one delivery; the
// zero value means deliver normally.
type DeliveryFault struct {
	Delay     time.Duration // wait this long before sending
	Fail      bool          // do not send: count the attempt as failed (callback: as if the endpoint answered 500; stream: as if unacknowledged)
	Close     bool          // stream: close the socket instead of sending; callback: as Fail
	Duplicate int           // send this many extra copies after the first
	RuleID    string        // the rule that decided, for logs; "" when none matched
}

// DeliveryFaults is asked before each delivery attempt.
type DeliveryFaults interface {
	DeliveryFault(ctx context.Context, p Push) DeliveryFault
}

// NoDeliveryFaults never interferes.
type NoDeliveryFaults struct{}

func (NoDeliveryFaults) DeliveryFault(context.Context, Push) DeliveryFault {
	return DeliveryFault{}
}
