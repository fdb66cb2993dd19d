package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type suiteTokenResponse struct {
	Errcode          int    `json:"errcode"`
	Errmsg           string `json:"errmsg"`
	SuiteAccessToken string `json:"suite_access_token"`
	ExpiresIn        int    `json:"expires_in"`
}

// getSuiteToken is /service/get_suite_token: suite_key, suite_secret and
// suite_ticket to a suite access token.
func (a *API) getSuiteToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	f := httpx.Fields{P: p}
	in := service.SuiteCredentials{Key: f.Str("suite_key"), Secret: f.Str("suite_secret"), Ticket: f.Str("suite_ticket")}
	if f.Err != nil {
		return nil, f.Err
	}
	t, err := a.svc.IssueSuiteToken(r.Context(), in)
	if err != nil {
		return nil, err
	}
	return suiteTokenResponse{Errcode: 0, Errmsg: "ok", SuiteAccessToken: t.Value, ExpiresIn: ding.TokenTTL}, nil
}

// getCorpToken is /service/get_corp_token in both forms: signed (accessKey,
// timestamp, suiteTicket and signature on the query) when any of the signed
// parameters is sent, otherwise the 2016 form with suite_access_token on the
// query and permanent_code in the body. Either way auth_corpid names the corp.
func (a *API) getCorpToken(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	f := httpx.Fields{P: p}
	corp := f.Str("auth_corpid")
	var t *ding.Token
	var err error
	if p.Has("accessKey") || p.Has("timestamp") || p.Has("signature") {
		q := service.SignedQuery{AccessKey: f.Str("accessKey"), Timestamp: f.Str("timestamp"), SuiteTicket: f.Str("suiteTicket"), Signature: f.Str("signature")}
		if f.Err != nil {
			return nil, f.Err
		}
		t, err = a.svc.IssueCorpTokenSigned(r.Context(), q, corp)
	} else {
		suiteToken, code := f.Str("suite_access_token"), f.Str("permanent_code")
		if f.Err != nil {
			return nil, f.Err
		}
		t, err = a.svc.IssueCorpTokenBySuiteToken(r.Context(), suiteToken, corp, code)
	}
	if err != nil {
		return nil, err
	}
	return tokenResponse{Errcode: 0, AccessToken: t.Value, Errmsg: "ok", ExpiresIn: ding.TokenTTL}, nil
}
