package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type tokenResponse struct {
	Errcode     int    `json:"errcode"`
	AccessToken string `json:"access_token"`
	Errmsg      string `json:"errmsg"`
	ExpiresIn   int    `json:"expires_in"`
}

func (a *API) getToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	key, err := p.String("appkey")
	if err != nil {
		return nil, err
	}
	var t *ding.Token
	if key != "" {
		secret, err := p.String("appsecret")
		if err != nil {
			return nil, err
		}
		t, err = a.svc.IssueToken(r.Context(), key, secret)
		if err != nil {
			return nil, err
		}
	} else {
		corp, err := p.String("corpid")
		if err != nil {
			return nil, err
		}
		secret, err := p.String("corpsecret")
		if err != nil {
			return nil, err
		}
		if t, err = a.svc.IssueTokenForCorp(r.Context(), corp, secret); err != nil {
			return nil, err
		}
	}
	return tokenResponse{Errcode: 0, AccessToken: t.Value, Errmsg: "ok", ExpiresIn: ding.TokenTTL}, nil
}
