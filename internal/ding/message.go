package ding

import (
	"context"
	"sync/atomic"
)

// Limits of chat/send (DingTalk's 34016 table and the msg size cap).
const (
	MaxMsgBytes         = 2048 // the msg object of chat/send, in bytes
	MaxTextChars        = 5000 // text.content
	MaxTitleChars       = 64   // titles (link, markdown, action_card, oa body)
	MaxMarkdownChars    = 5000 // markdown.text and action_card.markdown
	MaxSingleTitleChars = 20   // action_card.single_title and each button title
	MaxSingleURLChars   = 500  // action_card.single_url
	MaxActionURLChars   = 700  // each action_card button's action_url
	MaxBtnJSONChars     = 1000 // action_card.btn_json_list, serialised
	MaxVoiceSeconds     = 60   // voice.duration is 1..60 (unconfirmed: the doc says "< 60", the old doc "≤ 60")
	MaxReadListSize     = 100  // getReadList size
)

// Message types of chat/send.
const (
	MsgText       = "text"
	MsgImage      = "image"
	MsgVoice      = "voice"
	MsgFile       = "file"
	MsgLink       = "link"
	MsgOA         = "oa"
	MsgMarkdown   = "markdown"
	MsgActionCard = "action_card"
)

// Who put a message into a group.
const (
	SenderApp     = "app"     // the enterprise, through chat/send
	SenderUser    = "user"    // a member, through DingChat's member API
	SenderRobot   = "robot"   // an org robot, through /v1.0/robot/groupMessages/send
	SenderWebhook = "webhook" // a custom robot, through /robot/send
)

// Message is one entry of a group's timeline.
type Message struct {
	ID         string // messageId: opaque, shown to clients
	CorpID     string
	ChatID     string
	Seq        int64  // per group, assigned by the store in commit order
	SenderType string // SenderApp, SenderUser, …
	Sender     string // userid, robotCode, webhook name or app key
	MsgType    string
	Body       []byte // the message object exactly as it was sent
	RecalledAt int64  // Unix ms; 0 = not recalled
	CreatedAt  int64  // Unix ms
}

// MessageQuery pages a timeline by sequence number.
type MessageQuery struct {
	Before int64 // newest first: only Seq < Before (0 = from the newest)
	After  int64 // oldest first: only Seq > After
	Desc   bool  // newest first
	Limit  int
}

// MessageStore keeps group timelines and read marks.
type MessageStore interface {
	// AppendMessage gives m its group's next Seq and stores it with events,
	// in one transaction. NotFound when the group is unknown; check, if not
	// nil, sees the group row inside the transaction and can refuse.
	AppendMessage(ctx context.Context, m *Message, events []Event, check func(*Group) error) error
	// Message returns NotFound when the corp has no message id.
	Message(ctx context.Context, corpID, id string) (*Message, error)
	// Messages pages a group's timeline.
	Messages(ctx context.Context, chatID string, q MessageQuery) ([]Message, error)
	// LastSeq is the Seq of the group's newest message, 0 when none.
	LastSeq(ctx context.Context, chatID string) (int64, error)
	// RecallMessage marks a message recalled at at and records events.
	// Conflict when it was recalled already.
	RecallMessage(ctx context.Context, corpID, id string, at int64, events []Event) error
	// MarkRead moves a member's read mark up to seq (never down) and
	// returns the mark now stored.
	MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error)
	// ReadMark is a member's read mark, 0 when none.
	ReadMark(ctx context.Context, chatID, userID string) (int64, error)
	// Readers lists staff members (other than except) whose read mark is at
	// least seq, in member order after cursor; next is 0 at the end.
	Readers(ctx context.Context, chatID string, seq int64, except string, cursor int64, limit int) (ids []string, next int64, err error)
	// Member returns NotFound when id of kind is not a member of chatID.
	Member(ctx context.Context, chatID, kind, id string) (*Member, error)
	// GroupsOf lists the groups a staff member belongs to, newest first.
	GroupsOf(ctx context.Context, corpID, userID string) ([]Group, error)
	// GroupsOfPage is one page of GroupsOf.
	GroupsOfPage(ctx context.Context, corpID, userID string, p GroupPage) ([]Group, error)
	// LastSeqs is LastSeq of many groups in one read; groups without
	// messages, and unknown ones, are left out.
	LastSeqs(ctx context.Context, chatIDs []string) (map[string]int64, error)
	// ReadMarks is ReadMark of one member in many groups; groups without a
	// mark are left out.
	ReadMarks(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error)
	// MemberHeads is each group of a staff member, newest first, with its
	// newest Seq and the member's read mark: what a live connection
	// starts from, in one read.
	MemberHeads(ctx context.Context, corpID, userID string) ([]GroupHead, error)
	// CorpGroups is one page of a corp's groups, newest first.
	CorpGroups(ctx context.Context, corpID string, p GroupPage) ([]Group, error)
}

