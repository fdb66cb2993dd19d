package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

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

// managementOptions reads the nested managementOptions object.
func managementOptions(p *httpx.Params) (service.OptionsPatch, error) {
	var o service.OptionsPatch
	m, err := p.Object("managementOptions")
	if err != nil || m == nil {
		return o, err
	}
	f := &fields{p: m}
	o.ShowHistoryType = f.int("showHistoryType")
	o.Searchable = f.int("searchable")
	o.ValidationType = f.int("validationType")
	o.MentionAllAuthority = f.int("mentionAllAuthority")
	o.ManagementType = f.int("managementType")
	o.ChatBannedType = f.int("chatBannedType")
	return o, f.err
}

type createResponse struct {
	ConversationTag    int    `json:"conversationTag"`
	OpenConversationID string `json:"openConversationId"`
	ChatID             string `json:"chatid"`
}

func (a *API) groupCreate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &fields{p: p}
	in := service.CreateGroupInput{
		Name: f.str("name"), Owner: f.str("owner"), OwnerType: f.str("ownerType"),
		UserIDs: f.list("useridlist"), ExtIDs: f.list("extidlist"),
		ConversationTag: f.int("conversationTag"), Icon: f.str("icon"),
	}
	if f.err != nil {
		return nil, f.err
	}
	opts, err := managementOptions(p)
	if err != nil {
		return nil, err
	}
	in.Options = opts
	g, err := a.svc.CreateGroup(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return createResponse{ConversationTag: g.ConversationTag, OpenConversationID: g.OpenConversationID, ChatID: g.ChatID}, nil
}

type successBool struct {
	Success bool `json:"success"`
}

func (a *API) groupUpdate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
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
	opts, err := managementOptions(p)
	if err != nil {
		return nil, err
	}
	in.Options = opts
	if _, err := a.svc.UpdateGroup(r.Context(), c, in); err != nil {
		return nil, err
	}
	return successBool{Success: true}, nil
}

// successString: this one endpoint declares success as a string in the SDK.
type successString struct {
	Success string `json:"success"`
}

func (a *API) subAdministrators(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &fields{p: p}
	open := f.str("openConversationId")
	ids := f.list("userIds")
	role := f.int("role")
	if f.err != nil {
		return nil, f.err
	}
	if role == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRole, "role is required")
	}
	if err := a.svc.SetSubAdmins(r.Context(), c, service.GroupRef{OpenID: open}, ids, *role); err != nil {
		return nil, err
	}
	return successString{Success: "true"}, nil
}

type openIDResponse struct {
	OpenConversationID string `json:"openConversationId"`
}

func (a *API) convertChatID(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	open, err := a.svc.ConvertChatID(r.Context(), c, r.PathValue("chatId"))
	if err != nil {
		return nil, err
	}
	return openIDResponse{OpenConversationID: open}, nil
}
