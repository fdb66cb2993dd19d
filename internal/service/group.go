package service

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
)

// OptionsPatch carries the management switches a call sets; nil = unchanged.
type OptionsPatch struct {
	ShowHistoryType     *int
	Searchable          *int
	ValidationType      *int
	MentionAllAuthority *int
	ManagementType      *int
	ChatBannedType      *int
}

func (p OptionsPatch) fields() []*int {
	return []*int{p.ShowHistoryType, p.Searchable, p.ValidationType, p.MentionAllAuthority, p.ManagementType, p.ChatBannedType}
}

func (p OptionsPatch) validate() error {
	for _, v := range p.fields() {
		if v != nil && *v != 0 && *v != 1 {
			return ding.Errorf(ding.Invalid, ding.ReasonOptionValue, "option values are 0 or 1, got %d", *v)
		}
	}
	return nil
}

func (p OptionsPatch) apply(o ding.Options) ding.Options {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&o.ShowHistoryType, p.ShowHistoryType)
	set(&o.Searchable, p.Searchable)
	set(&o.ValidationType, p.ValidationType)
	set(&o.MentionAllAuthority, p.MentionAllAuthority)
	set(&o.ManagementType, p.ManagementType)
	set(&o.ChatBannedType, p.ChatBannedType)
	return o
}

// CreateGroupInput is chat/create and /v1.0/im/group/create alike.
type CreateGroupInput struct {
	Name            string
	Owner           string
	OwnerType       string // "", emp or ext
	UserIDs         []string
	ExtIDs          []string
	ConversationTag *int // nil = internal group
	Icon            string
	Options         OptionsPatch
}

// GroupView is a group with its members, as chat/get shows it.
type GroupView struct {
	Group    ding.Group
	UserIDs  []string // staff members in joining order
	ExtIDs   []string // external contacts in joining order
	Admins   []string
	AgentIDs []string
}

func checkName(name string) error {
	if name == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonNameEmpty, "name is empty")
	}
	if n := utf8.RuneCountInString(name); n > ding.MaxNameChars {
		return ding.Errorf(ding.Invalid, ding.ReasonNameLength, "name has %d characters, at most %d", n, ding.MaxNameChars)
	}
	return nil
}

func checkOwnerType(t string) error {
	if t != "" && t != ding.OwnerEmp && t != ding.OwnerExt {
		return ding.Errorf(ding.Invalid, ding.ReasonOwnerType, "ownerType must be emp or ext, got %q", t)
	}
	return nil
}

// dedupe keeps the first occurrence of each non-empty id.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (s *Service) checkUsersKnown(ctx context.Context, corpID string, ids []string) error {
	found, err := s.store.ExistingUsers(ctx, corpID, ids)
	if err != nil {
		return err
	}
	return ding.FirstUnknownUser(found, ids)
}

func (s *Service) checkExternalsKnown(ctx context.Context, corpID string, ids []string) error {
	found, err := s.store.ExistingExternals(ctx, corpID, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !found[id] {
			return ding.Errorf(ding.Invalid, ding.ReasonUnknownExternal, "external contact %s is not in the corp", id)
		}
	}
	return nil
}

