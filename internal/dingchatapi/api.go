// Package dingchatapi serves DingChat's own API under /_dingchat/: the
// member API (what the console and live delivery use) and the admin API.
// Both take a bearer token; errors are an HTTP status with
// {"code","message","requestid"}.
package dingchatapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// API is DingChat's own surface.
type API struct {
	svc       *service.Service
	log       *slog.Logger
	adminHash string
	reqlog    *httpx.RequestLog
}

// New returns the surface; the admin token whose ding.SecretHash is
// adminHash guards /_dingchat/admin/ ("" turns the admin API off).
func New(svc *service.Service, log *slog.Logger, adminHash string) *API {
	return &API{svc: svc, log: log, adminHash: adminHash}
}

func bearer(r *http.Request) string {
	// the scheme is case-insensitive (RFC 9110)
	scheme, t, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(t)
	}
	return ""
}

// surface names this surface in the access log.
const surface = "dingchat"

// NotFound answers /_dingchat/ paths no route knows.
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	writeError(w, r, a.log, ding.Errorf(ding.NotFound, ding.ReasonNone, "no such DingChat path"))
}

type memberHandler func(r *http.Request, mc *service.MemberCaller) (any, error)

func (a *API) member(h memberHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, surface)
		defer httpx.Recover(a.log, r, func(err error) { writeError(w, r, a.log, err) })
		mc, err := a.svc.AuthenticateMember(r.Context(), bearer(r))
		if err != nil {
			writeError(w, r, a.log, err)
			return
		}
		httpx.SetMember(r, mc.CorpID, mc.UserID)
		out, err := h(r, mc)
		if err != nil {
			writeError(w, r, a.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeV1, out)
	})
}

type adminHandler func(r *http.Request) (any, error)

func (a *API) admin(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, surface)
		defer httpx.Recover(a.log, r, func(err error) { writeError(w, r, a.log, err) })
		t := bearer(r)
		if t == "" {
			writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenMissing, "missing admin token"))
			return
		}
		if a.adminHash == "" || subtle.ConstantTimeCompare([]byte(ding.SecretHash(t)), []byte(a.adminHash)) != 1 {
			writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid admin token"))
			return
		}
		out, err := h(r)
		if err != nil {
			writeError(w, r, a.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeV1, out)
	})
}

// maxBody bounds the JSON bodies of this surface.
const maxBody = 64 << 10

func decode(r *http.Request, v any) error {
	b, err := httpx.ReadBody(r, maxBody)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) { // decoding would turn the bytes into U+FFFD silently
		return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not UTF-8 text")
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "field %s must not be a JSON %s", te.Field, te.Value)
		}
		return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not the expected JSON object")
	}
	return nil
}
