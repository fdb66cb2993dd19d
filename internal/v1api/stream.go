package v1api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// streamPath is where the Stream gateway accepts WebSockets (stream.Path).
const streamPath = "/connect"

type openResponse struct {
	Endpoint string `json:"endpoint"`
	Ticket   string `json:"ticket"`
}

// openConnection is /v1.0/gateway/connections/open. The endpoint reaches
// this server as the client addressed it, or at the public URL; clients
// append "?ticket=" to it verbatim, so it carries no query.
func (a *API) openConnection(r *http.Request, p *httpx.Params, _ *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	in := service.StreamOpenInput{ClientID: f.Str("clientId"), ClientSecret: f.Str("clientSecret"), UA: f.Str("ua"), LocalIP: f.Str("localIp")}
	if f.Err != nil {
		return nil, f.Err
	}
	if raw := p.Raw("subscriptions"); raw != nil {
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &in.Subscriptions); err != nil {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "subscriptions must be a list of {type, topic}")
		}
	}
	if raw := p.Raw("extras"); raw != nil {
		in.Extras, _ = json.Marshal(raw)
	}
	t, err := a.svc.OpenStream(r.Context(), in)
	if err != nil {
		return nil, err
	}
	base := a.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	ws := "ws" + strings.TrimPrefix(base, "http")
	return openResponse{Endpoint: ws + streamPath, Ticket: t.Ticket}, nil
}
