package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// Content types as DingTalk sends them; clients compare them literally.
const (
	ContentTypeLegacy = "application/json"
	ContentTypeTopAPI = "application/json;charset=UTF-8"
	ContentTypeV1     = "application/json;charset=utf-8"
)

// JSONAppender is a value that appends its own JSON to dst: the bytes
// encoding/json would write for it, without reflection.
type JSONAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

var jsonBufs = sync.Pool{New: func() any { return new([]byte) }}

// WriteJSON writes v with status and the given content type, without
// HTML-escaping (DingTalk answers "&" and "<" as they are). A JSONAppender
// writes itself into a buffer kept for the next answer.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	if a, ok := v.(JSONAppender); ok {
		bp := jsonBufs.Get().(*[]byte)
		out, err := a.AppendJSON((*bp)[:0])
		if err != nil {
			out = append(out[:0], `{"errcode":-1,"errmsg":"系统繁忙"}`...)
			status = http.StatusInternalServerError
		}
		setJSONHeaders(w.Header(), contentType)
		setLength(w.Header(), len(out))
		w.WriteHeader(status)
		w.Write(out)
		if cap(out) <= maxKeptBuf {
			*bp = out
			jsonBufs.Put(bp)
		}
		return
	}
	e := encBufs.Get().(*encBuf)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		e.buf.Reset()
		e.buf.WriteString(`{"errcode":-1,"errmsg":"系统繁忙"}`)
		status = http.StatusInternalServerError
	}
	out := bytes.TrimRight(e.buf.Bytes(), "\n")
	setJSONHeaders(w.Header(), contentType)
	setLength(w.Header(), len(out))
	w.WriteHeader(status)
	w.Write(out)
	if e.buf.Cap() <= maxKeptBuf {
		encBufs.Put(e)
	}
}

// The header values every JSON answer carries, shared by all answers:
// each slice's capacity is its length, so an Add to a header copies it
// instead of writing into another answer's.
var (
	serverHeader = []string{"DingTalk/1.0.0"}
	jsonTypes    = map[string][]string{
		ContentTypeLegacy: {ContentTypeLegacy},
		ContentTypeTopAPI: {ContentTypeTopAPI},
		ContentTypeV1:     {ContentTypeV1},
	}
)

// setJSONHeaders sets an answer's Content-Type and Server, without an
// allocation for the content types the surfaces use.
func setJSONHeaders(h http.Header, contentType string) {
	if v, ok := jsonTypes[contentType]; ok {
		h["Content-Type"] = v[:1:1]
	} else {
		h.Set("Content-Type", contentType)
	}
	h["Server"] = serverHeader[:1:1]
}

// encBufs are the buffers answers without a JSONAppender are encoded into,
// kept like jsonBufs: a buffer the size of each answer was an allocation a
// call.
var encBufs = sync.Pool{New: func() any {
	e := new(encBuf)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// encBuf is a buffer with its encoder.
type encBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// maxKeptBuf bounds the answers' buffers kept for reuse: a rare large
// answer does not pin its memory.
const maxKeptBuf = 64 << 10

type ctxKey int

// WithRequestID stores the id DingChat answers with in ctx, with a fresh
// Note: Middleware's scope, for work outside it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, scopeKey, &scope{id: id})
}

// RequestID returns the request's id, "" outside a request.
func RequestID(ctx context.Context) string {
	if sc, ok := ctx.Value(scopeKey).(*scope); ok {
		return sc.id
	}
	return ""
}

const scopeKey ctxKey = 0

// scope is what Middleware keeps of a request, in one allocation and one
// context value: its id, its Note and the recorder of its answer.
type scope struct {
	id   string
	note Note
	rec  recorder
}

type recorder struct {
	http.ResponseWriter
	conn   context.Context // the request's context before Middleware's, to find its Holder
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and WebSocket upgrades reach the
// connection (deadlines, hijacking).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.whole(b) && r.conn != nil {
		if c, ok := r.conn.Value(connKey).(Holder); ok {
			n, err := r.writeHeld(c, b)
			r.bytes += n
			return n, err
		}
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Middleware gives every request an id and a Note, writes one access-log
// line per request at info, and turns a panic into a logged 500 instead of a
// dropped connection.
func Middleware(log *slog.Logger, newID func() string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newID()
		sc := &scope{id: id, rec: recorder{ResponseWriter: w, conn: r.Context()}}
		note, rec := &sc.note, &sc.rec
		r = r.WithContext(context.WithValue(r.Context(), scopeKey, sc))
		defer func() {
			// surfaces recover their own handlers (Recover) and answer in their
			// own shape; this is the last resort for anything outside them
			if p := recover(); p != nil {
				log.Error("panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					http.Error(rec, "internal error; see the server log for request "+id, http.StatusInternalServerError)
				}
			}
			accessLog(log, r, id, note, rec, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// accessLog writes the request's line: who asked what, how it was answered,
// and why when it was refused.
func accessLog(log *slog.Logger, r *http.Request, id string, n *Note, rec *recorder, took time.Duration) {
	if !log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("request_id", id),
		slog.String("surface", n.Surface),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
	)
	if n.App != "" {
		attrs = append(attrs, slog.String("app", n.App))
	}
	if n.User != "" {
		attrs = append(attrs, slog.String("user", n.User))
	}
	if n.Code != "" && n.Code != "0" { // a refusal's code; a success's 0 adds nothing to the line
		attrs = append(attrs, slog.String("code", n.Code))
	}
	attrs = append(attrs, slog.Float64("ms", float64(took.Microseconds())/1000))
	if reason := rec.Header().Get(ReasonHeader); reason != "" {
		attrs = append(attrs, slog.String("reason", reason))
	}
	attrs = append(attrs, slog.Int("bytes", rec.bytes), slog.String("remote", ClientIP(r)))
	log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// Recover, deferred by a surface around its handler, turns a panic into an
// internal error that the surface's errors.go writes in its own shape.
func Recover(log *slog.Logger, r *http.Request, fail func(error)) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { // net/http's way to abort a response: let it through
		panic(p)
	}
	log.Error("panic", "request_id", RequestID(r.Context()), "panic", p, "stack", string(debug.Stack()))
	fail(ding.Wrap(ding.Internal, fmt.Errorf("panic: %v", p), "internal error"))
}

// ClientIP is the address the request came from. DingChat does not trust
// forwarding headers: an allow-list is only as good as the address it checks.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
