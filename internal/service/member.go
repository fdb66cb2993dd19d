package service

import (
	"context"
	"slices"
	"time"

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
	if t.ExpiresAt != 0 && t.ExpiresAt <= s.nowMs() {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenExpired, "member token expired")
	}
	return &MemberCaller{CorpID: t.CorpID, UserID: t.UserID}, nil
}

// Me is the user behind a member token.
func (s *Service) Me(ctx context.Context, mc *MemberCaller) (*ding.User, error) {
	u, err := s.store.User(ctx, mc.CorpID, mc.UserID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonUserNotFound, "no user %s in corp %s", mc.UserID, mc.CorpID)
	}
	return u, err
}

// Member tokens minted through the admin API live MemberTokenTTL unless the
// caller asks for less or more, within MaxMemberTokenTTL.
const (
	MemberTokenTTL    = 30 * 24 * time.Hour
	MaxMemberTokenTTL = 366 * 24 * time.Hour
)

// IssueMemberToken mints a member token for a staff member (admin side),
// valid for ttl (0 = MemberTokenTTL).
func (s *Service) IssueMemberToken(ctx context.Context, corpID, userID string, ttl time.Duration) (*ding.MemberToken, error) {
	if corpID == "" || userID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId and userid are required")
	}
	if ttl == 0 {
		ttl = MemberTokenTTL
	}
	if ttl < time.Minute || ttl > MaxMemberTokenTTL {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "expiresIn must be between 60 and %d seconds", int64(MaxMemberTokenTTL/time.Second))
	}
	if _, err := s.store.User(ctx, corpID, userID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonUserNotFound, "no user %s in corp %s", userID, corpID)
		}
		return nil, err
	}
	now := s.nowMs()
	v := "mt" + s.ids.Token() + s.ids.Token()[:16]
	t := ding.MemberToken{Value: v, Hash: ding.SecretHash(v), CorpID: corpID, UserID: userID, CreatedAt: now, ExpiresAt: now + ttl.Milliseconds()}
	if err := s.store.SaveMemberToken(ctx, t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RevokeMemberTokens ends a member token at once: the one given, or with
// token empty every token of the user. It reports how many it ended.
func (s *Service) RevokeMemberTokens(ctx context.Context, corpID, userID, token string) (int, error) {
	if corpID == "" || userID == "" {
		return 0, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId and userid are required")
	}
	hash := ""
	if token != "" {
		hash = ding.SecretHash(token)
	}
	n, err := s.store.RevokeMemberTokens(ctx, corpID, userID, hash)
	s.cache.memberTokens.dropAll() // the cache knows tokens by value, not by user
	return n, err
}

// MinSecretLen is the shortest bearer secret DingChat accepts from
// configuration (the admin token, member tokens declared in an org file):
// they are kept as fast hashes, which only long secrets make safe.
const MinSecretLen = 16

// AdminSecret is the admin API's token as the server knows it.
type AdminSecret struct {
	Hash       string // SecretHash of the token: what requests are checked against
	Minted     string // the token itself when it was minted by this call, else ""
	Configured bool   // given by the operator (flag, environment or file)
}

// AdminToken is the secret of the admin API: configured, or minted once and
// kept as its hash. Only the start that mints it can show it.
func (s *Service) AdminToken(ctx context.Context, configured string) (AdminSecret, error) {
	if configured != "" {
		if len(configured) < MinSecretLen {
			return AdminSecret{}, ding.Errorf(ding.Invalid, ding.ReasonNone, "the admin token must be at least %d characters long", MinSecretLen)
		}
		return AdminSecret{Hash: ding.SecretHash(configured), Configured: true}, nil
	}
	fresh := "adm" + s.ids.Token() + s.ids.Token()
	h, err := s.store.Setting(ctx, "admin_token_hash", ding.SecretHash(fresh))
	if err != nil {
		return AdminSecret{}, err
	}
	out := AdminSecret{Hash: h}
	if h == ding.SecretHash(fresh) {
		out.Minted = fresh
	}
	return out, nil
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
	return s.memberHeads(ctx, mc, gs)
}

// MemberGroupsPage is one page of MemberGroups and the cursor of the next
// ("" at the end).
func (s *Service) MemberGroupsPage(ctx context.Context, mc *MemberCaller, q GroupListQuery) ([]MemberGroup, string, error) {
	p, err := q.page()
	if err != nil {
		return nil, "", err
	}
	gs, err := s.store.GroupsOfPage(ctx, mc.CorpID, mc.UserID, p)
	if err != nil {
		return nil, "", err
	}
	gs, next := nextCursor(gs, p)
	out, err := s.memberHeads(ctx, mc, gs)
	return out, next, err
}

// memberHeads adds each group's newest Seq and the caller's read mark: two
// reads for any number of groups.
func (s *Service) memberHeads(ctx context.Context, mc *MemberCaller, gs []ding.Group) ([]MemberGroup, error) {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ChatID
	}
	lasts, err := s.store.LastSeqs(ctx, ids)
	if err != nil {
		return nil, err
	}
	reads, err := s.store.ReadMarks(ctx, mc.UserID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MemberGroup, 0, len(gs))
	for _, g := range gs {
		out = append(out, MemberGroup{Group: g, LastSeq: lasts[g.ChatID], ReadSeq: reads[g.ChatID]})
	}
	return out, nil
}

// memberGroup returns a group the caller belongs to; any other group is
// reported as unknown, so members learn nothing of groups they are not in.
// It reads the node's kept view of the group (see keptGroupView), which a
// change of members makes it read again.
func (s *Service) memberGroup(ctx context.Context, mc *MemberCaller, chatID string) (*ding.Group, error) {
	if chatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	v, err := s.keptGroupView(ctx, mc.CorpID, chatID)
	if err != nil {
		return nil, err // an unknown group is NotFound with ReasonChatNotFound
	}
	if !slices.Contains(v.UserIDs, mc.UserID) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
	}
	g := v.Group
	return &g, nil
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
	at, err := mentionsOf(obj)
	if err != nil {
		return nil, err
	}
	if len(at.RobotCodes) == 0 {
		return s.appendMessage(ctx, g, ding.SenderUser, mc.UserID, typ, body, nil)
	}
	sender, err := s.store.User(ctx, mc.CorpID, mc.UserID)
	if err != nil {
		return nil, err
	}
	m := s.newMessage(g, ding.SenderUser, mc.UserID, typ, body)
	evs, err := s.botEvents(ctx, g, sender, m, obj, at)
	if err != nil {
		return nil, err
	}
	return s.storeMessage(ctx, g, m, evs, nil)
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
