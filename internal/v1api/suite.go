package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

func suiteCredentials(p *httpx.Params) (service.SuiteCredentials, error) {
	var in service.SuiteCredentials
	for _, f := range []struct {
		key string
		dst *string
	}{{"suiteKey", &in.Key}, {"suiteSecret", &in.Secret}, {"suiteTicket", &in.Ticket}} {
		v, err := p.String(f.key)
		if err != nil {
			return in, err
		}
		*f.dst = v
	}
	return in, nil
}

// suiteAccessToken is POST /v1.0/oauth2/suiteAccessToken.
func (a *API) suiteAccessToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	in, err := suiteCredentials(p)
	if err != nil {
		return nil, err
	}
	t, err := a.svc.IssueSuiteToken(r.Context(), in)
	if err != nil {
		return nil, err
	}
	return tokenResponse{AccessToken: t.Value, ExpireIn: ding.TokenTTL}, nil
}

// corpAccessToken is POST /v1.0/oauth2/corpAccessToken: a new token for the
// suite's app in authCorpId at every call.
func (a *API) corpAccessToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	in, err := suiteCredentials(p)
	if err != nil {
		return nil, err
	}
	corp, err := p.String("authCorpId")
	if err != nil {
		return nil, err
	}
	t, err := a.svc.IssueCorpToken(r.Context(), in, corp)
	if err != nil {
		return nil, err
	}
	return tokenResponse{AccessToken: t.Value, ExpireIn: ding.TokenTTL}, nil
}
