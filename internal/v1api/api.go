// Package v1api serves DingTalk's current /v1.0 surface: token in the
// x-acs-dingtalk-access-token header, bare JSON answers, errors as an HTTP
// status with {"code","message","requestid"}.
package v1api

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// TokenHeader carries the access token on every v1.0 call.
const TokenHeader = "x-acs-dingtalk-access-token"

// API is the v1.0 surface over one service.
type API struct {
	svc *service.Service
	log *slog.Logger
	// publicURL is how clients reach this server behind a proxy; "" means
	// as each request addressed it
	publicURL string
}

// SetPublicURL makes links handed to clients (the Stream endpoint) start
// with u instead of the request's own scheme and host.
func (a *API) SetPublicURL(u string) { a.publicURL = strings.TrimRight(u, "/") }

// New returns the v1.0 surface.
func New(svc *service.Service, log *slog.Logger) *API {
	return &API{svc: svc, log: log}
}

type handler func(r *http.Request, p *httpx.Params, c *service.Caller) (any, error)

type route struct {
	endpoint string
	public   bool
}

func (a *API) serve(rt route, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, surface)
		fail := func(err error) { writeError(w, r, a.log, rt.endpoint, err) }
		defer httpx.Recover(a.log, r, fail)
		var c *service.Caller
		if !rt.public {
			var err error
			// only the header counts: v1.0 ignores ?access_token= and Authorization
			if c, err = a.svc.Authenticate(r.Context(), r.Header.Get(TokenHeader)); err != nil {
				fail(err)
				return
			}
			httpx.SetCaller(r, c.App.Key, c.App.CorpID)
			if err = a.svc.Admit(r.Context(), c, rt.endpoint, httpx.ClientIP(r)); err != nil {
				fail(err)
				return
			}
		}
		p, err := httpx.ReadJSON(r)
		if err != nil {
			fail(err)
			return
		}
		out, err := h(r, p, c)
		if err != nil {
			fail(err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeV1, out)
	})
}

// NotFound answers /v1.0 and /v2.0 paths no route knows.
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	writeError(w, r, a.log, "", ding.Errorf(ding.NotFound, ding.ReasonUnknownPath, "no v1.0 route for %s %s", r.Method, r.URL.Path))
}

// surface names this surface in the access log.
const surface = "v1.0"
