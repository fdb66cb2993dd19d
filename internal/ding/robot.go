package ding

import (
	"context"
	"time"
)

// Limits of the robot APIs. Where the sources leave a number open the
// comment says so.
const (
	MaxMsgParamBytes = 15000 // msgParam of /v1.0/robot/groupMessages/send, in bytes
	MaxQueryResults  = 200   // maxResults of /v1.0/robot/groupMessages/query
	MaxRecallKeys    = 20    // processQueryKeys per /v1.0/robot/groupMessages/recall
	MaxAtUserIDs     = 50    // at.atUserIds of a webhook message
	MaxKeywords      = 10    // keywords of one custom robot (DingTalk's console allows 10)
	// MaxWebhookBytes bounds a /robot/send body. DingTalk's exact limit is
	// not documented in the sources at hand; 20,000 bytes is a chosen,
	// unconfirmed value (it certainly refuses a megabyte).
	MaxWebhookBytes = 20000

	WebhookPerWindow = 20               // messages one custom robot may send per window
	WebhookPeriod    = time.Minute      // the window of WebhookPerWindow
	WebhookThrottle  = 10 * time.Minute // how long a robot that exceeded it is refused
	WebhookSignSkew  = time.Hour        // how far a signed timestamp may be from the server's clock
)

// Robot message templates (msgKey) of /v1.0/robot/groupMessages/send.
const (
	MsgKeyText        = "sampleText"
	MsgKeyMarkdown    = "sampleMarkdown"
	MsgKeyImage       = "sampleImageMsg"
	MsgKeyLink        = "sampleLink"
	MsgKeyActionCard  = "sampleActionCard"
	MsgKeyActionCard2 = "sampleActionCard2"
	MsgKeyActionCard3 = "sampleActionCard3"
	MsgKeyActionCard4 = "sampleActionCard4"
	MsgKeyActionCard5 = "sampleActionCard5"
	MsgKeyActionCard6 = "sampleActionCard6"
	MsgKeyAudio       = "sampleAudio"
	MsgKeyFile        = "sampleFile"
	MsgKeyVideo       = "sampleVideo"
)

// Message types of a custom robot's /robot/send.
const (
	WebhookText       = "text"
	WebhookLink       = "link"
	WebhookMarkdown   = "markdown"
	WebhookActionCard = "actionCard"
	WebhookFeedCard   = "feedCard"
)

// DingChat's own event types for robots: recorded for the log and the
// console, not part of DingTalk's callback vocabulary.
const (
	EventChatAddRobot      = "chat_add_robot"
	EventChatRemoveRobot   = "chat_remove_robot"
	EventChatRecallMessage = "chat_recall_message"
)

// Robot is an org robot (企业内部机器人) of a corp, known by its robotCode.
// A robot sends to a group only after it was added to that group.
type Robot struct {
	Code      string // robotCode; unique across corps, as DingTalk's are
	CorpID    string
	Name      string
	CreatedAt int64 // Unix ms
}

// Webhook is a custom robot (自定义机器人) installed in one group: whoever
// holds its access token posts to /robot/send.
type Webhook struct {
	Token     string // the access_token of its URL
	CorpID    string
	ChatID    string
	Name      string
	Secret    string   // "SEC…" when signing (加签) is on, "" otherwise
	Keywords  []string // when set, a message must contain one of them
	CreatedAt int64    // Unix ms
}

// WebhookWindow is what a custom robot's rate limit remembers.
type WebhookWindow struct {
	Sent           []int64 // Unix ms of the accepted sends still inside the window, oldest first
	ThrottledUntil int64   // Unix ms; every send before it is refused
}

// RobotStore keeps org robots, their group memberships, and custom robots.
type RobotStore interface {
	// SaveRobot creates a robot or updates its corp and name.
	SaveRobot(ctx context.Context, r *Robot) error
	// Robot returns NotFound when no robot has the code.
	Robot(ctx context.Context, code string) (*Robot, error)
	// RobotsByCorp lists a corp's robots ordered by code.
	RobotsByCorp(ctx context.Context, corpID string) ([]Robot, error)
	// AddGroupRobot puts a robot in a group and records events, in one
	// transaction. Conflict when it is in the group already.
	AddGroupRobot(ctx context.Context, chatID, code string, at int64, events []Event) error
	// RemoveGroupRobot takes a robot out of a group and records events, in
	// one transaction. NotFound when it is not in the group.
	RemoveGroupRobot(ctx context.Context, chatID, code string, events []Event) error
	// GroupRobots lists the robots of a group in the order they were added.
	GroupRobots(ctx context.Context, chatID string) ([]Robot, error)
	// InGroup reports whether a robot is in a group.
	InGroup(ctx context.Context, chatID, code string) (bool, error)

	// CreateWebhook stores w. Conflict when its token is taken.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// Webhook returns NotFound when no custom robot has the token.
	Webhook(ctx context.Context, token string) (*Webhook, error)
	// Webhooks lists a group's custom robots, oldest first.
	Webhooks(ctx context.Context, chatID string) ([]Webhook, error)
	// LimitWebhook runs decide on the custom robot's window inside one
	// transaction and stores the window as decide leaves it, whether or not
	// decide returns an error (a refusal may start a throttle); it returns
	// decide's error. NotFound when no custom robot has the token.
	LimitWebhook(ctx context.Context, token string, decide func(*WebhookWindow) error) error
}
