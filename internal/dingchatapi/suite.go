package dingchatapi

import "net/http"

type suiteTicketResponse struct {
	SuiteKey    string `json:"suiteKey"`
	SuiteTicket string `json:"suiteTicket"`
}

// suiteTicket shows a suite's current ticket, minting one when the org file
// declared none: DingTalk would push it to the suite's callback.
func (a *API) suiteTicket(r *http.Request) (any, error) {
	key := r.PathValue("suiteKey")
	t, err := a.svc.SuiteTicket(r.Context(), key)
	if err != nil {
		return nil, err
	}
	return suiteTicketResponse{SuiteKey: key, SuiteTicket: t}, nil
}
