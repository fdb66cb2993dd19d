package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
)

// CreateWebhookInput installs a custom robot in a group (admin side).
type CreateWebhookInput struct {
	ChatID      string
	Name        string
	AccessToken string // "" mints one; set it to keep an existing integration's URL
	Secret      string // "" with Sign mints a "SEC…" secret; "" without Sign means unsigned
	Sign        bool
	Keywords    []string
}

// CreateWebhook installs a custom robot in a group and returns it with its
// access token and secret.
func (s *Service) CreateWebhook(ctx context.Context, in CreateWebhookInput) (*ding.Webhook, error) {
	if in.Name == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "name is required")
	}
	kws := dedupe(in.Keywords)
	if len(kws) != len(in.Keywords) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "keywords must be distinct and non-empty")
	}
	if len(kws) > ding.MaxKeywords {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "at most %d keywords", ding.MaxKeywords)
	}
	g, err := s.adminGroup(ctx, in.ChatID)
	if err != nil {
		return nil, err
	}
	if g.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	w := &ding.Webhook{Token: in.AccessToken, CorpID: g.CorpID, ChatID: g.ChatID, Name: in.Name, Secret: in.Secret,
		Keywords: kws, CreatedAt: s.nowMs()}
	if w.Token == "" {
		w.Token = s.ids.Token() + s.ids.Token() // 64 hex, as DingTalk's robot tokens are
	}
	if w.Secret == "" && in.Sign {
		w.Secret = "SEC" + s.ids.Token() + s.ids.Token()
	}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		if ding.IsKind(err, ding.Conflict) {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonNone, "access token is taken")
		}
		return nil, err
	}
	return w, nil
}

// Webhooks lists a group's custom robots (admin side).
func (s *Service) Webhooks(ctx context.Context, chatID string) ([]ding.Webhook, error) {
	g, err := s.adminGroup(ctx, chatID)
	if err != nil {
		return nil, err
	}
	return s.store.Webhooks(ctx, g.ChatID)
}

// WebhookSendInput is one call of /robot/send.
type WebhookSendInput struct {
	Token     string // access_token
	Timestamp string // timestamp, "" when absent
	Sign      string // sign, URL-decoded; "" when absent
	Body      []byte
}

// webhookSign is DingTalk's 加签: Base64(HmacSHA256(secret, timestamp+"\n"+secret)),
// before URL encoding.
func webhookSign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// checkSign applies the signing rule: a timestamp in ms within the allowed
// skew of now, and the signature of that timestamp.
func checkSign(secret, timestamp, sign string, now int64) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	skew := ding.WebhookSignSkew.Milliseconds()
	if err != nil || ts < now-skew || ts > now+skew {
		return ding.Errorf(ding.Unauthenticated, ding.ReasonSignTimestamp, "timestamp %q is not within %v of the server's time", timestamp, ding.WebhookSignSkew)
	}
	want := []byte(webhookSign(secret, timestamp))
	// a client that forgot to URL-encode the sign sends its '+' as a space
	for _, got := range []string{sign, strings.ReplaceAll(sign, " ", "+")} {
		if sign != "" && hmac.Equal([]byte(got), want) {
			return nil
		}
	}
	return ding.Errorf(ding.Unauthenticated, ding.ReasonSignMismatch, "sign does not match")
}

// needText returns the fields of o that must not be empty, or an error
// naming the first empty one.
func needText(o msgObject, where string, keys ...string) error {
	for _, k := range keys {
		if v, _ := o.str(k); v == "" {
			return malformed("%s.%s is required", where, k)
		}
	}
	return nil
}

