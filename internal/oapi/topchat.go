package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// topSubAdmin is /topapi/chat/subadmin/update: userids may be one id, a
// comma-separated list or a JSON list.
func (a *API) topSubAdmin(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	chatID, ids, role := f.Str("chatid"), f.List("userids"), f.Int("role")
	if f.Err != nil {
		return nil, f.Err
	}
	if chatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if role == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRole, "role is required")
	}
	if err := a.svc.SetSubAdmins(r.Context(), c, service.GroupRef{ChatID: chatID}, ids, *role); err != nil {
		return nil, err
	}
	return nil, nil
}

func (a *API) topFriendSwitch(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	chatID, err := p.String("chatid")
	if err != nil {
		return nil, err
	}
	prohibit, err := p.Bool("is_prohibit")
	if err != nil {
		return nil, err
	}
	return nil, a.svc.SetFriendSwitch(r.Context(), c, chatID, prohibit)
}

// baseURL is where this server was reached, for links it hands out.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) topQRCode(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	chatID, userID := f.Str("chatid"), f.Str("userid")
	if f.Err != nil {
		return nil, f.Err
	}
	return a.svc.JoinLink(r.Context(), c, chatID, userID, baseURL(r))
}

func (a *API) topGroupNick(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	chatID, userID, nick := f.Str("chatid"), f.Str("userid"), f.OptStr("group_nick")
	if f.Err != nil {
		return nil, f.Err
	}
	if nick == nil {
		// required: without it the call would clear the nickname
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "group_nick is required")
	}
	return nil, a.svc.SetGroupNick(r.Context(), c, chatID, userID, *nick)
}
