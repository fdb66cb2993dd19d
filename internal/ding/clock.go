package ding

import "time"

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
