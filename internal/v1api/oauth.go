package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type tokenResponse struct {
	AccessToken string `json:"accessToken"`
	ExpireIn    int    `json:"expireIn"`
}

func (a *API) accessToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	key, err := p.String("appKey")
	if err != nil {
		return nil, err
	}
	secret, err := p.String("appSecret")
	if err != nil {
		return nil, err
	}
	t, err := a.svc.IssueToken(r.Context(), key, secret)
	if err != nil {
		return nil, err
	}
	return tokenResponse{AccessToken: t.Value, ExpireIn: ding.TokenTTL}, nil
}
