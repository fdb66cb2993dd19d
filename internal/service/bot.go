package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
)

// Mentions are the @-mentions of a member's message: the "at" object
// {"atUserIds":[…],"atRobotCodes":[…],"isAtAll":bool}.
type Mentions struct {
	UserIDs    []string `json:"atUserIds"`
	RobotCodes []string `json:"atRobotCodes"`
	All        bool     `json:"isAtAll"`
}

func mentionsOf(obj msgObject) (Mentions, error) {
	var m Mentions
	raw, ok := obj["at"]
	if !ok || raw == nil {
		return m, nil
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &m); err != nil {
		return m, malformed("at must be {atUserIds: [string], atRobotCodes: [string], isAtAll: bool}")
	}
	if len(m.UserIDs) > ding.MaxAtUserIDs || len(m.RobotCodes) > ding.MaxAtUserIDs {
		return m, malformed("at names more than %d users or robots", ding.MaxAtUserIDs)
	}
	return m, nil
}

// dingtalkID is the opaque per-user id DingTalk shows robots ("$:LWCP_v1:$…"):
// stable for a user of a corp, derived here.
func dingtalkID(corpID, id string) string {
	h := sha256.Sum256([]byte(corpID + "/" + id))
	return "$:LWCP_v1:$" + base64.StdEncoding.EncodeToString(h[:18])
}

// botEvents are the robot callbacks a member's message causes: one for
// each robot of the group it @-mentions, carrying everything the robot's
// app is told (api-reference §8.5). The event rides the message's
// transaction, so the node holding the app's Stream connection delivers it.
func (s *Service) botEvents(ctx context.Context, g *ding.Group, sender *ding.User, m *ding.Message, obj msgObject, at Mentions) ([]ding.Event, error) {
	if len(at.RobotCodes) == 0 {
		return nil, nil
	}
	var out []ding.Event
	seen := map[string]bool{}
	for _, code := range at.RobotCodes {
		if seen[code] {
			continue
		}
		seen[code] = true
		in, err := s.store.InGroup(ctx, g.ChatID, code)
		if err != nil {
			return nil, err
		}
		if !in {
			continue // mentioning a robot that is not in the group reaches no one
		}
		r, err := s.store.Robot(ctx, code)
		if err != nil || r.CorpID != g.CorpID {
			continue
		}
		appKey := code // an app's robot has the app's key for its code, as on DingTalk
		atUsers := []map[string]string{{"dingtalkId": dingtalkID(g.CorpID, "robot:"+code)}}
		for _, u := range at.UserIDs {
			atUsers = append(atUsers, map[string]string{"dingtalkId": dingtalkID(g.CorpID, u), "staffId": u})
		}
		expires := s.clock.Now().Add(ding.SessionWebhookTTL).UnixMilli()
		session, err := s.sessionToken(ctx, g.CorpID, g.ChatID, code, expires)
		if err != nil {
			return nil, err
		}
		text, _ := obj.obj("text").str("content")
		data := map[string]any{
			"conversationId": g.OpenConversationID, "conversationType": "2", "conversationTitle": g.Name,
			"msgId": m.ID, "msgtype": m.MsgType, "createAt": m.CreatedAt,
			"senderId": dingtalkID(g.CorpID, sender.UserID), "senderNick": sender.Name, "senderStaffId": sender.UserID,
			"senderUnionId": sender.UnionID, "senderCorpId": g.CorpID, "isAdmin": sender.Admin,
			"chatbotCorpId": g.CorpID, "chatbotUserId": dingtalkID(g.CorpID, "robot:"+code), "robotCode": code,
			"isInAtList": true, "atUsers": atUsers, "sessionWebhookExpiredTime": expires,
			"appKey": appKey, "session": session,
		}
		if m.MsgType == ding.MsgText {
			data["text"] = map[string]string{"content": text}
		} else {
			data["content"] = json.RawMessage(m.Body)
		}
		out = append(out, s.eventBy(g, ding.EventBotMessage, sender.UserID, m.CreatedAt, data))
	}
	return out, nil
}

// sessionClaims is what a sessionWebhook lets its holder do: post as one
// robot into one group until it expires.
type sessionClaims struct {
	Corp    string `json:"c"`
	Chat    string `json:"g"`
	Robot   string `json:"r"`
	Expires int64  `json:"e"`
}

// robotSessionKey signs sessionWebhooks; kept in the store so every node (and
// a restarted one) accepts the webhooks of the others.
func (s *Service) robotSessionKey(ctx context.Context) ([]byte, error) {
	var b [32]byte
	rand.Read(b[:])
	k, err := s.store.Setting(ctx, "session_webhook_key", hex.EncodeToString(b[:]))
	if err != nil {
		return nil, err
	}
	return []byte(k), nil
}

func (s *Service) sessionToken(ctx context.Context, corp, chat, robot string, expires int64) (string, error) {
	key, err := s.robotSessionKey(ctx)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(sessionClaims{Corp: corp, Chat: chat, Robot: robot, Expires: expires})
	p := base64.RawURLEncoding.EncodeToString(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func (s *Service) sessionOf(ctx context.Context, token string) (*sessionClaims, error) {
	bad := ding.Errorf(ding.Unauthenticated, ding.ReasonSessionWebhook, "session is unknown")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, bad
	}
	key, err := s.robotSessionKey(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, bad
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, bad
	}
	var c sessionClaims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, bad
	}
	if s.nowMs() > c.Expires {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonSessionWebhook, "session expired")
	}
	return &c, nil
}

// SendBySession is a robot's reply through the sessionWebhook of a message
// that mentioned it: the custom-robot message bodies (text, markdown,
// actionCard, link, feedCard, at), put in the group as the robot, until
// the webhook expires.
func (s *Service) SendBySession(ctx context.Context, session string, body []byte) (*ding.Message, error) {
	c, err := s.sessionOf(ctx, session)
	if err != nil {
		return nil, err
	}
	if len(body) > ding.MaxWebhookBytes {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "message is %d bytes, at most %d", len(body), ding.MaxWebhookBytes)
	}
	obj, ok := decodeObject(body)
	if !ok || !utf8.Valid(body) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object in UTF-8")
	}
	typ, _, err := checkWebhookMessage(obj)
	if err != nil {
		return nil, err
	}
	g, err := s.store.Group(ctx, c.Corp, c.Chat)
	if err != nil {
		return nil, err
	}
	if g.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	if in, err := s.store.InGroup(ctx, g.ChatID, c.Robot); err != nil {
		return nil, err
	} else if !in {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonRobotNotInGroup, "robot %s is no longer in the group", c.Robot)
	}
	return s.appendMessage(ctx, g, ding.SenderRobot, c.Robot, typ, body, nil)
}

// SetRobotURL sets an app robot's HTTP mode: messages that @-mention it
// are posted to url, signed with the app's secret. "" turns it off.
func (s *Service) SetRobotURL(ctx context.Context, appKey, url string) error {
	app, err := s.store.App(ctx, appKey)
	if err != nil {
		return err
	}
	id := ding.SubscriptionID(ding.SubRobot, appKey)
	if url == "" {
		err := s.store.DeleteSubscription(ctx, id)
		if ding.IsKind(err, ding.NotFound) {
			return nil
		}
		s.changedSubs()
		return err
	}
	if err := checkSubscriptionURL(url); err != nil {
		return err
	}
	now := s.nowMs()
	if err := s.store.SaveSubscription(ctx, &ding.Subscription{ID: id, Kind: ding.SubRobot, Key: appKey, CorpID: app.CorpID,
		OwnerKey: appKey, URL: url, CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	s.changedSubs()
	return nil
}
