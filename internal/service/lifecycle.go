package service

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// Actor is who changes a group outside the app APIs: a member through the
// member API (UserID set) or the operator through the admin API (Admin set).
// An actor that is neither is refused, so a forgotten user id never reads
// as the operator.
type Actor struct {
	CorpID string
	UserID string
	Admin  bool
}

// AdminActor is the operator acting on a corp through the admin API.
func AdminActor(corpID string) Actor { return Actor{CorpID: corpID, Admin: true} }

func (a Actor) admin() bool { return a.Admin }

func (a Actor) check() error {
	if a.Admin == (a.UserID != "") {
		return ding.Errorf(ding.Forbidden, ding.ReasonPermissionDenied, "the actor must be either the admin or a member")
	}
	return nil
}

func (s *Service) actorGroup(ctx context.Context, a Actor, chatID string) (*ding.Group, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	if a.admin() {
		if chatID == "" {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
		}
		g, err := s.store.Group(ctx, a.CorpID, chatID)
		if ding.IsKind(err, ding.NotFound) {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
		}
		return g, err
	}
	return s.memberGroup(ctx, &MemberCaller{CorpID: a.CorpID, UserID: a.UserID}, chatID)
}

func notDisbanded(g *ding.Group) error {
	if g.Status == ding.StatusDisbanded {
		return ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	return nil
}

// DisbandGroup dissolves a group: the owner through the member API, or the
// admin. Members stay listed; every later change is refused.
func (s *Service) DisbandGroup(ctx context.Context, a Actor, chatID string) error {
	g, err := s.actorGroup(ctx, a, chatID)
	if err != nil {
		return err
	}
	now := s.nowMs()
	// through the bound apps: each gets its chat_disband_microapp in the
	// same transaction
	return s.updateChatApps(ctx, g.CorpID, g.ChatID, func(st *ding.ChatAppState) (*ding.ChatAppChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		if !a.admin() && st.Group.Owner != a.UserID {
			return nil, ding.Errorf(ding.Forbidden, ding.ReasonNotOwner, "only the owner disbands a group")
		}
		ng := st.Group
		ng.Status, ng.UpdatedAt = ding.StatusDisbanded, now
		ev := s.event(&ng, ding.EventChatDisband, now, map[string]any{})
		if a.UserID != "" {
			ev = s.eventBy(&ng, ding.EventChatDisband, a.UserID, now, map[string]any{})
		}
		events := append([]ding.Event{ev}, s.disbandAppEvents(&ng, ev.Operator, now, st.Apps)...)
		return &ding.ChatAppChange{Status: ng.Status, UpdatedAt: ng.UpdatedAt, Events: events}, nil
	})
}

// QuitGroup lets a member leave; the owner must hand the group over first.
func (s *Service) QuitGroup(ctx context.Context, mc *MemberCaller, chatID string) error {
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return err
	}
	now := s.nowMs()
	_, err = s.updateGroup(ctx, &Caller{App: &ding.App{CorpID: g.CorpID}}, g.ChatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		if st.Group.Owner == mc.UserID && st.Group.OwnerType == ding.OwnerEmp {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonOwnerMustTransfer, "the owner cannot quit; transfer the group first")
		}
		ng := st.Group
		ng.UpdatedAt = now
		return &ding.GroupChange{Group: ng, Remove: []ding.Member{{ID: mc.UserID, Kind: ding.MemberEmp}},
			Events: []ding.Event{s.eventBy(&ng, ding.EventChatQuit, mc.UserID, now, map[string]any{"userId": []string{mc.UserID}})}}, nil
	})
	return err
}

// SetFriendSwitch forbids (or allows) private chats between members.
func (s *Service) SetFriendSwitch(ctx context.Context, c *Caller, chatID string, prohibit *bool) error {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return err
	}
	if chatID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if prohibit == nil {
		return ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "is_prohibit is required")
	}
	now := s.nowMs()
	_, err := s.updateGroup(ctx, c, chatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		ng := st.Group
		if ng.FriendForbidden == *prohibit {
			return nil, nil
		}
		ng.FriendForbidden, ng.UpdatedAt = *prohibit, now
		return &ding.GroupChange{Group: ng, Events: []ding.Event{s.event(&ng, ding.EventChatUpdateSettings, now, map[string]any{"addFriendForbidden": *prohibit})}}, nil
	})
	return err
}

// MaxNickChars bounds a member's nickname in a group (unconfirmed: the
// scene-group API documents 30).
const MaxNickChars = 30

// SetGroupNick sets a member's nickname in a group; "" clears it.
func (s *Service) SetGroupNick(ctx context.Context, c *Caller, chatID, userID, nick string) error {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return err
	}
	if chatID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if userID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonUnknownUser, "missing userid")
	}
	if chars(nick) > MaxNickChars {
		return ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "group_nick is longer than %d characters", MaxNickChars)
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), []string{userID}); err != nil {
		return err
	}
	now := s.nowMs()
	_, err := s.updateGroup(ctx, c, chatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		for _, m := range st.Members {
			if m.Kind == ding.MemberEmp && m.ID == userID {
				if m.Nick == nick {
					return nil, nil
				}
				m.Nick = nick
				ng := st.Group
				ng.UpdatedAt = now
				return &ding.GroupChange{Group: ng, Roles: []ding.Member{m},
					Events: []ding.Event{s.event(&ng, ding.EventChatUpdateNick, now, map[string]any{"userId": userID, "groupNick": nick})}}, nil
			}
		}
		return nil, ding.Errorf(ding.Invalid, ding.ReasonNotMember, "%s is not in the group", userID)
	})
	return err
}
