package httpx

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
)

// ReasonHeader carries why DingChat refused a request. DingTalk's body stays
// as DingTalk answers it; this header is where DingChat says which field,
// rule, limit or value was at fault. It is the one carrier of the reason:
// the access log and anything else that records requests read it from the
// response.
const ReasonHeader = "X-DingChat-Reason"

// maxReason bounds the header; a reason is one line, not a document.
const maxReason = 512

// Note is what a request's surface learns about it while serving it, read
// after the handler by the access log and other per-request recorders.
// One request is served by one goroutine, so a Note needs no lock.
type Note struct {
	Surface string // "legacy", "topapi", "v1.0", "dingchat"
	App     string // the app key of an authenticated caller
	Corp    string // the caller's corp, when known
	User    string // the member signed in on DingChat's own API
	Code    string // the errcode (legacy, 0 included) or code (v1.0, /_dingchat) the answer carries
}

// WithNote gives ctx a fresh Note (under its request id, if any), returned
// for the caller to read later.
func WithNote(ctx context.Context) (context.Context, *Note) {
	sc := &scope{id: RequestID(ctx)}
	return context.WithValue(ctx, scopeKey, sc), &sc.note
}

// NoteOf is the request's Note; outside Middleware it is a throwaway, so
// surfaces may fill it without checking.
func NoteOf(ctx context.Context) *Note {
	if sc, ok := ctx.Value(scopeKey).(*scope); ok {
		return &sc.note
	}
	return &Note{}
}

// SetSurface names the surface serving r.
func SetSurface(r *http.Request, surface string) { NoteOf(r.Context()).Surface = surface }

// SetCaller records the authenticated app (and its corp) of r.
func SetCaller(r *http.Request, appKey, corpID string) {
	n := NoteOf(r.Context())
	n.App, n.Corp = appKey, corpID
}

// SetMember records the member signed in on r.
func SetMember(r *http.Request, corpID, userID string) {
	n := NoteOf(r.Context())
	n.Corp, n.User = corpID, userID
}

// Explain sets the reason header for err and records code as the request's
// error code. Surfaces call it from their errors.go, before writing the body.
func Explain(w http.ResponseWriter, r *http.Request, code string, err error) {
	NoteOf(r.Context()).Code = code
	w.Header().Set(ReasonHeader, ReasonText(err, RequestID(r.Context())))
}

// Succeeded records the errcode of a success answer (legacy "0"); the
// request log reads it instead of parsing the body again.
func Succeeded(r *http.Request, code string) { NoteOf(r.Context()).Code = code }

// ExplainCode is Explain for a numeric errcode.
func ExplainCode(w http.ResponseWriter, r *http.Request, code int, err error) {
	Explain(w, r, strconv.Itoa(code), err)
}

// ReasonText is the header value for err: "reason: message", with the kind
// standing in for a missing reason. An internal failure names the request id
// to look up in the server log instead of its cause.
func ReasonText(err error, requestID string) string {
	kind := ding.ErrorKind(err)
	name := string(ding.ErrorReason(err))
	if name == "" {
		name = kind.String()
	}
	msg := ding.ErrorMessage(err)
	if kind == ding.Internal || kind == ding.Unavailable {
		msg = "see the server log for request " + requestID
	}
	if msg == "" {
		return headerSafe(name)
	}
	return headerSafe(name + ": " + msg)
}

// headerSafe keeps printable ASCII and escapes the rest as \uXXXX, so every
// client's header parser takes the value and a terminal shows it.
func headerSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			q := strconv.QuoteRuneToASCII(r) // 'x' with the escape inside the quotes
			b.WriteString(q[1 : len(q)-1])
		}
		if b.Len() > maxReason {
			return b.String()[:maxReason-3] + "..."
		}
	}
	return b.String()
}
