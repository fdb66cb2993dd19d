package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// robotSend is a custom robot's /robot/send. The access_token names the
// robot, not an app, so the route is public; the body is kept as sent.
func (a *API) robotSend(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	var in service.WebhookSendInput
	for key, dst := range map[string]*string{"access_token": &in.Token, "timestamp": &in.Timestamp, "sign": &in.Sign} {
		v, err := p.String(key)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	body, err := httpx.ReadBodyOr(r, httpx.MaxBody, ding.ReasonMsgTooLong)
	if err != nil {
		return nil, err
	}
	in.Body = body
	if _, err := a.svc.SendWebhook(r.Context(), in); err != nil {
		return nil, err
	}
	return okBody, nil
}

// robotSendBySession is a robot's reply through a message's sessionWebhook:
// the session names the robot and the group; any access token a client
// adds is ignored, as DingTalk ignores it.
func (a *API) robotSendBySession(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	session, err := p.String("session")
	if err != nil {
		return nil, err
	}
	body, err := httpx.ReadBodyOr(r, httpx.MaxBody, ding.ReasonMsgTooLong)
	if err != nil {
		return nil, err
	}
	if _, err := a.svc.SendBySession(r.Context(), session, body); err != nil {
		return nil, err
	}
	return okBody, nil
}