// GroupPage selects a page of a group listing ordered newest first
// (CreatedAt descending, then ChatID): at most Limit groups after the
// cursor whose name or chatid contains Search.
type GroupPage struct {
	After  GroupCursor
	Search string // lower case; matches names ignoring ASCII case; "" = every group
	Limit  int
}

// GroupCursor is the last group of the previous page; the zero cursor
// starts at the newest.
type GroupCursor struct {
	CreatedAt int64
	ChatID    string
}

// GroupHead is where a group's timeline stands for one member.
type GroupHead struct {
	ChatID  string
	LastSeq int64 // 0 when no message
	ReadSeq int64 // 0 when no read mark
}

// HeadNotices is what a store shared by several nodes offers live
// delivery: each node announces the newest Seq of the groups it wrote and
// the corps whose event logs it appended to, and every node hears them, so
// none has to poll the heads of every group and corp its clients watch.
type HeadNotices interface {
	// AnnounceHeads tells every node listening that these groups' newest
	// messages are at least these Seqs, and that these corps' event logs
	// moved.
	AnnounceHeads(ctx context.Context, heads map[string]int64, corps []string) error
	// ListenHeads calls listening once it hears announcements, then heard
	// with each one (this node's own included), until ctx ends or the
	// connection is lost; it returns why it stopped. Announcements made
	// while nobody listened are not heard later.
	ListenHeads(ctx context.Context, listening func(), heard func(heads map[string]int64, corps []string)) error
}

// SoleWriter is a store written by this process alone (SQLite): every
// message it commits reaches live delivery from this process, so no head
// needs polling beyond a rare sweep for a hand edit.
type SoleWriter interface {
	SoleWriter() bool
}

// EventNotifier is a store that says, after each of this process's
// commits, which corps' event logs it appended to, so that those following
// the logs read them when they move instead of polling them. On a store
// shared by several nodes that is this node's commits alone: the others'
// come through HeadNotices, which the live hub announces these to. f must
// not block or keep corps.
type EventNotifier interface {
	OnEvents(f func(corps []string))
}

// EventListeners are the functions an EventNotifier tells: added at any
// time, read without a lock on every commit.
type EventListeners struct {
	fs atomic.Pointer[[]func(corps []string)]
}

// Add has f told from now on.
func (l *EventListeners) Add(f func(corps []string)) {
	for {
		old := l.fs.Load()
		var fs []func([]string)
		if old != nil {
			fs = append(fs, *old...)
		}
		fs = append(fs, f)
		if l.fs.CompareAndSwap(old, &fs) {
			return
		}
	}
}

// Any is whether any function listens.
func (l *EventListeners) Any() bool { return l.fs.Load() != nil }

// Tell calls every function with corps.
func (l *EventListeners) Tell(corps []string) {
	if fs := l.fs.Load(); fs != nil {
		for _, f := range *fs {
			f(corps)
		}
	}
}
