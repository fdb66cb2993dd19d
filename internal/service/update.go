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

// overlap is the first id of a that b also holds.
func overlap(a, b []string) (string, bool) {
	for _, x := range a {
		if contains(b, x) {
			return x, true
		}
	}
	return "", false
}

// UpdateGroup changes a group. Checks that need the group's current state
// run inside the store's transaction, so concurrent updates cannot break the
// member cap or leave the owner outside the group.
func (s *Service) UpdateGroup(ctx context.Context, c *Caller, in UpdateGroupInput) (*ding.Group, error) {
	lists, err := s.checkUpdate(ctx, c, &in)
	if err != nil {
		return nil, err
	}
	now := s.nowMs()
	return s.updateGroup(ctx, c, in.ChatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		return s.decideUpdate(c, in, lists, st, now)
	})
}

// memberLists are an update's member lists, deduplicated.
type memberLists struct{ add, del, addExt, delExt []string }

// checkUpdate runs every check that needs no group state, in the order
// DingTalk reports them; it reads an empty ownerType as unchanged.
func (s *Service) checkUpdate(ctx context.Context, c *Caller, in *UpdateGroupInput) (memberLists, error) {
	var l memberLists
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return l, err
	}
	if in.ChatID == "" {
		return l, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return l, err
		}
	}
	if in.Owner != nil && *in.Owner == "" {
		return l, ding.Errorf(ding.Invalid, ding.ReasonOwnerMissing, "owner is empty")
	}
	if in.OwnerType != nil && *in.OwnerType == "" {
		in.OwnerType = nil // an empty ownerType leaves it unchanged, as create reads "" as the default
	}
	if in.OwnerType != nil {
		if err := checkOwnerType(*in.OwnerType); err != nil {
			return l, err
		}
	}
	l = memberLists{add: dedupe(in.AddUserIDs), del: dedupe(in.DelUserIDs), addExt: dedupe(in.AddExtIDs), delExt: dedupe(in.DelExtIDs)}
	for _, ids := range [][]string{l.add, l.del} {
		if len(ids) > ding.MaxIDsPerCall {
			return l, ding.Errorf(ding.Invalid, ding.ReasonTooManyIDs, "a list has %d ids, at most %d", len(ids), ding.MaxIDsPerCall)
		}
	}
	for _, ids := range [][]string{l.addExt, l.delExt} {
		if len(ids) > ding.MaxExtIDsPerCall {
			return l, ding.Errorf(ding.Invalid, ding.ReasonTooManyExtIDs, "a list has %d ids, at most %d", len(ids), ding.MaxExtIDsPerCall)
		}
	}
	if id, ok := overlap(l.add, l.del); ok {
		return l, ding.Errorf(ding.Invalid, ding.ReasonAddDelOverlap, "add_useridlist and del_useridlist both name %s", id)
	}
	if id, ok := overlap(l.addExt, l.delExt); ok {
		return l, ding.Errorf(ding.Invalid, ding.ReasonExtAddDelOverlap, "add_extidlist and del_extidlist both name %s", id)
	}
	if err := in.Options.validate(); err != nil {
		return l, err
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), append(append([]string{}, l.add...), l.del...)); err != nil {
		return l, err
	}
	if err := s.checkExternalsKnown(ctx, c.CorpID(), append(append([]string{}, l.addExt...), l.delExt...)); err != nil {
		return l, err
	}
	return l, nil
}

// decideUpdate is the change an update makes to the group as stored; nil
// when it changes nothing.
func (s *Service) decideUpdate(c *Caller, in UpdateGroupInput, l memberLists, st *ding.GroupState, now int64) (*ding.GroupChange, error) {
	old := st.Group
	if old.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group %s is disbanded", old.ChatID)
	}
	if old.ConversationTag == ding.TagInternal && (len(l.addExt) > 0 || (in.OwnerType != nil && *in.OwnerType == ding.OwnerExt)) {
		ownerType := "unchanged"
		if in.OwnerType != nil {
			ownerType = *in.OwnerType
		}
		return nil, ding.Errorf(ding.Invalid, ding.ReasonExternalNotAllowed, "an internal group (conversationTag 2) holds staff only; add_extidlist has %d ids, ownerType %s", len(l.addExt), ownerType)
	}
	g := old
	g.UpdatedAt = now
	ch := &ding.GroupChange{}
	cur, mv, err := changeMembers(st, l, ch, now)
	if err != nil {
		return nil, err
	}
	if err := changeOwner(c, in, old, &g, cur, ch); err != nil {
		return nil, err
	}
	if in.Name != nil {
		g.Name = *in.Name
	}
	if in.Icon != nil {
		g.Icon = *in.Icon
	}
	g.Options = in.Options.apply(old.Options)
	ch.Events = s.updateEvents(old, &g, mv, now)
	if len(ch.Events) == 0 && len(ch.Roles) == 0 {
		return nil, nil // nothing changes: leave the row as it is
	}
	ch.Group = g
	return ch, nil
}

