package service

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// JoinLinkTTL is how long a join link works. DingTalk's group QR codes
// expire after 7 days (unconfirmed for the links of topapi/chat/qrcode/get).
const JoinLinkTTL = 7 * 24 * time.Hour

// JoinLink returns a link that lets members of the corp join a group
// (topapi/chat/qrcode/get). The sharer must be in the group. DingChat
// serves the link itself under base.
func (s *Service) JoinLink(ctx context.Context, c *Caller, chatID, sharer, base string) (string, error) {
	if err := s.require(c, ding.ScopeChatBaseRead); err != nil {
		return "", err
	}
	if sharer == "" {
		return "", ding.Errorf(ding.Invalid, ding.ReasonUnknownUser, "missing userid")
	}
	g, err := s.resolve(ctx, c, GroupRef{ChatID: chatID})
	if err != nil {
		return "", err
	}
	if err := notDisbanded(g); err != nil {
		return "", err
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), []string{sharer}); err != nil {
		return "", err
	}
	if _, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, sharer); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return "", ding.Errorf(ding.Invalid, ding.ReasonNotMember, "%s is not in the group", sharer)
		}
		return "", err
	}
	code := "v1," + s.ids.Token()
	now := s.nowMs()
	if err := s.store.SaveJoinCode(ctx, ding.JoinCode{Code: code, Hash: ding.SecretHash(code), CorpID: g.CorpID, ChatID: g.ChatID, Sharer: sharer,
		CreatedAt: now, ExpiresAt: now + JoinLinkTTL.Milliseconds()}); err != nil {
		return "", err
	}
	return base + "/_dingchat/joingroup?code=" + url.QueryEscape(code) + "&_dt_no_comment=1&origin=11", nil
}

// JoinInfo is what a join link shows before anyone signs in.
type JoinInfo struct {
	Code          string
	Group         ding.Group
	OwnerName     string
	SharerName    string
	NeedsApproval bool
	Disbanded     bool
}

func (s *Service) joinCode(ctx context.Context, code string) (*ding.JoinCode, *ding.Group, error) {
	jc, err := s.store.JoinCode(ctx, ding.SecretHash(code))
	if err == nil && jc.ExpiresAt != 0 && jc.ExpiresAt <= s.nowMs() {
		err = ding.Errorf(ding.NotFound, ding.ReasonNone, "join link expired")
	}
	if ding.IsKind(err, ding.NotFound) {
		return nil, nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "this join link is not valid")
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := s.store.Group(ctx, jc.CorpID, jc.ChatID)
	if err != nil {
		return nil, nil, err
	}
	return jc, g, nil
}

func (s *Service) userName(ctx context.Context, corpID, userID string) string {
	if u, err := s.store.User(ctx, corpID, userID); err == nil {
		return u.Name
	}
	return userID
}

// JoinLinkInfo describes the group behind a join link.
func (s *Service) JoinLinkInfo(ctx context.Context, code string) (*JoinInfo, error) {
	jc, g, err := s.joinCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return &JoinInfo{Code: code, Group: *g, OwnerName: s.userName(ctx, g.CorpID, g.Owner), SharerName: s.userName(ctx, g.CorpID, jc.Sharer),
		NeedsApproval: g.Options.ValidationType == 1, Disbanded: g.Status == ding.StatusDisbanded}, nil
}

// Join outcomes.
const (
	JoinJoined    = "joined"
	JoinRequested = "requested"
	JoinAlready   = "already_member"
)

// Join adds a signed-in member of the group's corp through a join link, or
// files a request when the group validates joins.
func (s *Service) Join(ctx context.Context, mc *MemberCaller, code string) (string, *ding.Group, error) {
	jc, g, err := s.joinCode(ctx, code)
	if err != nil {
		return "", nil, err
	}
	if g.CorpID != mc.CorpID {
		return "", nil, ding.Errorf(ding.Forbidden, ding.ReasonPermissionDenied, "the group belongs to another organisation")
	}
	if err := notDisbanded(g); err != nil {
		return "", nil, err
	}
	if _, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, mc.UserID); err == nil {
		return JoinAlready, g, nil
	}
	now := s.nowMs()
	if g.Options.ValidationType == 1 {
		if err := s.store.SaveJoinRequest(ctx, ding.JoinRequest{ChatID: g.ChatID, UserID: mc.UserID, Code: jc.Hash, CreatedAt: now}); err != nil {
			return "", nil, err
		}
		return JoinRequested, g, nil
	}
	g2, err := s.addMember(ctx, g, mc.UserID, mc.UserID, now)
	return JoinJoined, g2, err
}

// addMember adds one staff member inside the store's transaction, so the
// member cap holds however many join at once.
func (s *Service) addMember(ctx context.Context, g *ding.Group, userID, operator string, now int64) (*ding.Group, error) {
	return s.updateGroup(ctx, &Caller{App: &ding.App{CorpID: g.CorpID}}, g.ChatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		for _, m := range st.Members {
			if m.Kind == ding.MemberEmp && m.ID == userID {
				return nil, nil
			}
		}
		if len(st.Members)+1 > ding.MaxMembers {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members", ding.MaxMembers)
		}
		ng := st.Group
		ng.UpdatedAt = now
		return &ding.GroupChange{Group: ng, Add: []ding.Member{{ID: userID, Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now}},
			Events: []ding.Event{s.eventBy(&ng, ding.EventChatAddMember, operator, now, map[string]any{"userId": []string{userID}, "unionId": []string{}})}}, nil
	})
}

// canApprove: the owner and admins decide on join requests.
func (s *Service) canApprove(ctx context.Context, mc *MemberCaller, chatID string) (*ding.Group, error) {
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, mc.UserID)
	if err != nil {
		return nil, err
	}
	if m.Role != ding.RoleOwner && m.Role != ding.RoleAdmin {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonNotOwner, "only the owner and admins decide on join requests")
	}
	return g, nil
}

// JoinRequests lists a group's pending join requests for its owner or admins.
func (s *Service) JoinRequests(ctx context.Context, mc *MemberCaller, chatID string) ([]ding.JoinRequest, error) {
	g, err := s.canApprove(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	return s.store.JoinRequests(ctx, g.ChatID)
}

// DecideJoin approves (adding the member) or rejects a pending request.
func (s *Service) DecideJoin(ctx context.Context, mc *MemberCaller, chatID, userID string, approve bool) error {
	g, err := s.canApprove(ctx, mc, chatID)
	if err != nil {
		return err
	}
	noRequest := ding.Errorf(ding.NotFound, ding.ReasonNone, "no pending request from %s", userID)
	if approve {
		// add before deleting: an approval refused by a full or disbanded
		// group leaves the request pending
		rs, err := s.store.JoinRequests(ctx, g.ChatID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rs, func(r ding.JoinRequest) bool { return r.UserID == userID }) {
			return noRequest
		}
		if _, err := s.addMember(ctx, g, userID, mc.UserID, s.nowMs()); err != nil {
			return err
		}
	}
	if err := s.store.DeleteJoinRequest(ctx, g.ChatID, userID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			if approve {
				return nil // decided at the same time by someone else; the member is in
			}
			return noRequest
		}
		return err
	}
	return nil
}
