package dingchatapi

import (
	"crypto/subtle"
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// AdminOnly lets through to h only requests that carry the admin token, and
// answers the others as every admin call does. It guards handlers mounted
// outside this package, such as metrics.
func (a *API) AdminOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, surface)
		t := bearer(r)
		if t == "" {
			writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenMissing, "missing admin token"))
			return
		}
		if a.adminHash == "" || subtle.ConstantTimeCompare([]byte(ding.SecretHash(t)), []byte(a.adminHash)) != 1 {
			writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid admin token"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