type memberKey struct{ kind, id string }

// moved are the ids an update really removed and added, by kind.
type moved struct{ removedEmp, removedExt, addedEmp, addedExt []string }

// changeMembers applies the removals, then the additions, to the stored
// members and records them in ch; it returns the members after the change.
func changeMembers(st *ding.GroupState, l memberLists, ch *ding.GroupChange, now int64) (map[memberKey]ding.Member, moved, error) {
	var mv moved
	cur := make(map[memberKey]ding.Member, len(st.Members))
	for _, m := range st.Members {
		cur[memberKey{m.Kind, m.ID}] = m
	}
	for _, d := range []struct {
		ids  []string
		kind string
		out  *[]string
	}{{l.del, ding.MemberEmp, &mv.removedEmp}, {l.delExt, ding.MemberExt, &mv.removedExt}} {
		for _, id := range d.ids {
			k := memberKey{d.kind, id}
			if m, ok := cur[k]; ok {
				ch.Remove = append(ch.Remove, m)
				delete(cur, k)
				*d.out = append(*d.out, id)
			}
		}
	}
	for _, a := range []struct {
		ids  []string
		kind string
		out  *[]string
	}{{l.add, ding.MemberEmp, &mv.addedEmp}, {l.addExt, ding.MemberExt, &mv.addedExt}} {
		for _, id := range a.ids {
			k := memberKey{a.kind, id}
			if _, ok := cur[k]; ok {
				continue // already a member: adding again changes nothing
			}
			m := ding.Member{ID: id, Kind: a.kind, Role: ding.RoleMember, JoinedAt: now}
			cur[k] = m
			ch.Add = append(ch.Add, m)
			*a.out = append(*a.out, id)
		}
	}
	if len(cur) > ding.MaxMembers {
		return nil, mv, ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members, this update makes %d", ding.MaxMembers, len(cur))
	}
	return cur, mv, nil
}

// changeOwner sets g's owner from in, checks the owner is a member the app
// can see, and moves the owner role.
func changeOwner(c *Caller, in UpdateGroupInput, old ding.Group, g *ding.Group, cur map[memberKey]ding.Member, ch *ding.GroupChange) error {
	if in.OwnerType != nil {
		g.OwnerType = *in.OwnerType
	}
	if in.Owner != nil {
		g.Owner = *in.Owner
	}
	if _, ok := cur[memberKey{ownerKind(g.OwnerType), g.Owner}]; !ok {
		return ding.Errorf(ding.Invalid, ding.ReasonOwnerNotMember, "owner %s must be a member", g.Owner)
	}
	if in.Owner != nil && g.OwnerType == ding.OwnerEmp && !c.App.Visible(g.Owner) {
		return ding.Errorf(ding.Forbidden, ding.ReasonOwnerNotVisible, "owner %s is outside the app's visibility", g.Owner)
	}
	if g.Owner != old.Owner || g.OwnerType != old.OwnerType {
		// the old owner stays a plain member; the new one takes the owner role
		if m, ok := cur[memberKey{ownerKind(old.OwnerType), old.Owner}]; ok {
			m.Role = ding.RoleMember
			ch.Roles = append(ch.Roles, m)
		}
		setRole(ch, cur[memberKey{ownerKind(g.OwnerType), g.Owner}], ding.RoleOwner)
	}
	return nil
}

// updateEvents are the events an update records, one per kind of change.
func (s *Service) updateEvents(old ding.Group, g *ding.Group, mv moved, now int64) []ding.Event {
	var evs []ding.Event
	if len(mv.removedEmp)+len(mv.removedExt) > 0 {
		evs = append(evs, s.event(g, ding.EventChatRemoveMember, now, map[string]any{"userId": nonNil(mv.removedEmp), "unionId": nonNil(mv.removedExt)}))
	}
	if len(mv.addedEmp)+len(mv.addedExt) > 0 {
		evs = append(evs, s.event(g, ding.EventChatAddMember, now, map[string]any{"userId": nonNil(mv.addedEmp), "unionId": nonNil(mv.addedExt)}))
	}
	if g.Owner != old.Owner || g.OwnerType != old.OwnerType {
		evs = append(evs, s.event(g, ding.EventChatUpdateOwner, now, map[string]any{"owner": g.Owner, "oldOwner": old.Owner}))
	}
	if g.Name != old.Name {
		evs = append(evs, s.event(g, ding.EventChatUpdateTitle, now, map[string]any{"title": g.Name, "oldTitle": old.Name}))
	}
	if g.Icon != old.Icon || g.Options != old.Options {
		evs = append(evs, s.event(g, ding.EventChatUpdateSettings, now, map[string]any{"icon": g.Icon, "options": g.Options}))
	}
	return evs
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
