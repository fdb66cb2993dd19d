package service

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// MemberCaller is a staff member using DingChat's own member API.
type MemberCaller struct {
	CorpID string
	UserID string
}

// AuthenticateMember resolves a member token.
func (s *Service) AuthenticateMember(ctx context.Context, token string) (*MemberCaller, error) {
	if token == "" {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenMissing, "missing member token")
	}
	t, err := s.cachedMemberToken(ctx, token)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid member token")
	}
	if err != nil {
		return nil, err
	}
	return &MemberCaller{CorpID: t.CorpID, UserID: t.UserID}, nil
}

// IssueMemberToken mints a member token for a staff member (admin side).
func (s *Service) IssueMemberToken(ctx context.Context, corpID, userID string) (*ding.MemberToken, error) {
	if corpID == "" || userID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId and userid are required")
	}
	if _, err := s.store.User(ctx, corpID, userID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonUserNotFound, "no user %s in corp %s", userID, corpID)
		}
		return nil, err
	}
	t := ding.MemberToken{Value: "mt" + s.ids.Token() + s.ids.Token()[:16], CorpID: corpID, UserID: userID, CreatedAt: s.nowMs()}
	if err := s.store.SaveMemberToken(ctx, t); err != nil {
		return nil, err
	}
	return &t, nil
}

// AdminToken is the secret of the admin API: configured, or minted once and kept.
func (s *Service) AdminToken(ctx context.Context, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	return s.store.Setting(ctx, "admin_token", "adm"+s.ids.Token()+s.ids.Token())
}

// MemberGroup is a group as its member sees it in a list.
type MemberGroup struct {
	Group   ding.Group
	LastSeq int64
	ReadSeq int64
}

// MemberGroups lists the caller's groups, newest first.
func (s *Service) MemberGroups(ctx context.Context, mc *MemberCaller) ([]MemberGroup, error) {
	gs, err := s.store.GroupsOf(ctx, mc.CorpID, mc.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]MemberGroup, 0, len(gs))
	for _, g := range gs {
		last, err := s.store.LastSeq(ctx, g.ChatID)
		if err != nil {
			return nil, err
		}
		read, err := s.store.ReadMark(ctx, g.ChatID, mc.UserID)
		if err != nil {
			return nil, err
		}
		out = append(out, MemberGroup{Group: g, LastSeq: last, ReadSeq: read})
	}
	return out, nil
}

// memberGroup returns a group the caller belongs to; any other group is
// reported as unknown, so members learn nothing of groups they are not in.
func (s *Service) memberGroup(ctx context.Context, mc *MemberCaller, chatID string) (*ding.Group, error) {
	if chatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	notFound := ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
	g, err := s.store.Group(ctx, mc.CorpID, chatID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Member(ctx, chatID, ding.MemberEmp, mc.UserID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return nil, notFound
		}
		return nil, err
	}
	return g, nil
}

// Member message pages hold 1..MaxMemberPage messages.
const (
	DefaultMemberPage = 20
	MaxMemberPage     = 100
)

// MemberMessages pages a group's timeline for one of its members and
// reports whether more messages lie beyond the page.
func (s *Service) MemberMessages(ctx context.Context, mc *MemberCaller, chatID string, q ding.MessageQuery) ([]ding.Message, bool, error) {
	if q.Limit == 0 {
		q.Limit = DefaultMemberPage
	}
	if q.Limit < 1 || q.Limit > MaxMemberPage {
		return nil, false, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "limit must be 1..%d", MaxMemberPage)
	}
	if q.Before < 0 || q.After < 0 {
		return nil, false, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "cursor must not be negative")
	}
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return nil, false, err
	}
	limit := q.Limit
	q.Limit++
	ms, err := s.store.Messages(ctx, g.ChatID, q)
	if err != nil {
		return nil, false, err
	}
	if len(ms) > limit {
		return ms[:limit], true, nil
	}
	return ms, false, nil
}

// MemberSend posts a message as a member; members send text, markdown and images.
func (s *Service) MemberSend(ctx context.Context, mc *MemberCaller, chatID string, body []byte) (*ding.Message, error) {
	if len(body) > ding.MaxMsgBytes {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "message is %d bytes, at most %d", len(body), ding.MaxMsgBytes)
	}
	obj, ok := decodeObject(body)
	if !ok {
		return nil, malformed("message is not a JSON object")
	}
	typ, refs, err := checkMessage(obj)
	if err != nil {
		return nil, err
	}
	if typ != ding.MsgText && typ != ding.MsgMarkdown && typ != ding.MsgImage {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgType, "members send text, markdown or image")
	}
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	if err := s.checkMedia(ctx, mc.CorpID, refs); err != nil {
		return nil, err
	}
	return s.appendMessage(ctx, g, ding.SenderUser, mc.UserID, typ, body, nil)
}

// MemberMarkRead moves the caller's read mark in a group up to seq.
func (s *Service) MemberMarkRead(ctx context.Context, mc *MemberCaller, chatID string, seq int64) (int64, error) {
	if seq < 0 {
		return 0, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "seq must not be negative")
	}
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return 0, err
	}
	return s.store.MarkRead(ctx, g.ChatID, mc.UserID, seq)
}
