package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/groupform"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type createResponse struct {
	ConversationTag    int    `json:"conversationTag"`
	OpenConversationID string `json:"openConversationId"`
	ChatID             string `json:"chatid"`
}

func (a *API) groupCreate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	in, err := groupform.Create(p, groupform.Nested)
	if err != nil {
		return nil, err
	}
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
	in, err := groupform.Update(p, groupform.Nested)
	if err != nil {
		return nil, err
	}
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
