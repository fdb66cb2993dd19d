package service

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/jsonx"
)

// msgObject is a decoded message object; numbers stay json.Number.
type msgObject map[string]any

// decodeObject is the one parse of a message body. The stored body must stay
// exactly one JSON object, in UTF-8 (encoding/json would quietly replace
// invalid bytes when reading back).
func decodeObject(b []byte) (msgObject, bool) {
	return jsonx.DecodeObject(b)
}

// obj returns the nested object under key, nil when absent or not an object.
func (o msgObject) obj(key string) msgObject {
	m, _ := o[key].(map[string]any)
	return m
}

// str returns key as text; numbers are accepted as clients send them either way.
func (o msgObject) str(key string) (string, bool) {
	switch v := o[key].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// first returns the first of keys that is present as text (for the two key casings of link).
func (o msgObject) first(keys ...string) string {
	for _, k := range keys {
		if s, ok := o.str(k); ok && s != "" {
			return s
		}
	}
	return ""
}

func chars(s string) int { return utf8.RuneCountInString(s) }

func malformed(format string, args ...any) error {
	return ding.Errorf(ding.Invalid, ding.ReasonMsgMalformed, format, args...)
}

func tooLong(field string, max int) error {
	return ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "%s is longer than %d characters", field, max)
}

// maxChars checks optional text fields against their limits.
func maxChars(o msgObject, limits map[string]int) error {
	for k, max := range limits {
		if s, _ := o.str(k); chars(s) > max {
			return tooLong(k, max)
		}
	}
	return nil
}

var bgcolor = regexp.MustCompile(`^[0-9A-Fa-f]{8}$`)

// mediaRef is a media id a message points at, with the type it must have.
type mediaRef struct{ id, typ string }

// checkMessage applies chat/send's rules to a message object and returns
// its type and the media it references.
func checkMessage(m msgObject) (string, []mediaRef, error) {
	typ, _ := m.str("msgtype")
	if typ == "" {
		return "", nil, ding.Errorf(ding.Invalid, ding.ReasonMsgType, "msgtype is missing")
	}
	key := typ
	switch typ {
	case ding.MsgText, ding.MsgImage, ding.MsgVoice, ding.MsgFile, ding.MsgLink, ding.MsgOA, ding.MsgMarkdown, ding.MsgActionCard:
	default:
		return "", nil, ding.Errorf(ding.Invalid, ding.ReasonMsgType, "unknown msgtype %q", typ)
	}
	o := m.obj(key)
	if o == nil {
		return "", nil, malformed("msgtype %s needs a %s object", typ, key)
	}
	var refs []mediaRef
	switch typ {
	case ding.MsgText:
		c, _ := o.str("content")
		if c == "" {
			return "", nil, malformed("text.content is empty")
		}
		if chars(c) > ding.MaxTextChars {
			return "", nil, tooLong("text.content", ding.MaxTextChars)
		}
	case ding.MsgImage:
		id, _ := o.str("media_id")
		if id == "" {
			return "", nil, ding.Errorf(ding.Invalid, ding.ReasonImageEmpty, "image.media_id is empty")
		}
		refs = append(refs, mediaRef{id, ding.MediaImage})
	case ding.MsgVoice:
		id, _ := o.str("media_id")
		if id == "" {
			return "", nil, ding.Errorf(ding.Invalid, ding.ReasonVoiceEmpty, "voice.media_id is empty")
		}
		d, _ := o.str("duration")
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > ding.MaxVoiceSeconds {
			return "", nil, malformed("voice.duration must be 1..%d seconds", ding.MaxVoiceSeconds)
		}
		refs = append(refs, mediaRef{id, ding.MediaVoice})
	case ding.MsgFile:
		id, _ := o.str("media_id")
		if id == "" {
			return "", nil, ding.Errorf(ding.Invalid, ding.ReasonFileEmpty, "file.media_id is empty")
		}
		refs = append(refs, mediaRef{id, ding.MediaFile})
	case ding.MsgLink:
		// the current docs spell messageUrl/picUrl, the 2016 ones message_url/pic_url
		url, pic := o.first("messageUrl", "message_url"), o.first("picUrl", "pic_url")
		title, _ := o.str("title")
		text, _ := o.str("text")
		if url == "" || pic == "" || title == "" || text == "" {
			return "", nil, ding.Errorf(ding.Invalid, ding.ReasonLinkEmpty, "link needs messageUrl, picUrl, title and text")
		}
		if err := maxChars(o, map[string]int{"title": ding.MaxTitleChars, "text": ding.MaxTextChars}); err != nil {
			return "", nil, err
		}
		if pic[0] == '@' { // picUrl may be a media id
			refs = append(refs, mediaRef{pic, ding.MediaImage})
		}
	case ding.MsgOA:
		if u, _ := o.str("message_url"); u == "" {
			return "", nil, malformed("oa.message_url is empty")
		}
		head := o.obj("head")
		if head == nil {
			return "", nil, malformed("oa.head is missing")
		}
		if c, _ := head.str("bgcolor"); !bgcolor.MatchString(c) {
			return "", nil, malformed("oa.head.bgcolor must be 8 hex digits (ARGB)")
		}
		body := o.obj("body")
		if body == nil {
			return "", nil, malformed("oa.body is missing")
		}
		if err := maxChars(body, map[string]int{"title": ding.MaxTitleChars, "content": ding.MaxTextChars}); err != nil {
			return "", nil, err
		}
		if form, ok := body["form"]; ok && form != nil {
			items, ok := form.([]any)
			if !ok {
				return "", nil, malformed("oa.body.form must be a list")
			}
			for _, it := range items {
				if _, ok := it.(map[string]any); !ok {
					return "", nil, malformed("oa.body.form items are {key, value} objects")
				}
			}
		}
		if img, _ := body.str("image"); img != "" && img[0] == '@' {
			refs = append(refs, mediaRef{img, ding.MediaImage})
		}
	case ding.MsgMarkdown:
		title, _ := o.str("title")
		text, _ := o.str("text")
		if title == "" || text == "" {
			return "", nil, malformed("markdown needs title and text")
		}
		if err := maxChars(o, map[string]int{"title": ding.MaxTitleChars, "text": ding.MaxMarkdownChars}); err != nil {
			return "", nil, err
		}
	case ding.MsgActionCard:
		if err := checkActionCard(o); err != nil {
			return "", nil, err
		}
	}
	return typ, refs, nil
}

