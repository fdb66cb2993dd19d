package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// What the request log and fault rules see of a body.
const (
	peekBytes = 64 << 10 // matched by bodyContains
	logBytes  = 8 << 10  // kept in the log
)

// surfaceOf names the API generation a path belongs to.
func surfaceOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/_dingchat/"):
		return "dingchat"
	case strings.HasPrefix(path, "/v1.0/"), strings.HasPrefix(path, "/v2.0/"):
		return "v1.0"
	case strings.HasPrefix(path, "/topapi/"):
		return "topapi"
	case path == "/robot/send":
		return "webhook"
	}
	return "legacy"
}

// controlled reports whether the request log and fault rules see a path:
// not the admin API that reads and sets them, nor the health check.
func controlled(path string) bool {
	return !strings.HasPrefix(path, "/_dingchat/admin/") && path != "/_dingchat/health"
}

// capture keeps the status and the start of the body a handler writes.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

// Captures are reused with their buffers: the request log copies what it
// keeps (LoggedCall.Keep), and a fresh buffer a call was an allocation the
// size of every answer, up to logBytes.
var captures = sync.Pool{New: func() any { return new(capture) }}

func newCapture(w http.ResponseWriter) *capture {
	c := captures.Get().(*capture)
	c.ResponseWriter = w
	return c
}

