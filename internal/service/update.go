package service

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// UpdateGroupInput is chat/update and /v1.0/im/group/update alike; nil and
// empty lists mean unchanged.
type UpdateGroupInput struct {
	ChatID     string
	Name       *string
	Owner      *string
	OwnerType  *string
	AddUserIDs []string
	DelUserIDs []string
	AddExtIDs  []string
	DelExtIDs  []string
	Icon       *string
	Options    OptionsPatch
}

func overlap(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

// UpdateGroup changes a group. Checks that need the group's current state
// run inside the store's transaction, so concurrent updates cannot break the
// member cap or leave the owner outside the group.
func (s *Service) UpdateGroup(ctx context.Context, c *Caller, in UpdateGroupInput) (*ding.Group, error) {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return nil, err
	}
	if in.ChatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Owner != nil && *in.Owner == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonOwnerMissing, "owner is empty")
	}
	if in.OwnerType != nil && *in.OwnerType == "" {
		in.OwnerType = nil // an empty ownerType leaves it unchanged, as create reads "" as the default
	}
	if in.OwnerType != nil {
		if err := checkOwnerType(*in.OwnerType); err != nil {
			return nil, err
		}
	}
	add, del := dedupe(in.AddUserIDs), dedupe(in.DelUserIDs)
	addExt, delExt := dedupe(in.AddExtIDs), dedupe(in.DelExtIDs)
	for _, l := range [][]string{add, del} {
		if len(l) > ding.MaxIDsPerCall {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonTooManyIDs, "a list has %d ids, at most %d", len(l), ding.MaxIDsPerCall)
		}
	}
	for _, l := range [][]string{addExt, delExt} {
		if len(l) > ding.MaxExtIDsPerCall {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonTooManyExtIDs, "a list has %d ids, at most %d", len(l), ding.MaxExtIDsPerCall)
		}
	}
	if overlap(add, del) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAddDelOverlap, "add_useridlist and del_useridlist share ids")
	}
	if overlap(addExt, delExt) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonExtAddDelOverlap, "add_extidlist and del_extidlist share ids")
	}
	if err := in.Options.validate(); err != nil {
		return nil, err
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), append(append([]string{}, add...), del...)); err != nil {
		return nil, err
	}
	if err := s.checkExternalsKnown(ctx, c.CorpID(), append(append([]string{}, addExt...), delExt...)); err != nil {
		return nil, err
	}

	now := s.nowMs()
	decide := func(st *ding.GroupState) (*ding.GroupChange, error) {
		old := st.Group
		if old.Status == ding.StatusDisbanded {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
		}
		if old.ConversationTag == ding.TagInternal && (len(addExt) > 0 || (in.OwnerType != nil && *in.OwnerType == ding.OwnerExt)) {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonExternalNotAllowed, "an internal group holds staff only")
		}
		g := old
		g.UpdatedAt = now
		ch := &ding.GroupChange{}

		type key struct{ kind, id string }
		cur := make(map[key]ding.Member, len(st.Members))
		for _, m := range st.Members {
			cur[key{m.Kind, m.ID}] = m
		}
		var removedEmp, removedExt, addedEmp, addedExt []string
		for _, l := range []struct {
			ids  []string
			kind string
			out  *[]string
		}{{del, ding.MemberEmp, &removedEmp}, {delExt, ding.MemberExt, &removedExt}} {
			for _, id := range l.ids {
				k := key{l.kind, id}
				if m, ok := cur[k]; ok {
					ch.Remove = append(ch.Remove, m)
					delete(cur, k)
					*l.out = append(*l.out, id)
				}
			}
		}
		for _, l := range []struct {
			ids  []string
			kind string
			out  *[]string
		}{{add, ding.MemberEmp, &addedEmp}, {addExt, ding.MemberExt, &addedExt}} {
			for _, id := range l.ids {
				k := key{l.kind, id}
				if _, ok := cur[k]; ok {
					continue // already a member: adding again changes nothing
				}
				m := ding.Member{ID: id, Kind: l.kind, Role: ding.RoleMember, JoinedAt: now}
				cur[k] = m
				ch.Add = append(ch.Add, m)
				*l.out = append(*l.out, id)
			}
		}
		if len(cur) > ding.MaxMembers {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members", ding.MaxMembers)
		}

		if in.OwnerType != nil {
			g.OwnerType = *in.OwnerType
		}
		if in.Owner != nil {
			g.Owner = *in.Owner
		}
		if _, ok := cur[key{ownerKind(g.OwnerType), g.Owner}]; !ok {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonOwnerNotMember, "owner %s must be a member", g.Owner)
		}
		if in.Owner != nil && g.OwnerType == ding.OwnerEmp && !c.App.Visible(g.Owner) {
			return nil, ding.Errorf(ding.Forbidden, ding.ReasonOwnerNotVisible, "owner is outside the app's visibility")
		}
		if g.Owner != old.Owner || g.OwnerType != old.OwnerType {
			// the old owner stays a plain member; the new one takes the owner role
			oldKey := key{ownerKind(old.OwnerType), old.Owner}
			if m, ok := cur[oldKey]; ok {
				m.Role = ding.RoleMember
				ch.Roles = append(ch.Roles, m)
			}
			newKey := key{ownerKind(g.OwnerType), g.Owner}
			setRole(ch, cur[newKey], ding.RoleOwner)
		}

		if in.Name != nil {
			g.Name = *in.Name
		}
		if in.Icon != nil {
			g.Icon = *in.Icon
		}
		g.Options = in.Options.apply(old.Options)

		if len(removedEmp)+len(removedExt) > 0 {
			ch.Events = append(ch.Events, s.event(&g, ding.EventChatRemoveMember, now, map[string]any{"userId": nonNil(removedEmp), "unionId": nonNil(removedExt)}))
		}
		if len(addedEmp)+len(addedExt) > 0 {
			ch.Events = append(ch.Events, s.event(&g, ding.EventChatAddMember, now, map[string]any{"userId": nonNil(addedEmp), "unionId": nonNil(addedExt)}))
		}
		if g.Owner != old.Owner || g.OwnerType != old.OwnerType {
			ch.Events = append(ch.Events, s.event(&g, ding.EventChatUpdateOwner, now, map[string]any{"owner": g.Owner, "oldOwner": old.Owner}))
		}
		if g.Name != old.Name {
			ch.Events = append(ch.Events, s.event(&g, ding.EventChatUpdateTitle, now, map[string]any{"title": g.Name, "oldTitle": old.Name}))
		}
		if g.Icon != old.Icon || g.Options != old.Options {
			ch.Events = append(ch.Events, s.event(&g, ding.EventChatUpdateSettings, now, map[string]any{"icon": g.Icon, "options": g.Options}))
		}
		if len(ch.Events) == 0 && len(ch.Roles) == 0 {
			return nil, nil // nothing changes: leave the row as it is
		}
		ch.Group = g
		return ch, nil
	}
	return s.updateGroup(ctx, c, in.ChatID, decide)
}

// updateGroup runs decide in the store; a missing group gets the group reason.
func (s *Service) updateGroup(ctx context.Context, c *Caller, chatID string, decide func(*ding.GroupState) (*ding.GroupChange, error)) (*ding.Group, error) {
	g, err := s.store.UpdateGroup(ctx, c.CorpID(), chatID, decide)
	if ding.IsKind(err, ding.NotFound) && ding.ErrorReason(err) == ding.ReasonNone {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
	}
	return g, err
}

// setRole records m's new role, or sets it on m if m is being added.
func setRole(ch *ding.GroupChange, m ding.Member, role int) {
	for i := range ch.Add {
		if ch.Add[i].ID == m.ID && ch.Add[i].Kind == m.Kind {
			ch.Add[i].Role = role
			return
		}
	}
	m.Role = role
	ch.Roles = append(ch.Roles, m)
}
