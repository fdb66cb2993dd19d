package dingchatapi

import (
	"net/http"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/service"
)

// What the console reads through the admin API: the organisation, a
// corp's groups with their members and timelines, and Stream connections.

// consoleUsers bounds the users listed per corp.
const consoleUsers = 500

type appJSON struct {
	AppKey       string      `json:"appKey"`
	Name         string      `json:"name"`
	AgentID      int64       `json:"agentId"`
	SecretHint   string      `json:"secretHint"` // the secret itself only through /secret
	Scopes       []string    `json:"scopes"`
	VisibleAll   bool        `json:"visibleAll"`
	Limits       ding.Limits `json:"limits"`
	SuiteKey     string      `json:"suiteKey,omitempty"`
	OrdinaryChat bool        `json:"ordinaryGroups"`
}

type userJSON struct {
	UserID  string `json:"userid"`
	UnionID string `json:"unionId"`
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Admin   bool   `json:"admin"`
	Active  bool   `json:"active"`
}

type corpJSON struct {
	CorpID       string      `json:"corpId"`
	Name         string      `json:"name"`
	MonthlyQuota int         `json:"monthlyQuota"`
	Apps         []appJSON   `json:"apps"`
	Users        []userJSON  `json:"users"`
	Robots       []robotJSON `json:"robots"`
	Suites       []string    `json:"suites"`
}

type orgResponse struct {
	Corps []corpJSON `json:"corps"`
}

// hint shows enough of a secret to tell two apart.
func hint(s string) string {
	if len(s) <= 8 {
		return "••••"
	}
	return s[:4] + "••••"
}

// org is GET /_dingchat/admin/org.
func (a *API) org(r *http.Request) (any, error) {
	sums, err := a.svc.Summarize(r.Context(), consoleUsers)
	if err != nil {
		return nil, err
	}
	out := orgResponse{Corps: make([]corpJSON, 0, len(sums))}
	for _, s := range sums {
		c := corpJSON{CorpID: s.Corp.ID, Name: s.Corp.Name, MonthlyQuota: s.Corp.MonthlyQuota,
			Apps: []appJSON{}, Users: []userJSON{}, Suites: []string{}}
		seen := map[string]bool{}
		for _, ap := range s.Apps {
			scopes := ap.Scopes
			if scopes == nil {
				scopes = []string{}
			}
			c.Apps = append(c.Apps, appJSON{AppKey: ap.Key, Name: ap.Name, AgentID: ap.AgentID, SecretHint: hint(ap.Secret),
				Scopes: scopes, VisibleAll: ap.VisibleAll, Limits: ap.Limits, SuiteKey: ap.SuiteKey, OrdinaryChat: ap.OrdinaryGroups})
			if ap.SuiteKey != "" && !seen[ap.SuiteKey] {
				seen[ap.SuiteKey] = true
				c.Suites = append(c.Suites, ap.SuiteKey)
			}
		}
		for _, u := range s.Users {
			c.Users = append(c.Users, userJSON{UserID: u.UserID, UnionID: u.UnionID, Name: u.Name, Title: u.Title, Admin: u.Admin, Active: u.Active})
		}
		rs, err := a.svc.Robots(r.Context(), s.Corp.ID)
		if err != nil {
			return nil, err
		}
		c.Robots = robotsView(rs).Robots
		out.Corps = append(out.Corps, c)
	}
	return out, nil
}

type secretResponse struct {
	AppKey    string `json:"appKey"`
	AppSecret string `json:"appSecret"`
}

// appSecret is GET /_dingchat/admin/apps/{key}/secret: the one place the
// console reads a secret, when the operator asks to see it.
func (a *API) appSecret(r *http.Request) (any, error) {
	s, err := a.svc.AppSecret(r.Context(), r.PathValue("key"))
	if err != nil {
		return nil, err
	}
	return secretResponse{AppKey: r.PathValue("key"), AppSecret: s}, nil
}

