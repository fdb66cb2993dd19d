package dingchatapi

import (
	"log/slog"
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// statuses is the HTTP status of each kind on DingChat's own API; the code
// in the body is the reason (or the kind when there is none).
var statuses = map[ding.Kind]int{
	ding.Internal:        http.StatusInternalServerError,
	ding.Invalid:         http.StatusBadRequest,
	ding.Unauthenticated: http.StatusUnauthorized,
	ding.Forbidden:       http.StatusForbidden,
	ding.NotFound:        http.StatusNotFound,
	ding.Conflict:        http.StatusConflict,
	ding.TooLarge:        http.StatusRequestEntityTooLarge,
	ding.RateLimited:     http.StatusTooManyRequests,
	ding.Unavailable:     http.StatusServiceUnavailable,
}

type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestid"`
}

// writeError is the one place an error of this surface reaches the wire.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	rid := httpx.RequestID(r.Context())
	kind := ding.ErrorKind(err)
	code, msg := string(ding.ErrorReason(err)), ding.ErrorMessage(err)
	if code == "" {
		code = kind.String()
	}
	if (kind == ding.Internal || kind == ding.Unavailable) && r.Context().Err() == nil { // a caller that hung up is no server fault
		log.Error("request failed", "request_id", rid, "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log for request " + rid
	}
	httpx.WriteJSON(w, statuses[kind], httpx.ContentTypeV1, errorBody{Code: code, Message: msg, RequestID: rid})
}