func eventData(v map[string]any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// event records a change made through an app API. DingTalk attributes such
// changes to a person; the group owner is the most plausible (unconfirmed).
func (s *Service) event(g *ding.Group, typ string, now int64, data map[string]any) ding.Event {
	return s.eventBy(g, typ, g.Owner, now, data)
}

// eventBy records a change made by operator.
func (s *Service) eventBy(g *ding.Group, typ, operator string, now int64, data map[string]any) ding.Event {
	data["chatId"] = g.ChatID
	data["openConversationId"] = g.OpenConversationID
	data["corpId"] = g.CorpID
	data["timeStamp"] = now
	data["operator"] = operator
	return ding.Event{CorpID: g.CorpID, Type: typ, ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, Operator: operator, Data: eventData(data), CreatedAt: now}
}

// CreateGroup creates a group; the owner becomes its first member.
func (s *Service) CreateGroup(ctx context.Context, c *Caller, in CreateGroupInput) (*ding.Group, error) {
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return nil, err
	}
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if in.Owner == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonOwnerMissing, "owner is empty")
	}
	if err := checkOwnerType(in.OwnerType); err != nil {
		return nil, err
	}
	users, exts := dedupe(in.UserIDs), dedupe(in.ExtIDs)
	if len(users)+len(exts) == 0 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMembersEmpty, "useridlist is empty")
	}
	if len(users) > ding.MaxIDsPerCall {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonTooManyIDs, "useridlist has %d ids, at most %d", len(users), ding.MaxIDsPerCall)
	}
	if len(exts) > ding.MaxExtIDsPerCall {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonTooManyExtIDs, "extidlist has %d ids, at most %d", len(exts), ding.MaxExtIDsPerCall)
	}
	tag := ding.TagInternal
	if in.ConversationTag != nil {
		tag = *in.ConversationTag
	}
	if tag != ding.TagInternal && tag != ding.TagOrdinary {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonConversationTag, "conversationTag must be 0 (ordinary) or 2 (internal), got %d", tag)
	}
	if err := in.Options.validate(); err != nil {
		return nil, err
	}
	ownerType := in.OwnerType
	if ownerType == "" {
		ownerType = ding.OwnerEmp
	}
	if tag == ding.TagInternal && (len(exts) > 0 || ownerType == ding.OwnerExt) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonExternalNotAllowed, "an internal group (conversationTag 2) holds staff only; extidlist has %d ids, ownerType is %s", len(exts), ownerType)
	}
	if tag == ding.TagOrdinary && !c.App.OrdinaryGroups {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonOrdinaryNotAllowed, "app is not allow-listed for ordinary groups")
	}
	// the store checks the users in the create's own write (ding.GroupStore);
	// a refusal found before it still names an unknown user first
	if err := s.createChecks(ctx, c, in, ownerType, users, exts); err != nil {
		if uerr := s.checkUsersKnown(ctx, c.CorpID(), users); uerr != nil {
			return nil, uerr
		}
		return nil, err
	}

	now := s.nowMs()
	g := &ding.Group{
		ChatID: s.ids.ChatID(), OpenConversationID: s.ids.OpenConversationID(), CorpID: c.CorpID(),
		Name: in.Name, Owner: in.Owner, OwnerType: ownerType, ConversationTag: tag, Icon: in.Icon,
		Options: in.Options.apply(ding.Options{}), Status: ding.StatusNormal, CreatorApp: c.App.Key,
		CreatedAt: now, UpdatedAt: now,
	}
	members := make([]ding.Member, 0, len(users)+len(exts))
	add := func(id, kind string) {
		role := ding.RoleMember
		if id == in.Owner && kind == ownerKind(ownerType) {
			role = ding.RoleOwner
		}
		members = append(members, ding.Member{ID: id, Kind: kind, Role: role, JoinedAt: now})
	}
	for _, id := range users {
		add(id, ding.MemberEmp)
	}
	for _, id := range exts {
		add(id, ding.MemberExt)
	}
	events := []ding.Event{s.event(g, ding.EventChatCreate, now, map[string]any{"title": g.Name, "owner": g.Owner, "conversationTag": tag})}
	events = append(events, s.event(g, ding.EventChatAddMember, now, map[string]any{"userId": users, "unionId": nonNil(exts)}))
	if err := s.store.CreateGroup(ctx, g, members, events); err != nil {
		return nil, err
	}
	return g, nil
}

