package dingchatapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
)

// setAppLimits switches an app's emulated platform limits: integration
// developers turn them on to test their retry and backoff code.
func (a *API) setAppLimits(r *http.Request) (any, error) {
	var l ding.Limits
	if err := decode(r, &l); err != nil {
		return nil, err
	}
	if err := a.svc.SetAppLimits(r.Context(), r.PathValue("appKey"), l); err != nil {
		return nil, err
	}
	return l, nil
}

type quotaRequest struct {
	MonthlyQuota int `json:"monthlyQuota"`
}

func (a *API) setMonthlyQuota(r *http.Request) (any, error) {
	var q quotaRequest
	if err := decode(r, &q); err != nil {
		return nil, err
	}
	if err := a.svc.SetMonthlyQuota(r.Context(), r.PathValue("corpid"), q.MonthlyQuota); err != nil {
		return nil, err
	}
	return q, nil
}
