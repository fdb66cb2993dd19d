package ding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Kinds of HTTP event subscriptions. Each signs with its own trailing key
// and speaks its own payload dialect, as DingTalk's do.
const (
	// SubRegister is made by an app through /call_back/register_call_back:
	// the trailing key is the CorpId (the SuiteKey for an ISV app) and the
	// payload is the legacy PascalCase dialect.
	SubRegister = "register"
	// SubAppPush is an internal app's "HTTP push" set in the developer
	// console (here: the admin API or the org file): trailing key the
	// AppKey, payload the envelope-plus-camelCase dialect.
	SubAppPush = "app"
	// SubSuitePush is an ISV suite's HTTP push: trailing key the SuiteKey,
	// events of every corp that authorised the suite.
	SubSuitePush = "suite"
	// SubRobot is an app's robot in HTTP mode: messages that @-mention the
	// robot are posted to URL with timestamp and sign headers made with the
	// app's secret (no encryption). Key is the app key.
	SubRobot = "robot"
)

// Payload dialects of a push (see DialectOf).
const (
	DialectLegacy = 1 // {"EventType","TimeStamp","CorpId","ChatId",…,"UserId":[…]}
	DialectPush   = 2 // {"EventType","EventTime","CorpId","BizId","eventId", camelCase fields…}
	DialectStream = 3 // the camelCase business object alone, in a Stream frame's data
)

// Subscription is where an app's or a suite's events go over HTTP.
type Subscription struct {
	ID     string // SubscriptionID(Kind, Key)
	Kind   string // SubRegister, SubAppPush or SubSuitePush
	Key    string // the app key, or the suite key for SubSuitePush
	CorpID string // the corp whose events it receives; "" for SubSuitePush
	// OwnerKey is the trailing key inside every ciphertext: CorpId, AppKey
	// or SuiteKey depending on the kind.
	OwnerKey string
	// Types lists the event types (call_back_tag) it receives; for pushes
	// an empty list means every event DingChat delivers.
	Types     []string
	Token     string
	AESKey    string // 43 characters: base64 of the 32-byte AES key without its "="
	URL       string
	CreatedAt int64
	UpdatedAt int64
}

// SubscriptionID names a subscription: one of each kind per key.
func SubscriptionID(kind, key string) string { return kind + ":" + key }

// Dialect is the payload dialect the subscription's kind speaks.
func (s *Subscription) Dialect() int {
	if s.Kind == SubRegister {
		return DialectLegacy
	}
	return DialectPush
}