func checkActionCard(o msgObject) error {
	md, _ := o.str("markdown")
	if md == "" {
		return malformed("action_card.markdown is empty")
	}
	if err := maxChars(o, map[string]int{"title": ding.MaxTitleChars, "markdown": ding.MaxMarkdownChars,
		"single_title": ding.MaxSingleTitleChars, "single_url": ding.MaxSingleURLChars}); err != nil {
		return err
	}
	st, _ := o.str("single_title")
	su, _ := o.str("single_url")
	single := st != "" || su != ""
	if single && (st == "" || su == "") {
		return malformed("action_card.single_title and single_url come together")
	}
	_, hasOrient := o["btn_orientation"]
	list, hasList := o["btn_json_list"]
	if !single && !hasOrient && !hasList {
		return malformed("action_card needs single_title/single_url or btn_orientation/btn_json_list")
	}
	if hasOrient || hasList {
		if !hasOrient || !hasList {
			return malformed("action_card.btn_orientation and btn_json_list come together")
		}
		if or, _ := o.str("btn_orientation"); or != "0" && or != "1" {
			return malformed("action_card.btn_orientation is \"0\" or \"1\"")
		}
		btns, ok := list.([]any)
		if !ok || len(btns) == 0 {
			return malformed("action_card.btn_json_list must be a non-empty list")
		}
		// measured compact as sent: json.Marshal would count "&" in a URL as "\u0026"
		var raw bytes.Buffer
		enc := json.NewEncoder(&raw)
		enc.SetEscapeHTML(false)
		enc.Encode(btns)
		if chars(strings.TrimSuffix(raw.String(), "\n")) > ding.MaxBtnJSONChars {
			return tooLong("action_card.btn_json_list", ding.MaxBtnJSONChars)
		}
		for _, b := range btns {
			bo, ok := b.(map[string]any)
			if !ok {
				return malformed("action_card buttons are {title, action_url} objects")
			}
			btn := msgObject(bo)
			t, _ := btn.str("title")
			u, _ := btn.str("action_url")
			if t == "" || u == "" {
				return malformed("each action_card button needs title and action_url")
			}
			if err := maxChars(btn, map[string]int{"title": ding.MaxSingleTitleChars, "action_url": ding.MaxActionURLChars}); err != nil {
				return err
			}
		}
	}
	return nil
}

// SendInput is chat/send in either shape: Body is the message object as
// sent (the "msg" object, or the flat body that carries msgtype itself).
type SendInput struct {
	ChatID string
	Sender string // the flat shape's sender; "" sends as the enterprise
	Body   []byte
}

