package service

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
)

// Group listings come in pages: DefaultGroupPage groups unless the caller
// asks for more, MaxGroupPage at most.
const (
	DefaultGroupPage = 100
	MaxGroupPage     = 5000
)

// GroupListQuery selects a page of a group listing, newest first.
type GroupListQuery struct {
	Cursor string // the previous page's next cursor; "" starts at the newest
	Search string // part of the name (ASCII case ignored) or chatid; "" = all
	Limit  int    // 0 = DefaultGroupPage
}

// page checks q and turns it into the store's terms, asking for one group
// more than the page holds to learn whether another page follows.
func (q GroupListQuery) page() (ding.GroupPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultGroupPage
	}
	if q.Limit < 1 || q.Limit > MaxGroupPage {
		return ding.GroupPage{}, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "limit must be 1..%d", MaxGroupPage)
	}
	p := ding.GroupPage{Search: strings.ToLower(strings.TrimSpace(q.Search)), Limit: q.Limit + 1}
	if q.Cursor != "" {
		at, id, ok := strings.Cut(q.Cursor, ".")
		n, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || id == "" {
			return p, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "cursor %q is not a nextCursor of this listing", q.Cursor)
		}
		p.After = ding.GroupCursor{CreatedAt: n, ChatID: id}
	}
	return p, nil
}

// nextCursor trims the extra group page() asked for and names where the
// next page begins, "" when this one is the last.
func nextCursor(gs []ding.Group, p ding.GroupPage) ([]ding.Group, string) {
	if len(gs) < p.Limit {
		return gs, ""
	}
	gs = gs[:p.Limit-1]
	last := gs[len(gs)-1]
	return gs, strconv.FormatInt(last.CreatedAt, 10) + "." + last.ChatID
}

// CorpGroup is a group as the operator's list shows it.
type CorpGroup struct {
	Group   ding.Group
	LastSeq int64
}

// CorpGroups is one page of a corp's groups, newest first, with their
// newest message Seq (two reads for the page, whatever the corp's size),
// and the cursor of the next page ("" at the end).
func (s *Service) CorpGroups(ctx context.Context, corpID string, q GroupListQuery) ([]CorpGroup, string, error) {
	if _, err := s.corp(ctx, corpID); err != nil {
		return nil, "", err
	}
	p, err := q.page()
	if err != nil {
		return nil, "", err
	}
	gs, err := s.store.CorpGroups(ctx, corpID, p)
	if err != nil {
		return nil, "", err
	}
	gs, next := nextCursor(gs, p)
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ChatID
	}
	seqs, err := s.store.LastSeqs(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]CorpGroup, len(gs))
	for i, g := range gs {
		out[i] = CorpGroup{Group: g, LastSeq: seqs[g.ChatID]}
	}
	return out, next, nil
}

func (s *Service) corp(ctx context.Context, corpID string) (*ding.Corp, error) {
	c, err := s.store.Corp(ctx, corpID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "no corp %s", corpID)
	}
	return c, err
}

// CorpGroupDetail is one group of a corp with its members, for the operator.
func (s *Service) CorpGroupDetail(ctx context.Context, corpID, chatID string) (*ding.Group, []ding.Member, error) {
	g, err := s.store.Group(ctx, corpID, chatID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
	}
	if err != nil {
		return nil, nil, err
	}
	ms, err := s.store.Members(ctx, g.ChatID)
	if err != nil {
		return nil, nil, err
	}
	return g, ms, nil
}

// CorpGroupMessages pages a group's timeline for the operator and reports
// whether more lie beyond the page.
func (s *Service) CorpGroupMessages(ctx context.Context, corpID, chatID string, q ding.MessageQuery) ([]ding.Message, bool, error) {
	if q.Limit == 0 {
		q.Limit = DefaultMemberPage
	}
	if q.Limit < 1 || q.Limit > MaxMemberPage {
		return nil, false, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "limit must be 1..%d", MaxMemberPage)
	}
	if q.Before < 0 || q.After < 0 {
		return nil, false, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "cursor must not be negative")
	}
	if _, _, err := s.CorpGroupDetail(ctx, corpID, chatID); err != nil {
		return nil, false, err
	}
	limit := q.Limit
	q.Limit++
	ms, err := s.store.Messages(ctx, chatID, q)
	if err != nil {
		return nil, false, err
	}
	if len(ms) > limit {
		return ms[:limit], true, nil
	}
	return ms, false, nil
}

// AppSecret is an app's secret, revealed to the operator on demand.
func (s *Service) AppSecret(ctx context.Context, key string) (string, error) {
	a, err := s.store.App(ctx, key)
	if ding.IsKind(err, ding.NotFound) {
		return "", ding.Errorf(ding.NotFound, ding.ReasonNone, "no app %s", key)
	}
	if err != nil {
		return "", err
	}
	return a.Secret, nil
}

// corpCaller reaches a corp's media as the corp itself: the operator and
// members read media of their corp without an app.
func corpCaller(corpID string) *Caller { return &Caller{App: &ding.App{CorpID: corpID}} }

// OpenCorpMedia is OpenMedia for the operator.
func (s *Service) OpenCorpMedia(ctx context.Context, corpID, mediaID string) (*ding.Media, io.ReadSeekCloser, error) {
	return s.OpenMedia(ctx, corpCaller(corpID), mediaID)
}

// MemberOpenMedia is OpenMedia for a member of the corp.
func (s *Service) MemberOpenMedia(ctx context.Context, mc *MemberCaller, mediaID string) (*ding.Media, io.ReadSeekCloser, error) {
	return s.OpenMedia(ctx, corpCaller(mc.CorpID), mediaID)
}

// MemberUploadImage stores an image a member is about to send.
func (s *Service) MemberUploadImage(ctx context.Context, mc *MemberCaller, in UploadInput) (*ding.Media, error) {
	in.Type = "image"
	return s.UploadMedia(ctx, corpCaller(mc.CorpID), in)
}

// MemberDirectory is who a member can mention in a group: its members with
// their names, and its robots.
type MemberDirectory struct {
	Members []ding.Member
	Names   map[string]string // userid → name
	Robots  []ding.Robot
}

// directoryUsers bounds the names read for one directory.
const directoryUsers = 5000

// GroupDirectory lists a group's members and robots for one of its members.
func (s *Service) GroupDirectory(ctx context.Context, mc *MemberCaller, chatID string) (*MemberDirectory, error) {
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	return s.directory(ctx, g)
}

// CorpGroupDirectory is GroupDirectory for the operator.
func (s *Service) CorpGroupDirectory(ctx context.Context, corpID, chatID string) (*MemberDirectory, error) {
	g, _, err := s.CorpGroupDetail(ctx, corpID, chatID)
	if err != nil {
		return nil, err
	}
	return s.directory(ctx, g)
}

func (s *Service) directory(ctx context.Context, g *ding.Group) (*MemberDirectory, error) {
	ms, err := s.store.Members(ctx, g.ChatID)
	if err != nil {
		return nil, err
	}
	us, err := s.store.UsersByCorp(ctx, g.CorpID, directoryUsers)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ms))
	in := make(map[string]bool, len(ms))
	for _, m := range ms {
		in[m.ID] = true
	}
	for _, u := range us {
		if in[u.UserID] {
			names[u.UserID] = u.Name
		}
	}
	rs, err := s.store.GroupRobots(ctx, g.ChatID)
	if err != nil {
		return nil, err
	}
	return &MemberDirectory{Members: ms, Names: names, Robots: rs}, nil
}
