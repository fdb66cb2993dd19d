package ding

import (
	"context"
	"net/netip"
)

// Corp is an organisation (企业). Its ID looks like DingTalk's: "ding" + hex.
type Corp struct {
	ID        string
	Name      string
	CreatedAt int64 // Unix ms
	// MonthlyQuota emulates the standard edition's monthly call quota
	// (90020 / ApiCountLimitForOrg); 0 = off.
	MonthlyQuota int
}

// Limits are DingTalk's per-app platform limits, emulated when set so that
// integrations can test their retry and backoff; zero values are off.
type Limits struct {
	QPS         int      `json:"qps,omitempty"`         // calls per second per API (90018 / QpsLimitForAppkeyAndApi)
	PerMinute   int      `json:"perMinute,omitempty"`   // calls per minute per API (90006 / QpmLimitForAppkeyAndApi)
	IPAllowList []string `json:"ipAllowList,omitempty"` // IPs or CIDRs (60020 / IpNotInWhiteList)
}

// Validate is the one check of an app's limits, wherever they are declared.
// Its messages are in the admin API's golden answers.
func (l Limits) Validate() error {
	if l.QPS < 0 || l.PerMinute < 0 {
		return Errorf(Invalid, ReasonInvalidParam, "limits must not be negative")
	}
	for _, e := range l.IPAllowList {
		if _, err := netip.ParsePrefix(e); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(e); err != nil {
			return Errorf(Invalid, ReasonInvalidParam, "%q is neither an IP nor a CIDR", e)
		}
	}
	return nil
}

// ValidateQuota is the one check of a corp's monthly quota.
func ValidateQuota(quota int) error {
	if quota < 0 {
		return Errorf(Invalid, ReasonInvalidParam, "quota must not be negative")
	}
	return nil
}

// Scopes an app can hold; DingTalk names them in the developer console.
const (
	ScopeChatManage   = "qyapi_chat_manage"
	ScopeChatRead     = "qyapi_chat_read"
	ScopeChatBaseRead = "qyapi_chat_base_read"
	ScopeRobotSendMsg = "qyapi_robot_sendmsg"
	ScopeContactRead  = "qyapi_get_member"
)

// DefaultScopes is what an app holds when nothing else is declared.
var DefaultScopes = []string{ScopeChatManage, ScopeChatRead, ScopeChatBaseRead, ScopeRobotSendMsg, ScopeContactRead}

// App is an internal app of a corp: it owns a key and secret and mints tokens.
type App struct {
	Key     string // AppKey / Client ID
	CorpID  string
	Secret  string
	AgentID int64
	Name    string
	Scopes  []string
	// VisibleAll is true when the app is visible to the whole corp; otherwise
	// only the users in VisibleUsers are within its visibility.
	VisibleAll   bool
	VisibleUsers []string
	// OrdinaryGroups is DingTalk's allow-list for creating conversationTag 0 groups.
	OrdinaryGroups bool
	Limits         Limits
	CreatedAt      int64
	// SuiteKey is set when the app is an ISV suite's app in the corp (see
	// SuiteAuth.App); only such apps may call chat/bind.
	SuiteKey string
}

// Visible reports whether userID is within the app's visibility.
func (a *App) Visible(userID string) bool {
	if a.VisibleAll {
		return true
	}
	for _, u := range a.VisibleUsers {
		if u == userID {
			return true
		}
	}
	return false
}

