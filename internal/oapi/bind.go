package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// chatBind is /chat/bind: an ISV suite's corp token binds its own micro-app
// (agentid) to a group.
func (a *API) chatBind(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := httpx.Fields{P: p}
	chatID, agentID := f.Str("chatid"), f.Str("agentid")
	if f.Err != nil {
		return nil, f.Err
	}
	if err := a.svc.BindApp(r.Context(), c, chatID, agentID); err != nil {
		return nil, err
	}
	return okBody, nil
}

// chatUnbind is /chat/unbind, the other way round.
func (a *API) chatUnbind(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := httpx.Fields{P: p}
	chatID, agentID := f.Str("chatid"), f.Str("agentid")
	if f.Err != nil {
		return nil, f.Err
	}
	if err := a.svc.UnbindApp(r.Context(), c, chatID, agentID); err != nil {
		return nil, err
	}
	return okBody, nil
}
