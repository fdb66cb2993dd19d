package ding

import "context"

// Limits of DingTalk's group API. Where the sources leave a number open the
// comment says so; these are the only copies of these numbers.
const (
	MaxNameChars     = 20   // name is 1–20 characters, counted as characters
	MaxIDsPerCall    = 40   // useridlist / add / del lists per call
	MaxExtIDsPerCall = 40   // extidlist per call (unconfirmed: assumed equal to the staff list)
	MaxMembers       = 1000 // members per group, external contacts included
	MaxSubAdmins     = 50   // admins per group (unconfirmed: DingTalk publishes no number for plain groups)
)

// Conversation tags.
const (
	TagOrdinary = 0 // 普通群: only for allow-listed apps
	TagInternal = 2 // 企业群: the default
)

// Group status values as chat/get reports them.
const (
	StatusNormal    = 1
	StatusDisbanded = 2
)

// Owner types.
const (
	OwnerEmp = "emp"
	OwnerExt = "ext"
)

// Member kinds: staff are userids, externals are unionIds.
const (
	MemberEmp = "emp"
	MemberExt = "ext"
)

// Member roles, numbered as DingTalk's subadmin calls number them.
const (
	RoleOwner  = 1
	RoleAdmin  = 2
	RoleMember = 3
)

// Options are the six management switches shared by every create/update call.
type Options struct {
	ShowHistoryType     int
	Searchable          int
	ValidationType      int
	MentionAllAuthority int
	ManagementType      int
	ChatBannedType      int
}

// Group is a group conversation (群会话).
type Group struct {
	ChatID             string
	OpenConversationID string
	CorpID             string
	Name               string
	Owner              string
	OwnerType          string
	ConversationTag    int
	Icon               string
	Options            Options
	Status             int
	FriendForbidden    bool // members may not start private chats with each other
	CreatorApp         string
	MemberCount        int
	CreatedAt          int64 // Unix ms
	UpdatedAt          int64 // Unix ms
}

// Member is one member of a group.
type Member struct {
	ID       string // userid for emp, unionId for ext
	Kind     string // MemberEmp or MemberExt
	Role     int
	JoinedAt int64
	Nick     string // the member's nickname in this group
}

// GroupState is what an update sees: the group and all its members.
type GroupState struct {
	Group   Group
	Members []Member
}

// GroupChange is what an update decides; the store applies it atomically
// together with its events.
type GroupChange struct {
	Group  Group    // the whole new row
	Add    []Member // members to insert
	Remove []Member // members to delete (ID and Kind matter)
	Roles  []Member // members whose role or nick changes
	Events []Event
}

// GroupStore keeps groups and their members.
type GroupStore interface {
	// CreateGroup stores g, its members and its events in one transaction.
	// Conflict when the chatid or openConversationId is taken; UnknownUser
	// for the first staff member, in list order, who is no user of g's corp
	// (nothing is then written).
	CreateGroup(ctx context.Context, g *Group, members []Member, events []Event) error
	// Group returns NotFound when the corp has no group chatID.
	Group(ctx context.Context, corpID, chatID string) (*Group, error)
	// GroupByOpenID returns NotFound when the corp has no group with that openConversationId.
	GroupByOpenID(ctx context.Context, corpID, openID string) (*Group, error)
	// Members lists a group's members, staff first, in joining order.
	Members(ctx context.Context, chatID string) ([]Member, error)
	// UpdateGroup runs decide on the current state inside one transaction and
	// applies what it returns. An error from decide changes nothing and is
	// returned as is. NotFound when the corp has no group chatID.
	UpdateGroup(ctx context.Context, corpID, chatID string, decide func(*GroupState) (*GroupChange, error)) (*Group, error)
	// GroupVersion changes with every update of the group's row, members or
	// bound apps (UpdateGroup, UpdateChatApps), never with a message: a
	// reader that keeps them checks it. A change made through this store is
	// seen by its next call; one made through another node sharing the
	// database may be seen up to a bound the store documents (PostgreSQL:
	// when its notice arrives, at most 1 s). NotFound when the corp has no
	// group chatID.
	GroupVersion(ctx context.Context, corpID, chatID string) (int64, error)
}

// UnknownUser is the refusal of a staff id that is no user of the corp.
func UnknownUser(id string) error {
	return Errorf(Invalid, ReasonUnknownUser, "userid %s is not in the corp", id)
}

// FirstUnknownUser is UnknownUser for the first of ids, in list order,
// that found lacks; nil when found holds them all.
func FirstUnknownUser(found map[string]bool, ids []string) error {
	for _, id := range ids {
		if !found[id] {
			return UnknownUser(id)
		}
	}
	return nil
}

// StaffIDs are the ids of members of kind MemberEmp, in list order.
func StaffIDs(members []Member) []string {
	ids := make([]string, 0, len(members))
	for _, m := range members {
		if m.Kind == MemberEmp {
			ids = append(ids, m.ID)
		}
	}
	return ids
}