type corpGroupsResponse struct {
	Groups     []groupJSON `json:"groups"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// groupListQuery reads ?cursor=&q=&limit= of a group listing.
func groupListQuery(r *http.Request) (service.GroupListQuery, error) {
	limit, err := queryInt(r, "limit", ding.ReasonBadSize)
	if err != nil {
		return service.GroupListQuery{}, err
	}
	q := r.URL.Query()
	return service.GroupListQuery{Cursor: q.Get("cursor"), Search: q.Get("q"), Limit: int(limit)}, nil
}

// corpGroups is GET /_dingchat/admin/corps/{corpid}/groups?cursor=&q=&limit=.
func (a *API) corpGroups(r *http.Request) (any, error) {
	q, err := groupListQuery(r)
	if err != nil {
		return nil, err
	}
	gs, next, err := a.svc.CorpGroups(r.Context(), r.PathValue("corpid"), q)
	if err != nil {
		return nil, err
	}
	out := corpGroupsResponse{Groups: make([]groupJSON, 0, len(gs)), NextCursor: next}
	for _, cg := range gs {
		g := cg.Group
		out.Groups = append(out.Groups, groupJSON{ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, Name: g.Name,
			Owner: g.Owner, ConversationTag: g.ConversationTag, Status: g.Status, MemberCount: g.MemberCount, LastSeq: cg.LastSeq})
	}
	return out, nil
}

type memberJSON struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Role     string `json:"role"`
	Nick     string `json:"nick,omitempty"`
	JoinedAt int64  `json:"joinedAt"`
}

type groupDetailResponse struct {
	ChatID             string       `json:"chatid"`
	OpenConversationID string       `json:"openConversationId"`
	CorpID             string       `json:"corpId"`
	Name               string       `json:"name"`
	Owner              string       `json:"owner"`
	OwnerType          string       `json:"ownerType"`
	ConversationTag    int          `json:"conversationTag"`
	Status             int          `json:"status"`
	Icon               string       `json:"icon,omitempty"`
	Options            ding.Options `json:"settings"`
	FriendForbidden    bool         `json:"friendForbidden"`
	CreatorApp         string       `json:"creatorApp"`
	CreatedAt          int64        `json:"createdAt"`
	UpdatedAt          int64        `json:"updatedAt"`
	Members            []memberJSON `json:"members"`
}

var roleNames = map[int]string{ding.RoleOwner: "owner", ding.RoleAdmin: "admin", ding.RoleMember: "member"}

// corpGroup is GET /_dingchat/admin/corps/{corpid}/groups/{chatid}.
func (a *API) corpGroup(r *http.Request) (any, error) {
	g, ms, err := a.svc.CorpGroupDetail(r.Context(), r.PathValue("corpid"), r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	out := groupDetailResponse{ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, CorpID: g.CorpID, Name: g.Name,
		Owner: g.Owner, OwnerType: g.OwnerType, ConversationTag: g.ConversationTag, Status: g.Status, Icon: g.Icon,
		Options: g.Options, FriendForbidden: g.FriendForbidden, CreatorApp: g.CreatorApp, CreatedAt: g.CreatedAt,
		UpdatedAt: g.UpdatedAt, Members: make([]memberJSON, 0, len(ms))}
	for _, m := range ms {
		role := roleNames[m.Role]
		if role == "" {
			role = strconv.Itoa(m.Role)
		}
		out.Members = append(out.Members, memberJSON{ID: m.ID, Kind: m.Kind, Role: role, Nick: m.Nick, JoinedAt: m.JoinedAt})
	}
	return out, nil
}

// corpGroupMessages pages a group's timeline for the operator, as the
// member API does.
func (a *API) corpGroupMessages(r *http.Request) (any, error) {
	q, err := pageQuery(r)
	if err != nil {
		return nil, err
	}
	ms, more, err := a.svc.CorpGroupMessages(r.Context(), r.PathValue("corpid"), r.PathValue("chatid"), q)
	if err != nil {
		return nil, err
	}
	return messagesPage(ms, more), nil
}

type directoryMember struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	Role string `json:"role"`
	Nick string `json:"nick,omitempty"`
}

type directoryResponse struct {
	Members []directoryMember `json:"members"`
	Robots  []robotJSON       `json:"robots"`
}

func directoryView(d *service.MemberDirectory) directoryResponse {
	out := directoryResponse{Members: make([]directoryMember, 0, len(d.Members)), Robots: robotsView(d.Robots).Robots}
	for _, m := range d.Members {
		out.Members = append(out.Members, directoryMember{ID: m.ID, Kind: m.Kind, Name: d.Names[m.ID], Role: roleNames[m.Role], Nick: m.Nick})
	}
	return out
}

// memberDirectory is GET /_dingchat/member/groups/{chatid}/members: whom a
// member can see and mention.
func (a *API) memberDirectory(r *http.Request, mc *service.MemberCaller) (any, error) {
	d, err := a.svc.GroupDirectory(r.Context(), mc, r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	return directoryView(d), nil
}

// corpDirectory is GET /_dingchat/admin/corps/{corpid}/groups/{chatid}/members.
func (a *API) corpDirectory(r *http.Request) (any, error) {
	d, err := a.svc.CorpGroupDirectory(r.Context(), r.PathValue("corpid"), r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	return directoryView(d), nil
}
