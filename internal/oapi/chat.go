package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// options reads the six management switches, each optional.
func options(p *httpx.Params) (service.OptionsPatch, error) {
	var o service.OptionsPatch
	for _, f := range []struct {
		key string
		dst **int
	}{
		{"showHistoryType", &o.ShowHistoryType},
		{"searchable", &o.Searchable},
		{"validationType", &o.ValidationType},
		{"mentionAllAuthority", &o.MentionAllAuthority},
		{"managementType", &o.ManagementType},
		{"chatBannedType", &o.ChatBannedType},
	} {
		v, err := p.Int(f.key)
		if err != nil {
			return o, err
		}
		*f.dst = v
	}
	return o, nil
}

// fields reads several parameters, stopping at the first bad one.
type fields struct {
	p   *httpx.Params
	err error
}

func (f *fields) str(key string) string {
	if f.err != nil {
		return ""
	}
	s, err := f.p.String(key)
	f.err = err
	return s
}

func (f *fields) optStr(key string) *string {
	if f.err != nil {
		return nil
	}
	s, err := f.p.OptString(key)
	f.err = err
	return s
}

func (f *fields) list(key string) []string {
	if f.err != nil {
		return nil
	}
	l, err := f.p.Strings(key)
	f.err = err
	return l
}

func (f *fields) int(key string) *int {
	if f.err != nil {
		return nil
	}
	i, err := f.p.Int(key)
	f.err = err
	return i
}

type createResponse struct {
	ok
	ChatID             string `json:"chatid"`
	OpenConversationID string `json:"openConversationId"`
	ConversationTag    int    `json:"conversationTag"`
}

func (a *API) chatCreate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &fields{p: p}
	in := service.CreateGroupInput{
		Name: f.str("name"), Owner: f.str("owner"), OwnerType: f.str("ownerType"),
		UserIDs: f.list("useridlist"), ExtIDs: f.list("extidlist"),
		ConversationTag: f.int("conversationTag"), Icon: f.str("icon"),
	}
	if f.err != nil {
		return nil, f.err
	}
	opts, err := options(p)
	if err != nil {
		return nil, err
	}
	in.Options = opts
	g, err := a.svc.CreateGroup(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return createResponse{ok: okBody, ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, ConversationTag: g.ConversationTag}, nil
}

func (a *API) chatUpdate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &fields{p: p}
	in := service.UpdateGroupInput{
		ChatID: f.str("chatid"), Name: f.optStr("name"), Owner: f.optStr("owner"), OwnerType: f.optStr("ownerType"),
		AddUserIDs: f.list("add_useridlist"), DelUserIDs: f.list("del_useridlist"),
		AddExtIDs: f.list("add_extidlist"), DelExtIDs: f.list("del_extidlist"),
		Icon: f.optStr("icon"),
	}
	if f.err != nil {
		return nil, f.err
	}
	opts, err := options(p)
	if err != nil {
		return nil, err
	}
	if opts.ChatBannedType == nil {
		// isBan is chat/update's older spelling of chatBannedType
		ban, err := p.Bool("isBan")
		if err != nil {
			return nil, err
		}
		if ban != nil {
			v := 0
			if *ban {
				v = 1
			}
			opts.ChatBannedType = &v
		}
	}
	in.Options = opts
	if _, err := a.svc.UpdateGroup(r.Context(), c, in); err != nil {
		return nil, err
	}
	return okBody, nil
}

// chatInfo is chat/get's chat_info.
type chatInfo struct {
	Name                string   `json:"name"`
	Owner               string   `json:"owner"`
	UserIDList          []string `json:"useridlist"`
	AgentIDList         []string `json:"agentidlist"`
	ExtIDList           []string `json:"extidlist"`
	ConversationTag     int      `json:"conversationTag"`
	ChatBannedType      int      `json:"chatBannedType"`
	Searchable          int      `json:"searchable"`
	ValidationType      int      `json:"validationType"`
	MentionAllAuthority int      `json:"mentionAllAuthority"`
	ManagementType      int      `json:"managementType"`
	ShowHistoryType     int      `json:"showHistoryType"`
	Icon                string   `json:"icon"`
	Status              int      `json:"status"`
	ChatID              string   `json:"chatid"`
}

type getResponse struct {
	ok
	ChatInfo chatInfo `json:"chat_info"`
}

func (a *API) chatGet(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := p.String("chatid")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	v, err := a.svc.GetGroup(r.Context(), c, service.GroupRef{ChatID: id})
	if err != nil {
		return nil, err
	}
	g, o := v.Group, v.Group.Options
	return getResponse{ok: okBody, ChatInfo: chatInfo{
		Name: g.Name, Owner: g.Owner, UserIDList: v.UserIDs, AgentIDList: v.AgentIDs, ExtIDList: v.ExtIDs,
		ConversationTag: g.ConversationTag, ChatBannedType: o.ChatBannedType, Searchable: o.Searchable,
		ValidationType: o.ValidationType, MentionAllAuthority: o.MentionAllAuthority, ManagementType: o.ManagementType,
		ShowHistoryType: o.ShowHistoryType, Icon: g.Icon, Status: g.Status, ChatID: g.ChatID,
	}}, nil
}
