// Package oapi serves DingTalk's legacy oapi surface: /gettoken, /chat/*,
// /user/* and /topapi/*, with tokens in the access_token parameter and
// errors as HTTP 200 {"errcode","errmsg"}.
package oapi

import (
	"log/slog"
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// API is the legacy surface over one service.
type API struct {
	svc *service.Service
	log *slog.Logger
}

// New returns the legacy surface.
func New(svc *service.Service, log *slog.Logger) *API {
	return &API{svc: svc, log: log}
}

// handler answers one call; for topapi routes it returns the "result" value.
type handler func(r *http.Request, p *httpx.Params, c *service.Caller) (any, error)

// route describes how a handler is reached and answered.
type route struct {
	endpoint string // names the endpoint in the error table
	topapi   bool   // topapi envelope: result, success, request_id; auth errors as 88
	public   bool   // no access token needed
	raw      bool   // parameters from the query only; the handler reads the body
}

type ok struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

var okBody = ok{Errcode: 0, Errmsg: "ok"}

type topOK struct {
	Errcode   int    `json:"errcode"`
	Errmsg    string `json:"errmsg"`
	Result    any    `json:"result,omitempty"`
	Success   bool   `json:"success"`
	RequestID string `json:"request_id"`
}

// serve is the adapter between handlers and the wire: it reads parameters,
// authenticates, and writes the answer or the error.
func (a *API) serve(rt route, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, surfaceOf(rt.topapi))
		fail := func(err error) { writeError(w, r, a.log, rt.endpoint, rt.topapi, err) }
		defer httpx.Recover(a.log, r, fail)
		var err error
		var p *httpx.Params
		if rt.raw {
			p = httpx.QueryParams(r)
		} else if p, err = httpx.ReadParams(r); err != nil {
			fail(err)
			return
		}
		var c *service.Caller
		if !rt.public {
			// the query's token wins: a body field must not hide it
			tok := p.Query("access_token")
			if tok == "" {
				if tok, err = p.String("access_token"); err != nil {
					fail(err)
					return
				}
			}
			if c, err = a.svc.Authenticate(r.Context(), tok); err != nil {
				fail(err)
				return
			}
			httpx.SetCaller(r, c.App.Key, c.App.CorpID)
			if err = a.svc.Admit(r.Context(), c, rt.endpoint, httpx.ClientIP(r)); err != nil {
				fail(err)
				return
			}
		}
		out, err := h(r, p, c)
		if err != nil {
			fail(err)
			return
		}
		httpx.Succeeded(r, "0")
		if rt.topapi {
			httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeTopAPI, topOK{Errcode: 0, Errmsg: "ok", Result: out, Success: true, RequestID: topRequestID(r.Context())})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeLegacy, out)
	})
}

// NotFound answers paths no legacy route knows: errcode 404, or 22 under /topapi/.
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) > len("/topapi/") && r.URL.Path[:len("/topapi/")] == "/topapi/" {
		httpx.SetSurface(r, surfaceOf(true))
		writeError(w, r, a.log, "", true, ding.Errorf(ding.NotFound, ding.ReasonUnknownAPI, "no topapi method %s", r.URL.Path))
		return
	}
	httpx.SetSurface(r, surfaceOf(false))
	writeError(w, r, a.log, "", false, ding.Errorf(ding.NotFound, ding.ReasonUnknownPath, "no legacy route for %s", r.URL.Path))
}

// surfaceOf names the surface in the access log.
func surfaceOf(topapi bool) string {
	if topapi {
		return "topapi"
	}
	return "legacy"
}
