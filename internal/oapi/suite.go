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
	f := fields{p: p}
	in := service.SuiteCredentials{Key: f.str("suite_key"), Secret: f.str("suite_secret"), Ticket: f.str("suite_ticket")}
	if f.err != nil {
		return nil, f.err
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
	f := fields{p: p}
	corp := f.str("auth_corpid")
	var t *ding.Token
	var err error
	if p.Has("accessKey") || p.Has("timestamp") || p.Has("signature") {
		q := service.SignedQuery{AccessKey: f.str("accessKey"), Timestamp: f.str("timestamp"), SuiteTicket: f.str("suiteTicket"), Signature: f.str("signature")}
		if f.err != nil {
			return nil, f.err
		}
		t, err = a.svc.IssueCorpTokenSigned(r.Context(), q, corp)
	} else {
		suiteToken, code := f.str("suite_access_token"), f.str("permanent_code")
		if f.err != nil {
			return nil, f.err
		}
		t, err = a.svc.IssueCorpTokenBySuiteToken(r.Context(), suiteToken, corp, code)
	}
	if err != nil {
		return nil, err
	}
	return tokenResponse{Errcode: 0, AccessToken: t.Value, Errmsg: "ok", ExpiresIn: ding.TokenTTL}, nil
}
