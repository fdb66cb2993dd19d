package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// managementOptions reads the nested managementOptions object.
func managementOptions(p *httpx.Params) (service.OptionsPatch, error) {
	var o service.OptionsPatch
	m, err := p.Object("managementOptions")
	if err != nil || m == nil {
		return o, err
	}
	f := &httpx.Fields{P: m}
	o.ShowHistoryType = f.Int("showHistoryType")
	o.Searchable = f.Int("searchable")
	o.ValidationType = f.Int("validationType")
	o.MentionAllAuthority = f.Int("mentionAllAuthority")
	o.ManagementType = f.Int("managementType")
	o.ChatBannedType = f.Int("chatBannedType")
	return o, f.Err
}

type createResponse struct {
	ConversationTag    int    `json:"conversationTag"`
	OpenConversationID string `json:"openConversationId"`
	ChatID             string `json:"chatid"`
}

func (a *API) groupCreate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	in := service.CreateGroupInput{
		Name: f.Str("name"), Owner: f.Str("owner"), OwnerType: f.Str("ownerType"),
		UserIDs: f.List("useridlist"), ExtIDs: f.List("extidlist"),
		ConversationTag: f.Int("conversationTag"), Icon: f.Str("icon"),
	}
	if f.Err != nil {
		return nil, f.Err
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
	f := &httpx.Fields{P: p}
	in := service.UpdateGroupInput{
		ChatID: f.Str("chatid"), Name: f.OptStr("name"), Owner: f.OptStr("owner"), OwnerType: f.OptStr("ownerType"),
		AddUserIDs: f.List("add_useridlist"), DelUserIDs: f.List("del_useridlist"),
		AddExtIDs: f.List("add_extidlist"), DelExtIDs: f.List("del_extidlist"),
		Icon: f.OptStr("icon"),
	}
	if f.Err != nil {
		return nil, f.Err
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
	f := &httpx.Fields{P: p}
	open := f.Str("openConversationId")
	ids := f.List("userIds")
	role := f.Int("role")
	if f.Err != nil {
		return nil, f.Err
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