// HasScope reports whether the app holds scope.
func (a *App) HasScope(scope string) bool {
	for _, s := range a.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// User is a staff member of a corp.
type User struct {
	CorpID  string
	UserID  string
	UnionID string
	Name    string
	Mobile  string
	Title   string
	JobNo   string
	Email   string
	Active  bool
	Admin   bool
	DeptIDs []int64
	Created int64
}

// ExtContact is an external contact known to a corp, identified by unionId.
type ExtContact struct {
	CorpID  string
	UnionID string
	Name    string
	Mobile  string
}

// Org is a whole organisation as declared in an org file or the demo.
type Org struct {
	Corp      Corp
	Apps      []App
	Users     []User
	Externals []ExtContact
	// MemberTokens are fixed member-API tokens declared for users.
	MemberTokens []MemberToken
	// Groups are groups declared with the org; the service creates the
	// missing ones and leaves existing ones as they are.
	Groups []OrgGroup
	// Robots are the corp's org robots.
	Robots []Robot
	// Suites are ISV suites declared with the corp. A suite belongs to no
	// corp: declaring it with several is harmless.
	Suites []Suite
	// SuiteAuths are the corp's authorisations of suites.
	SuiteAuths []SuiteAuth
	// Pushes are HTTP pushes declared for the corp's apps and suites.
	Pushes []OrgPush
}

// OrgPush is an app's (Kind SubAppPush) or a suite's (SubSuitePush) HTTP
// event push declared in an org file.
type OrgPush struct {
	Kind   string
	Key    string
	URL    string
	Token  string
	AESKey string
	Types  []string
}

// OrgStore keeps corps, apps, users and external contacts.
type OrgStore interface {
	// ApplyOrg upserts the corp and everything declared with it, in one transaction.
	ApplyOrg(ctx context.Context, org *Org) error
	// CountCorps returns how many corps exist.
	CountCorps(ctx context.Context) (int, error)
	// Corps lists corps, oldest first.
	Corps(ctx context.Context) ([]Corp, error)
	// Corp returns NotFound when id is unknown.
	Corp(ctx context.Context, id string) (*Corp, error)
	// App returns NotFound when key is unknown.
	App(ctx context.Context, key string) (*App, error)
	// SetAppLimits replaces an app's limits; NotFound for an unknown key.
	SetAppLimits(ctx context.Context, key string, l Limits) error
	// SetMonthlyQuota sets a corp's monthly quota; NotFound for an unknown corp.
	SetMonthlyQuota(ctx context.Context, corpID string, quota int) error
	// AppsByCorp lists a corp's apps ordered by key.
	AppsByCorp(ctx context.Context, corpID string) ([]App, error)
	// User returns NotFound when the user is not in the corp.
	User(ctx context.Context, corpID, userID string) (*User, error)
	// UserByMobile returns NotFound when no user of the corp has the mobile.
	UserByMobile(ctx context.Context, corpID, mobile string) (*User, error)
	// UserByUnionID returns NotFound when no user of the corp has the unionId.
	UserByUnionID(ctx context.Context, corpID, unionID string) (*User, error)
	// UsersByCorp lists a corp's users ordered by userid, at most limit.
	UsersByCorp(ctx context.Context, corpID string, limit int) ([]User, error)
	// ExistingUsers returns the subset of ids that are users of the corp.
	ExistingUsers(ctx context.Context, corpID string, ids []string) (map[string]bool, error)
	// ExistingExternals returns the subset of unionIds that are external contacts of the corp.
	ExistingExternals(ctx context.Context, corpID string, unionIDs []string) (map[string]bool, error)
}

// MemberToken lets a staff member use DingChat's own member API.
type MemberToken struct {
	Value     string // never stored: stores keep and find Hash
	Hash      string
	CorpID    string
	UserID    string
	CreatedAt int64
	ExpiresAt int64 // Unix ms; 0 = never (tokens declared in an org file)
}

// MemberTokenStore keeps member tokens.
type MemberTokenStore interface {
	// SaveMemberToken stores t by its Hash; saving the same hash again
	// updates its owner and expiry.
	SaveMemberToken(ctx context.Context, t MemberToken) error
	// MemberToken returns NotFound when no member token has hash.
	MemberToken(ctx context.Context, hash string) (*MemberToken, error)
	// RevokeMemberTokens deletes the token with hash, or when hash is ""
	// every token of the user; it returns how many it deleted.
	RevokeMemberTokens(ctx context.Context, corpID, userID, hash string) (int, error)
	// Setting returns the stored value of key, storing def first when the
	// key is unset; it lets one secret survive restarts.
	Setting(ctx context.Context, key, def string) (string, error)
}

// OrgGroup is a group declared in an org file, so that a test suite gets a
// fixed chatid and fixed custom-robot tokens.
type OrgGroup struct {
	ChatID   string // "" = derived from the corp and the name
	Name     string
	Owner    string
	Members  []string
	Robots   []string  // robot codes put in the group
	Webhooks []Webhook // custom robots; Token and Name are required
}
