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

// codeOf is the code this surface answers for err: its reason, or its kind.
func codeOf(err error) string {
	if r := ding.ErrorReason(err); r != ding.ReasonNone {
		return string(r)
	}
	return ding.ErrorKind(err).String()
}

// writeError is the one place an error of this surface reaches the wire.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	rid := httpx.RequestID(r.Context())
	kind := ding.ErrorKind(err)
	code, msg := codeOf(err), ding.ErrorMessage(err)
	if (kind == ding.Internal || kind == ding.Unavailable) && r.Context().Err() == nil { // a caller that hung up is no server fault
		log.Error("request failed", "request_id", rid, "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log for request " + rid
	}
	httpx.Explain(w, r, code, err)
	httpx.WriteJSON(w, statuses[kind], httpx.ContentTypeV1, errorBody{Code: code, Message: msg, RequestID: rid})
}

// explainPage is writeError for the join page, whose body is HTML in the
// member's language: it sets the reason and returns the status to render.
func explainPage(w http.ResponseWriter, r *http.Request, err error) int {
	httpx.Explain(w, r, codeOf(err), err)
	if s, ok := statuses[ding.ErrorKind(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// joinError is what the join page tells a member it refused.
func joinError(err error) string {
	switch ding.ErrorReason(err) {
	case ding.ReasonMemberLimit:
		return "群人数已满。"
	case ding.ReasonChatDisbanded:
		return "该群已解散。"
	case ding.ReasonPermissionDenied:
		return "只有本企业的成员可以加入。"
	}
	return "加入失败：" + ding.ErrorMessage(err)
}