// checkWebhookMessage applies /robot/send's rules and returns the message
// type and its visible text, which the keyword rule searches.
func checkWebhookMessage(m msgObject) (string, string, error) {
	typ, _ := m.str("msgtype")
	switch typ {
	case ding.WebhookText, ding.WebhookLink, ding.WebhookMarkdown, ding.WebhookActionCard, ding.WebhookFeedCard:
	default:
		return "", "", ding.Errorf(ding.Invalid, ding.ReasonMsgType, "unsupported msgtype %q", typ)
	}
	if at := m.obj("at"); at != nil {
		if ids, ok := at["atUserIds"].([]any); ok && len(ids) > ding.MaxAtUserIDs {
			return "", "", ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "at.atUserIds holds at most %d ids", ding.MaxAtUserIDs)
		}
	}
	o := m.obj(typ)
	if o == nil {
		if typ == ding.WebhookText {
			return "", "", ding.Errorf(ding.Invalid, ding.ReasonTextEmpty, "text.content is empty")
		}
		return "", "", malformed("msgtype %s needs a %s object", typ, typ)
	}
	var text []string
	add := func(o msgObject, keys ...string) {
		for _, k := range keys {
			if v, _ := o.str(k); v != "" {
				text = append(text, v)
			}
		}
	}
	switch typ {
	case ding.WebhookText:
		if c, _ := o.str("content"); c == "" {
			return "", "", ding.Errorf(ding.Invalid, ding.ReasonTextEmpty, "text.content is empty")
		}
		add(o, "content")
	case ding.WebhookLink:
		if err := needText(o, "link", "title", "text", "messageUrl"); err != nil {
			return "", "", err
		}
		add(o, "title", "text")
	case ding.WebhookMarkdown:
		if err := needText(o, "markdown", "title", "text"); err != nil {
			return "", "", err
		}
		add(o, "title", "text")
	case ding.WebhookActionCard:
		if err := needText(o, "actionCard", "title", "text"); err != nil {
			return "", "", err
		}
		st, _ := o.str("singleTitle")
		su, _ := o.str("singleURL")
		if (st == "") != (su == "") {
			return "", "", malformed("actionCard.singleTitle and singleURL come together")
		}
		add(o, "title", "text", "singleTitle")
		if list, ok := o["btns"]; ok && list != nil {
			btns, ok := list.([]any)
			if !ok {
				return "", "", malformed("actionCard.btns must be a list")
			}
			for _, b := range btns {
				bo, ok := b.(map[string]any)
				if !ok {
					return "", "", malformed("actionCard.btns holds {title, actionURL} objects")
				}
				if err := needText(bo, "actionCard.btns[]", "title", "actionURL"); err != nil {
					return "", "", err
				}
				add(bo, "title")
			}
		}
	case ding.WebhookFeedCard:
		links, ok := o["links"].([]any)
		if !ok || len(links) == 0 {
			return "", "", malformed("feedCard.links must be a non-empty list")
		}
		for _, l := range links {
			lo, ok := l.(map[string]any)
			if !ok {
				return "", "", malformed("feedCard.links holds {title, messageURL, picURL} objects")
			}
			link := msgObject(lo)
			// the docs spell messageURL/picURL, several clients messageUrl/picUrl
			if link.first("title") == "" || link.first("messageURL", "messageUrl") == "" || link.first("picURL", "picUrl") == "" {
				return "", "", malformed("each feedCard link needs title, messageURL and picURL")
			}
			add(link, "title")
		}
	}
	return typ, strings.Join(text, "\n"), nil
}

// webhookLimit is the rate rule: WebhookPerWindow sends per WebhookPeriod;
// one more throttles the robot for WebhookThrottle.
func webhookLimit(now int64) func(*ding.WebhookWindow) error {
	return func(w *ding.WebhookWindow) error {
		if now < w.ThrottledUntil {
			return ding.Errorf(ding.RateLimited, ding.ReasonWebhookRateLimited, "robot is throttled for %d more ms", w.ThrottledUntil-now)
		}
		since := now - ding.WebhookPeriod.Milliseconds()
		recent := make([]int64, 0, len(w.Sent)+1)
		for _, t := range w.Sent {
			if t > since {
				recent = append(recent, t)
			}
		}
		if len(recent) >= ding.WebhookPerWindow {
			w.Sent, w.ThrottledUntil = nil, now+ding.WebhookThrottle.Milliseconds()
			return ding.Errorf(ding.RateLimited, ding.ReasonWebhookRateLimited, "more than %d messages in %v; throttled for %v",
				ding.WebhookPerWindow, ding.WebhookPeriod, ding.WebhookThrottle)
		}
		w.Sent = append(recent, now)
		return nil
	}
}

// SendWebhook is /robot/send: a custom robot posts into its group. The
// checks run in DingTalk's order as far as it shows: token, signature,
// message, keywords, group, rate.
func (s *Service) SendWebhook(ctx context.Context, in WebhookSendInput) (*ding.Message, error) {
	if in.Token == "" {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonWebhookToken, "missing access_token")
	}
	w, err := s.store.Webhook(ctx, in.Token)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonWebhookToken, "no custom robot has this access_token")
	}
	if err != nil {
		return nil, err
	}
	now := s.nowMs()
	if w.Secret != "" {
		if err := checkSign(w.Secret, in.Timestamp, in.Sign, now); err != nil {
			return nil, err
		}
	}
	if len(in.Body) > ding.MaxWebhookBytes {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "body is %d bytes, at most %d", len(in.Body), ding.MaxWebhookBytes)
	}
	obj, ok := decodeObject(in.Body)
	if !ok || !utf8.Valid(in.Body) { // the body is stored and shown as sent: it must be text
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object in UTF-8")
	}
	typ, text, err := checkWebhookMessage(obj)
	if err != nil {
		return nil, err
	}
	if len(w.Keywords) > 0 {
		found := false
		for _, k := range w.Keywords {
			if strings.Contains(text, k) {
				found = true
				break
			}
		}
		if !found {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonKeywordMissing, "the message contains none of the robot's keywords")
		}
	}
	g, err := s.store.Group(ctx, w.CorpID, w.ChatID)
	if err != nil {
		return nil, err
	}
	if g.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	if err := s.store.LimitWebhook(ctx, w.Token, webhookLimit(now)); err != nil {
		return nil, err
	}
	return s.appendMessage(ctx, g, ding.SenderWebhook, w.Name, typ, in.Body, nil)
}
