package ding

import "context"

// Event types DingTalk delivers for groups created through the API.
const (
	EventChatAddMember    = "chat_add_member"
	EventChatRemoveMember = "chat_remove_member"
	EventChatQuit         = "chat_quit"
	EventChatUpdateOwner  = "chat_update_owner"
	EventChatUpdateTitle  = "chat_update_title"
	EventChatDisband      = "chat_disband"
)

// DingChat's own event types: recorded for the log and the console, not part
// of DingTalk's callback vocabulary.
const (
	EventChatCreate         = "chat_create"
	EventChatUpdateSettings = "chat_update_settings"
	EventChatUpdateSubAdmin = "chat_update_subadmin"
	EventChatUpdateNick     = "chat_update_nick"
)

// Events of micro-apps bound with chat/bind. DingTalk pushes
// chat_disband_microapp, carrying the agentId, for each app bound to a group
// that is disbanded; binding and unbinding are DingChat's own.
const (
	EventChatDisbandMicroapp = "chat_disband_microapp"
	EventChatBindMicroapp    = "chat_bind_microapp"
	EventChatUnbindMicroapp  = "chat_unbind_microapp"
)

// Event is one entry of a corp's event log, written in the same transaction
// as the change it describes.
type Event struct {
	CorpID             string
	Seq                int64 // per corp, assigned by the store, gap-free
	Type               string
	ChatID             string
	OpenConversationID string
	Operator           string
	Data               []byte // JSON object of the event's business fields
	CreatedAt          int64  // Unix ms
}

// EventStore reads the event log.
type EventStore interface {
	// Events returns a corp's events with Seq > after, oldest first, at most limit.
	Events(ctx context.Context, corpID string, after int64, limit int) ([]Event, error)
}

// Store is everything DingChat persists.
type Store interface {
	OrgStore
	TokenStore
	GroupStore
	EventStore
	MessageStore
	MediaStore
	MemberTokenStore
	SuiteStore
	JoinStore
	RobotStore
	ControlStore
	SubscriptionStore
	StreamStore
	// Ping reports whether the store can commit a write: it writes.
	Ping(ctx context.Context) error
	Close() error
}
