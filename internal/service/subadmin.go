package service

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// SetSubAdmins makes members admins (role 2) or plain members again (role 3).
func (s *Service) SetSubAdmins(ctx context.Context, c *Caller, ref GroupRef, userIDs []string, role int) error {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return err
	}
	if ref.ChatID == "" && ref.OpenID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing group id")
	}
	if role != ding.RoleAdmin && role != ding.RoleMember {
		return ding.Errorf(ding.Invalid, ding.ReasonRole, "role must be 2 (admin) or 3 (member), got %d", role)
	}
	ids := dedupe(userIDs)
	if len(ids) == 0 {
		return ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "userIds is empty")
	}
	if len(ids) > ding.MaxIDsPerCall {
		return ding.Errorf(ding.Invalid, ding.ReasonTooManyIDs, "userIds has %d ids, at most %d", len(ids), ding.MaxIDsPerCall)
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), ids); err != nil {
		return err
	}
	g, err := s.resolve(ctx, c, ref)
	if err != nil {
		return err
	}
	now := s.nowMs()
	_, err = s.updateGroup(ctx, c, g.ChatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if st.Group.Status == ding.StatusDisbanded {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
		}
		byID := make(map[string]ding.Member, len(st.Members))
		admins := 0
		for _, m := range st.Members {
			if m.Kind == ding.MemberEmp {
				byID[m.ID] = m
			}
			if m.Role == ding.RoleAdmin {
				admins++
			}
		}
		ch := &ding.GroupChange{Group: st.Group}
		var changed []string
		for _, id := range ids {
			m, ok := byID[id]
			if !ok {
				return nil, ding.Errorf(ding.Invalid, ding.ReasonNotMember, "%s is not a member", id)
			}
			if m.Role == ding.RoleOwner || m.Role == role {
				continue // the owner keeps its role; setting the same role is a no-op
			}
			if role == ding.RoleAdmin {
				admins++
			} else {
				admins--
			}
			m.Role = role
			ch.Roles = append(ch.Roles, m)
			changed = append(changed, id)
		}
		if admins > ding.MaxSubAdmins {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonSubAdminLimit, "a group has at most %d admins", ding.MaxSubAdmins)
		}
		if len(changed) == 0 {
			return nil, nil
		}
		ch.Group.UpdatedAt = now
		ch.Events = []ding.Event{s.event(&ch.Group, ding.EventChatUpdateSubAdmin, now, map[string]any{"userId": changed, "role": role})}
		return ch, nil
	})
	return err
}
