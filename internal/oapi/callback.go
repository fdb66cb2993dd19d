package oapi

import (
	"encoding/json"
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// callbackInput reads register_call_back's and update_call_back's body;
// a field of the wrong shape is 71010, as a missing one is.
func callbackInput(p *httpx.Params) (service.CallbackInput, error) {
	var in service.CallbackInput
	var err error
	field := func(e error) error {
		return ding.Errorf(ding.Invalid, ding.ReasonCallbackField, "%s", ding.ErrorMessage(e))
	}
	if in.Tags, err = p.Strings("call_back_tag"); err != nil {
		return in, field(err)
	}
	for _, f := range []struct {
		key string
		dst **string
	}{{"token", &in.Token}, {"aes_key", &in.AESKey}, {"url", &in.URL}} {
		if *f.dst, err = p.OptString(f.key); err != nil {
			return in, field(err)
		}
	}
	return in, nil
}

func (a *API) registerCallback(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	in, err := callbackInput(p)
	if err != nil {
		return nil, err
	}
	if err := a.svc.RegisterCallback(r.Context(), c, in); err != nil {
		return nil, err
	}
	return okBody, nil
}

func (a *API) updateCallback(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	in, err := callbackInput(p)
	if err != nil {
		return nil, err
	}
	if err := a.svc.UpdateCallback(r.Context(), c, in); err != nil {
		return nil, err
	}
	return okBody, nil
}

type getCallbackResponse struct {
	ok
	Tags   []string `json:"call_back_tag"`
	Token  string   `json:"token"`
	AESKey string   `json:"aes_key"`
	URL    string   `json:"url"`
}

func (a *API) getCallback(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	sub, err := a.svc.Callback(r.Context(), c)
	if err != nil {
		return nil, err
	}
	return getCallbackResponse{ok: okBody, Tags: sub.Types, Token: sub.Token, AESKey: sub.AESKey, URL: sub.URL}, nil
}

func (a *API) deleteCallback(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	if err := a.svc.DeleteCallback(r.Context(), c); err != nil {
		return nil, err
	}
	return okBody, nil
}

type failedResponse struct {
	ok
	HasMore    bool             `json:"has_more"`
	FailedList []map[string]any `json:"failed_list"`
}

// getFailedCallbacks lists events given up on as
// {"call_back_tag","event_time","<tag>":{…event…, "corpid"}}.
func (a *API) getFailedCallbacks(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	evs, more, err := a.svc.FailedCallbacks(r.Context(), c)
	if err != nil {
		return nil, err
	}
	list := make([]map[string]any, 0, len(evs))
	for _, e := range evs {
		body := map[string]any{}
		json.Unmarshal([]byte(e.Payload), &body)
		body["corpid"] = e.CorpID
		list = append(list, map[string]any{"call_back_tag": e.Type, "event_time": e.EventTime, e.Type: body})
	}
	return failedResponse{ok: okBody, HasMore: more, FailedList: list}, nil
}