// Wants reports whether the subscription receives events of type typ.
func (s *Subscription) Wants(typ string) bool {
	if !Pushed(typ) {
		return false
	}
	if typ == EventChatDisbandMicroapp && s.Kind != SubSuitePush {
		return false // only ISV suites bind micro-apps
	}
	if len(s.Types) == 0 {
		return s.Kind != SubRegister
	}
	for _, t := range s.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// PushedEvents are the event types DingTalk delivers to integrations; the
// rest of the event log (chat_create, settings, robots…) is DingChat's own.
var PushedEvents = []string{
	EventChatAddMember, EventChatRemoveMember, EventChatQuit, EventChatUpdateOwner,
	EventChatUpdateTitle, EventChatDisband, EventChatDisbandMicroapp,
}

// Pushed reports whether typ is delivered to subscribers.
func Pushed(typ string) bool {
	for _, t := range PushedEvents {
		if t == typ {
			return true
		}
	}
	return false
}

// Cursor is a consumer's durable place in one corp's event log. A consumer
// is one HTTP subscription or one Stream app; a node works a cursor only
// while it holds its lease, so each event is pushed by one node at a time.
type Cursor struct {
	Consumer string // "http:" + subscription id, "stream:" + app key
	CorpID   string
	Seq      int64 // every event up to Seq is done (delivered or given up)
	// Attempts already made at event Seq+1, and when the next may start
	// (Unix ms).
	Attempts   int
	NextAt     int64
	LeaseOwner string
	LeaseUntil int64
}

// Delivery is one attempt to deliver one event to one consumer.
type Delivery struct {
	ID        int64
	Consumer  string
	CorpID    string
	Seq       int64
	EventType string
	Attempt   int    // 1 for the first try
	At        int64  // Unix ms the attempt started
	Status    int    // HTTP status, 0 when none came back
	LatencyMs int64  //
	Outcome   string // DeliveryOK, DeliveryRetry or DeliveryFailed
	Error     string // why it failed, without secrets
	Payload   string // the decrypted payload
}

// Delivery outcomes.
const (
	DeliveryOK     = "ok"       // acknowledged
	DeliveryRetry  = "retry"    // failed, will be tried again
	DeliveryFailed = "failed"   // failed for the last time; listed as a failed result
	DeliverySkip   = "filtered" // never stored: the consumer does not take this type
)

// FailedEvent is an event given up on, kept for get_call_back_failed_result.
type FailedEvent struct {
	SubID     string
	CorpID    string
	Seq       int64
	Type      string
	EventTime int64
	Payload   string // the legacy dialect's JSON object
}

// Progress is what a consumer's worker writes back: its new place, the
// attempts it made and the events it gave up on, in one transaction.
type Progress struct {
	Consumer   string
	CorpID     string
	Owner      string // must still hold the lease
	Seq        int64
	Attempts   int
	NextAt     int64
	LeaseUntil int64
	Deliveries []Delivery
	Failed     []FailedEvent
}

// DeliveryFilter selects delivery attempts, newest first.
type DeliveryFilter struct {
	Consumer string
	CorpID   string
	Seq      int64 // 0 = any
	// SeqFrom and SeqTo bound the events' sequence numbers (inclusive; 0 =
	// unbounded): one read for a page of the event log
	SeqFrom, SeqTo int64
	Before         int64 // ID < Before; 0 = from the newest
	Limit          int
}

// SubscriptionStore keeps HTTP subscriptions, consumers' cursors, delivery
// attempts and failed results.
type SubscriptionStore interface {
	// SaveSubscription inserts or replaces sub; for a new one it creates a
	// cursor at the corp's newest event so only later events are pushed.
	SaveSubscription(ctx context.Context, sub *Subscription) error
	// Subscription returns NotFound when id is unknown.
	Subscription(ctx context.Context, id string) (*Subscription, error)
	// Subscriptions lists every subscription.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription removes the subscription, its cursors and its
	// failed results; NotFound when id is unknown.
	DeleteSubscription(ctx context.Context, id string) error

	// EnsureCursor creates the consumer's cursor in corpID at the corp's
	// newest event when it has none.
	EnsureCursor(ctx context.Context, consumer, corpID string) error
	// Cursors lists the cursors of consumers whose name starts with prefix.
	Cursors(ctx context.Context, prefix string) ([]Cursor, error)
	// LeaseCursor gives owner the cursor until `until` when it is free, expired
	// at now, or already owner's; ok is false when another node holds it.
	LeaseCursor(ctx context.Context, consumer, corpID, owner string, now, until int64) (c *Cursor, ok bool, err error)
	// SaveProgress applies p when p.Owner still holds the lease; Conflict otherwise.
	SaveProgress(ctx context.Context, p *Progress) error
	// ReleaseCursor gives up owner's lease.
	ReleaseCursor(ctx context.Context, consumer, corpID, owner string) error
	// DeleteCursors removes a consumer's cursors.
	DeleteCursors(ctx context.Context, consumer string) error
	// LatestEventSeq is the corp's newest event sequence number (0 when none).
	LatestEventSeq(ctx context.Context, corpID string) (int64, error)
	// SuiteCorps lists the corps that authorised a suite.
	SuiteCorps(ctx context.Context, suiteKey string) ([]string, error)

	// Deliveries lists delivery attempts, newest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// PruneDeliveries deletes attempts that started before `before`.
	PruneDeliveries(ctx context.Context, before int64) error
	// TakeFailedEvents returns up to limit of a subscription's failed
	// results, oldest first, and deletes them; more reports whether any remain.
	TakeFailedEvents(ctx context.Context, subID string, limit int) (events []FailedEvent, more bool, err error)
}

// PushResult is how one HTTP push went.
type PushResult struct {
	Status    int
	LatencyMs int64
	// Failure is "" when the receiver acknowledged with an encrypted
	// "success"; otherwise one of the Push* failures, with Err saying more.
	Failure string
	Err     error
}

// Why a push failed.
const (
	PushUnreachable = "unreachable" // no connection, or it broke
	PushTimeout     = "timeout"     // no whole answer before the deadline
	PushBadReply    = "bad_reply"   // a non-200 status, a redirect, an oversized or unparseable body
	PushSignature   = "signature"   // the reply's msg_signature does not match
	PushNotSuccess  = "not_success" // the reply decrypts to something else than "success"
	PushRefused     = "refused"     // the address is loopback or private and such URLs are refused
)

// Pusher delivers encrypted payloads to subscription URLs.
type Pusher interface {
	// Payload is the plaintext of ev in sub's dialect; biz is the event's
	// camelCase business object enriched with union ids.
	Payload(sub *Subscription, ev *Event, biz map[string]any, eventID string) []byte
	// Push posts plaintext to sub's URL, encrypted and signed with sub's
	// token, aes_key and trailing key, and checks the reply.
	Push(ctx context.Context, sub *Subscription, plaintext []byte) PushResult
}

// MaxFailedPage is how many failed results one get_call_back_failed_result returns.
const MaxFailedPage = 200

// EventID is the stable id of a corp's event (eventId in pushes and Stream
// frames): every redelivery carries the same.
func EventID(corpID string, seq int64) string {
	h := sha256.Sum256([]byte(corpID + ":" + strconv.FormatInt(seq, 10)))
	return hex.EncodeToString(h[:16])
}