// createChecks are a create's checks that follow the users' in DingTalk's
// order of refusals.
func (s *Service) createChecks(ctx context.Context, c *Caller, in CreateGroupInput, ownerType string, users, exts []string) error {
	if err := s.checkExternalsKnown(ctx, c.CorpID(), exts); err != nil {
		return err
	}
	if err := checkOwner(in.Owner, ownerType, users, exts); err != nil {
		return err
	}
	if ownerType == ding.OwnerEmp && !c.App.Visible(in.Owner) {
		return ding.Errorf(ding.Forbidden, ding.ReasonOwnerNotVisible, "owner %s is outside the app's visibility", in.Owner)
	}
	if len(users)+len(exts) > ding.MaxMembers {
		return ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members, got %d", ding.MaxMembers, len(users)+len(exts))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ownerKind(ownerType string) string {
	if ownerType == ding.OwnerExt {
		return ding.MemberExt
	}
	return ding.MemberEmp
}

// checkOwner: the owner must be among the members, of the declared kind.
func checkOwner(owner, ownerType string, users, exts []string) error {
	switch {
	case ownerType == ding.OwnerEmp && contains(users, owner):
		return nil
	case ownerType == ding.OwnerExt && contains(exts, owner):
		return nil
	case ownerType == ding.OwnerEmp && contains(exts, owner):
		return ding.Errorf(ding.Invalid, ding.ReasonOwnerNotStaff, "owner %s is not staff", owner)
	case ownerType == ding.OwnerExt && contains(users, owner):
		return ding.Errorf(ding.Invalid, ding.ReasonOwnerNotExternal, "owner %s is not an external contact", owner)
	}
	return ding.Errorf(ding.Invalid, ding.ReasonOwnerNotMember, "owner %s must be a member", owner)
}

// GroupRef names a group by chatid or by openConversationId.
type GroupRef struct {
	ChatID string
	OpenID string
}

func (s *Service) resolve(ctx context.Context, c *Caller, ref GroupRef) (*ding.Group, error) {
	if ref.ChatID == "" && ref.OpenID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	var g *ding.Group
	var err error
	if ref.ChatID != "" {
		g, err = s.store.Group(ctx, c.CorpID(), ref.ChatID)
	} else {
		g, err = s.store.GroupByOpenID(ctx, c.CorpID(), ref.OpenID)
	}
	if ding.IsKind(err, ding.NotFound) {
		if ref.ChatID != "" {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", ref.ChatID)
		}
		return nil, ding.Errorf(ding.NotFound, ding.ReasonOpenConvNotFound, "no group %s", ref.OpenID)
	}
	return g, err
}

// GetGroup returns a group with its members and bound apps; by chatid
// through the node's cache of groups (groupViews), which checks the group's
// version on every call.
func (s *Service) GetGroup(ctx context.Context, c *Caller, ref GroupRef) (*GroupView, error) {
	if err := s.require(c, ding.ScopeChatRead); err != nil {
		return nil, err
	}
	if ref.ChatID != "" {
		return s.cachedGroupView(ctx, c.CorpID(), ref.ChatID)
	}
	g, err := s.resolve(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	return s.groupView(ctx, g)
}

// groupView reads g's members and bound apps.
func (s *Service) groupView(ctx context.Context, g *ding.Group) (*GroupView, error) {
	ms, err := s.store.Members(ctx, g.ChatID)
	if err != nil {
		return nil, err
	}
	v := &GroupView{Group: *g, UserIDs: []string{}, ExtIDs: []string{}, Admins: []string{}, AgentIDs: []string{}}
	for _, m := range ms {
		if m.Kind == ding.MemberExt {
			v.ExtIDs = append(v.ExtIDs, m.ID)
		} else {
			v.UserIDs = append(v.UserIDs, m.ID)
		}
		if m.Role == ding.RoleAdmin {
			v.Admins = append(v.Admins, m.ID)
		}
	}
	apps, err := s.store.ChatApps(ctx, g.ChatID)
	if err != nil {
		return nil, err
	}
	for _, b := range apps {
		v.AgentIDs = append(v.AgentIDs, b.AgentIDText())
	}
	return v, nil
}

// ConvertChatID returns the openConversationId of a chatid.
func (s *Service) ConvertChatID(ctx context.Context, c *Caller, chatID string) (string, error) {
	if err := s.require(c, ding.ScopeChatRead); err != nil {
		return "", err
	}
	g, err := s.resolve(ctx, c, GroupRef{ChatID: chatID})
	if err != nil {
		return "", err
	}
	if g.OwnerType == ding.OwnerEmp && !c.App.Visible(g.Owner) {
		return "", ding.Errorf(ding.Forbidden, ding.ReasonOwnerNotVisible, "owner %s is outside the app's visibility", g.Owner)
	}
	return g.OpenConversationID, nil
}