// release hands c back once the call is logged; nothing may use it after.
func (c *capture) release() {
	c.ResponseWriter, c.status = nil, 0
	c.body.Reset()
	captures.Put(c)
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if room := logBytes + 1 - c.body.Len(); room > 0 {
		c.body.Write(b[:min(room, len(b))])
	}
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

type peekedBody struct {
	io.Reader
	io.Closer
}

type failedRead struct{ err error }

func (f failedRead) Read([]byte) (int, error) { return 0, f.err }

// peek reads the head of a request's body for the log and the fault rules,
// and puts it back in front of the rest. A body whose declared length fits
// the head is read in one allocation of that length, and handed to the
// handler as it is (httpx.WholeBody) instead of being read a second time.
func peek(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if n := r.ContentLength; n > 0 && n <= peekBytes {
		head := make([]byte, n)
		got, err := io.ReadFull(r.Body, head)
		head = head[:got]
		if err == nil {
			r.Body = httpx.NewWholeBody(head, r.Body)
			return head
		}
		// the handler's read ends with the same error
		r.Body = peekedBody{io.MultiReader(bytes.NewReader(head), failedRead{err}), r.Body}
		return head
	}
	head, _ := io.ReadAll(io.LimitReader(r.Body, peekBytes))
	r.Body = peekedBody{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return head
}

// controls is the middleware of the test controls: it records every API
// call in the request log, applies fault rules, and holds calls at the reset
// gate. It sits inside httpx.Middleware, which gives the request its id.
func controls(svc *service.Service, rl *httpx.RequestLog, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// the call is served on a detached context (detach), made here with
		// the call info so that the request is copied once for both
		hangup := r.Context()
		if !controlled(r.URL.Path) {
			ctx, cancel := detach(hangup)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		serve := func(w http.ResponseWriter, r *http.Request) {
			// long-lived connections never hold the reset gate
			if r.Header.Get("Upgrade") == "" {
				svc.Enter()
				defer svc.Leave()
			}
			next.ServeHTTP(w, r)
		}
		faults := svc.Faults()
		active := faults.Active()
		if rl == nil && !active {
			ctx, cancel := detach(hangup)
			defer cancel()
			serve(w, r.WithContext(ctx))
			return
		}
		start := time.Now()
		ctx, ci := ding.WithCallInfo(hangup)
		ctx, cancel := detach(ctx)
		defer cancel()
		r = r.WithContext(ctx)
		head := peek(r)
		surface := surfaceOf(r.URL.Path)
		cw := newCapture(w)
		defer cw.release() // after the log's deferred copy below
		var rule *service.FaultRule
		if active {
			call := service.Call{Surface: surface, Method: r.Method, Path: r.URL.Path, Body: head}
			if faults.NeedsApp() {
				call.AppKey = requestApp(ctx, svc, r, head)
				ding.NoteApp(ctx, call.AppKey)
			}
			rule = faults.MatchCall(call)
		}
		defer func() {
			if rl == nil {
				return
			}
			app := ci.AppKey()
			if app == "" {
				app = httpx.NoteOf(ctx).App
			}
			c := httpx.LoggedCall{Time: start, RequestID: httpx.RequestID(ctx), Surface: surface, AppKey: app,
				Method: r.Method, Path: r.URL.Path, Status: cw.status, Errcode: httpx.NoteOf(ctx).Code,
				LatencyMs: float64(time.Since(start).Microseconds()) / 1000, Reason: cw.Header().Get(httpx.ReasonHeader)}
			c.Keep(r.URL.RawQuery, head, r.Header.Get("Content-Type"), cw.body.Bytes(), cw.Header().Get("Content-Type"), logBytes)
			if rule != nil {
				c.Fault, c.FaultAction = rule.ID, rule.Action
			}
			rl.Add(c)
		}()
		if rule != nil {
			if rule.LatencyMs > 0 {
				t := time.NewTimer(time.Duration(rule.LatencyMs) * time.Millisecond)
				select {
				case <-t.C:
				case <-hangup.Done(): // the client left: nothing was asked of the handler yet
					t.Stop()
					return
				}
			}
			switch rule.Action {
			case service.FaultError:
				writeFault(cw, r, surface, rule)
				return
			case service.FaultDrop:
				if conn, _, err := http.NewResponseController(cw).Hijack(); err == nil {
					conn.Close()
					return
				}
				// no connection to drop (HTTP/2): the nearest thing DingTalk's gateway does
				writeFault(cw, r, surface, &service.FaultRule{Status: http.StatusBadGateway, Code: "BadGateway",
					Message: "connection dropped by fault rule " + rule.ID})
				return
			}
		}
		serve(cw, r)
	})
}

// requestApp finds the app a request acts for before any handler ran: the
// token of either generation, or the key of a token request.
func requestApp(ctx context.Context, svc *service.Service, r *http.Request, head []byte) string {
	q := r.URL.Query()
	if k := q.Get("appkey"); k != "" {
		return k
	}
	if t := q.Get("access_token"); t != "" {
		return svc.AppKeyOfToken(ctx, t)
	}
	if t := r.Header.Get("x-acs-dingtalk-access-token"); t != "" {
		return svc.AppKeyOfToken(ctx, t)
	}
	var body struct {
		AppKey   string `json:"appKey"`
		ClientID string `json:"clientId"`
	}
	if json.Unmarshal(head, &body) == nil {
		if body.AppKey != "" {
			return body.AppKey
		}
		return body.ClientID
	}
	return q.Get("corpid")
}

// writeFault answers as DingTalk does on the call's surface: legacy and
// webhook HTTP 200 {"errcode","errmsg"}; topapi the same with request_id
// (and sub_code when given); v1.0 and DingChat's own an HTTP status with
// {"code","message","requestid"}.
func writeFault(w http.ResponseWriter, r *http.Request, surface string, rule *service.FaultRule) {
	rid := httpx.RequestID(r.Context())
	note := httpx.NoteOf(r.Context())
	switch surface {
	case "v1.0", "dingchat":
		status, code, msg := rule.Status, rule.Code, rule.Message
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		if code == "" {
			code = "ServiceUnavailable"
		}
		if msg == "" {
			// unconfirmed: the text DingTalk's gateway sends with 503 ServiceUnavailable
			msg = "The request has failed due to a temporary failure of the server."
		}
		note.Code = code
		httpx.WriteJSON(w, status, httpx.ContentTypeV1, struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"requestid"`
		}{code, msg, rid})
		return
	}
	code, msg := -1, rule.Errmsg
	if rule.Errcode != nil {
		code = *rule.Errcode
	}
	if msg == "" {
		msg = "系统繁忙"
	}
	note.Code = strconv.Itoa(code)
	if surface == "topapi" {
		id := strings.ToLower(strings.ReplaceAll(rid, "-", ""))
		if len(id) > 13 {
			id = id[len(id)-13:]
		}
		body := map[string]any{"errcode": code, "errmsg": msg, "request_id": id}
		if rule.SubCode != "" {
			body["sub_code"] = rule.SubCode
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeTopAPI, body)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeLegacy, struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
	}{code, msg})
}