func (s *Service) checkMedia(ctx context.Context, corpID string, refs []mediaRef) error {
	for _, r := range refs {
		m, err := s.store.Media(ctx, corpID, r.id)
		if ding.IsKind(err, ding.NotFound) || (err == nil && m.Type != r.typ) {
			return ding.Errorf(ding.Invalid, ding.ReasonMediaID, "media %s is no %s media of this corp", r.id, r.typ)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SendMessage is chat/send: a message from the enterprise (or, in the 2016
// shape, from a named member) into an internal group.
func (s *Service) SendMessage(ctx context.Context, c *Caller, in SendInput) (*ding.Message, error) {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return nil, err
	}
	if in.ChatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if len(in.Body) > ding.MaxMsgBytes {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "msg is %d bytes, at most %d", len(in.Body), ding.MaxMsgBytes)
	}
	obj, ok := decodeObject(in.Body)
	if !ok {
		return nil, malformed("msg is not a JSON object")
	}
	typ, refs, err := checkMessage(obj)
	if err != nil {
		return nil, err
	}
	if in.Sender == "" && len(refs) == 0 {
		// nothing to check against the group before the write: the writer
		// reads the group once and judges it there
		g := &ding.Group{CorpID: c.CorpID(), ChatID: in.ChatID}
		return s.appendMessage(ctx, g, ding.SenderApp, c.App.Key, typ, in.Body, internalOnly)
	}
	g, err := s.resolve(ctx, c, GroupRef{ChatID: in.ChatID})
	if err != nil {
		return nil, err
	}
	if g.ConversationTag != ding.TagInternal {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonGroupKind, "chat/send reaches internal groups only")
	}
	senderType, sender := ding.SenderApp, c.App.Key
	if in.Sender != "" {
		if _, err := s.store.User(ctx, c.CorpID(), in.Sender); err != nil {
			if ding.IsKind(err, ding.NotFound) {
				return nil, ding.Errorf(ding.Invalid, ding.ReasonSenderUnknown, "sender %s is not in the corp", in.Sender)
			}
			return nil, err
		}
		if _, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, in.Sender); err != nil {
			if ding.IsKind(err, ding.NotFound) {
				return nil, ding.Errorf(ding.Invalid, ding.ReasonSenderNotMember, "sender %s is not in the group", in.Sender)
			}
			return nil, err
		}
		senderType, sender = ding.SenderUser, in.Sender
	}
	if err := s.checkMedia(ctx, c.CorpID(), refs); err != nil {
		return nil, err
	}
	return s.appendMessage(ctx, g, senderType, sender, typ, in.Body, nil)
}

// internalOnly is chat/send's rule on the group's kind, for a send that
// judges the group only inside the write.
func internalOnly(g *ding.Group) error {
	if g.ConversationTag != ding.TagInternal {
		return ding.Errorf(ding.Invalid, ding.ReasonGroupKind, "chat/send reaches internal groups only")
	}
	return nil
}

// appendMessage stores a message into g; check, when set, judges the group
// as the write finds it before the disbanded rule does.
func (s *Service) appendMessage(ctx context.Context, g *ding.Group, senderType, sender, typ string, body []byte, check func(*ding.Group) error) (*ding.Message, error) {
	return s.storeMessage(ctx, g, s.newMessage(g, senderType, sender, typ, body), nil, check)
}

func (s *Service) newMessage(g *ding.Group, senderType, sender, typ string, body []byte) *ding.Message {
	return &ding.Message{ID: s.ids.MessageID(), CorpID: g.CorpID, ChatID: g.ChatID, SenderType: senderType, Sender: sender,
		MsgType: typ, Body: body, CreatedAt: s.nowMs()}
}

// storeMessage appends m to its group's timeline with events, in one transaction.
func (s *Service) storeMessage(ctx context.Context, g *ding.Group, m *ding.Message, events []ding.Event, check func(*ding.Group) error) (*ding.Message, error) {
	err := s.store.AppendMessage(ctx, m, events, func(cur *ding.Group) error {
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		if cur.Status == ding.StatusDisbanded {
			return ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
		}
		return nil
	})
	if ding.IsKind(err, ding.NotFound) && ding.ErrorReason(err) == ding.ReasonNone {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", g.ChatID)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ReadList pages the staff members who have read a message (chat/getReadList).
func (s *Service) ReadList(ctx context.Context, c *Caller, messageID string, cursor, size int64) ([]string, int64, error) {
	if err := s.require(c, ding.ScopeChatRead); err != nil {
		return nil, 0, err
	}
	if messageID == "" {
		return nil, 0, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "missing messageId")
	}
	if cursor < 0 {
		return nil, 0, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "cursor must not be negative")
	}
	m, err := s.store.Message(ctx, c.CorpID(), messageID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, 0, ding.Errorf(ding.NotFound, ding.ReasonMessageNotFound, "no message %s", messageID)
	}
	if err != nil {
		return nil, 0, err
	}
	g, err := s.store.Group(ctx, c.CorpID(), m.ChatID)
	if err != nil {
		return nil, 0, err
	}
	// the doc bounds size by 100 and by the group's member count
	if size < 1 || size > ding.MaxReadListSize || size > int64(g.MemberCount) {
		return nil, 0, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "size must be 1..min(100, members)")
	}
	except := ""
	if m.SenderType == ding.SenderUser {
		except = m.Sender
	}
	return s.store.Readers(ctx, m.ChatID, m.Seq, except, cursor, int(size))
}
