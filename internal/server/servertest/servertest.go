// Package servertest is test wiring for the HTTP surfaces: the whole server
// (server.Handler) over a real SQLite store seeded with the fixture
// organisation, a movable clock, sequential ids, and golden-file checks of
// whole responses. Like dingtest, it may import a concrete store.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/callback"
	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/stream"
)

// tempDir is a directory removed at cleanup, in memory where the system
// offers one: these tests are about the wire, and a store that fsyncs every
// commit spends most of their time waiting for the disk otherwise.
func tempDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "dingchat-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// OpenStore opens a private copy of the seeded fixture database (both
// dingtest corps), closed at cleanup; on PostgreSQL when
// DINGCHAT_TEST_STORE=postgres. The seed is applied once per test binary
// and copied for each store (see dingtest.OpenStoreSeeded).
func OpenStore(t testing.TB) ding.Store {
	t.Helper()
	if dingtest.Postgres(t) {
		return dingtest.OpenPostgresSeeded(t, dingtest.FixtureSeed)
	}
	return dingtest.OpenSQLiteSeeded(t, tempDir(t), dingtest.FixtureSeed)
}

// Env is one running server with its own store, clock and id sequence.
type Env struct {
	T     testing.TB
	Clock *dingtest.Clock
	Store ding.Store
	Svc   *service.Service
	URL   string
	// Vars are substituted for {{name}} in a request's path, headers and
	// body. Token variables (see TokenVars) are minted on first use.
	Vars map[string]string

	// Pusher posts check_url and events; Dispatch starts a dispatcher on it.
	Pusher *callback.Pusher
	// Gateway is the Stream gateway, served at stream.Path.
	Gateway *stream.Gateway

	mu         sync.Mutex
	last       Seen
	dispatcher *events.Dispatcher
}

// Seen is what the server saw of the last request's framing.
type Seen struct {
	ContentLength    int64
	TransferEncoding []string
}

// TokenVars are the variables minted on first use, each the token of one
// fixture app. "expired_token" is minted 7200 s before the current time.
var TokenVars = map[string][2]string{
	"token":          {dingtest.AppKey, dingtest.AppSecret},
	"ordinary_token": {dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret},
	"narrow_token":   {dingtest.NarrowAppKey, dingtest.NarrowAppSecret},
	"readonly_token": {dingtest.ReadOnlyAppKey, dingtest.ReadOnlyAppSecret},
	"other_token":    {dingtest.OtherAppKey, dingtest.OtherAppSecret},
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// New starts a server over a fresh copy of the fixture database; it stops
// at cleanup. Ids are sequential, so a fresh Env answers the same bytes.
// opts reach server.Handler (server.WithAdminToken, say).
func New(t testing.TB, opts ...server.Option) *Env {
	t.Helper()
	st := OpenStore(t)
	clock := dingtest.NewClock()
	pusher := callback.NewPusher(clock, false)
	e := &Env{T: t, Clock: clock, Store: st, Vars: map[string]string{}, Pusher: pusher}
	svc := service.New(st, clock, &service.SequentialIDs{}, service.WithPusher(pusher), service.OnSubscriptionsChanged(func() {
		e.mu.Lock()
		d := e.dispatcher
		e.mu.Unlock()
		if d != nil {
			d.Refresh()
		}
	}))
	e.Svc = svc
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.Gateway = stream.New(svc, log, stream.Options{OnConnect: func(string) {
		e.mu.Lock()
		d := e.dispatcher
		e.mu.Unlock()
		if d != nil {
			d.Refresh()
		}
	}})
	h := server.Handler(svc, log, append([]server.Option{server.WithStream(e.Gateway)}, opts...)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.last = Seen{ContentLength: r.ContentLength, TransferEncoding: append([]string(nil), r.TransferEncoding...)}
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// Dispatch starts an event dispatcher on the Env's store, pusher and
// clock, stopped at cleanup.
func (e *Env) Dispatch(cfg events.Config) *events.Dispatcher {
	e.T.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(testWriter{e.T}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = e.URL
	}
	d := events.New(e.Store, e.Pusher, e.Clock, cfg)
	d.SetStreamHub(e.Gateway)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	e.mu.Lock()
	e.dispatcher = d
	e.mu.Unlock()
	e.T.Cleanup(func() {
		cancel()
		<-done
	})
	return d
}

// LastSeen reports how the last request arrived at the server.
func (e *Env) LastSeen() Seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// Token issues (or renews) the app's token through the service.
func (e *Env) Token(appKey, secret string) string {
	e.T.Helper()
	tok, err := e.Svc.IssueToken(context.Background(), appKey, secret)
	if err != nil {
		e.T.Fatalf("issue token for %s: %v", appKey, err)
	}
	return tok.Value
}

// Caller authenticates as the fixture app key through the service.
func (e *Env) Caller(appKey, secret string) *service.Caller {
	e.T.Helper()
	c, err := e.Svc.Authenticate(context.Background(), e.Token(appKey, secret))
	if err != nil {
		e.T.Fatalf("authenticate %s: %v", appKey, err)
	}
	return c
}

// Group creates a group through the service as the default app and sets
// the variables chatid and openid. Without members it holds manager4220
// (owner), zhangsan and lisi.
func (e *Env) Group(name string, members ...string) *ding.Group {
	e.T.Helper()
	if len(members) == 0 {
		members = []string{"manager4220", "zhangsan", "lisi"}
	}
	g, err := e.Svc.CreateGroup(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret),
		service.CreateGroupInput{Name: name, Owner: members[0], UserIDs: members})
	if err != nil {
		e.T.Fatalf("create group: %v", err)
	}
	e.Vars["chatid"], e.Vars["openid"] = g.ChatID, g.OpenConversationID
	return g
}

var varRE = regexp.MustCompile(`\{\{([a-z_]+)\}\}`)

// Expand replaces {{name}} with its variable, minting tokens on first use.
func (e *Env) Expand(s string) string {
	e.T.Helper()
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		if v, ok := e.Vars[name]; ok {
			return v
		}
		if app, ok := TokenVars[name]; ok {
			e.Vars[name] = e.Token(app[0], app[1])
			return e.Vars[name]
		}
		e.T.Fatalf("no variable %q", name)
		return ""
	})
}

// Request is one HTTP call. Path, header values and body may hold {{vars}}.
type Request struct {
	Method string
	Path   string
	// Header adds headers; an empty value removes a default. A body is sent
	// as application/json unless Header says otherwise.
	Header  map[string]string
	Body    string
	Chunked bool // send the body with Transfer-Encoding: chunked and no Content-Length
}

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ContentType is the response's Content-Type header, verbatim.
func (r *Response) ContentType() string { return r.Header.Get("Content-Type") }

// JSON decodes the body as a JSON object, numbers as json.Number.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Failed reports whether the response is an error on any surface: an HTTP
// status other than 200 or a non-zero errcode.
func (r *Response) Failed() bool {
	if r.Status != http.StatusOK {
		return true
	}
	var m struct {
		Errcode *json.Number `json:"errcode"`
	}
	if json.Unmarshal(r.Body, &m) != nil || m.Errcode == nil {
		return false
	}
	return m.Errcode.String() != "0"
}

// onlyReader hides a reader's length, so the client sends it chunked.
type onlyReader struct{ io.Reader }

// Do sends req and reads the whole response.
func (e *Env) Do(req Request) *Response {
	e.T.Helper()
	method := req.Method
	if method == "" {
		method = http.MethodGet
		if req.Body != "" {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(e.Expand(req.Body))
		if req.Chunked {
			body = onlyReader{body}
		}
	}
	hr, err := http.NewRequest(method, e.URL+e.Expand(req.Path), body)
	if err != nil {
		e.T.Fatalf("build request: %v", err)
	}
	if req.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic token minting order
	for _, k := range keys {
		if v := req.Header[k]; v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, e.Expand(v))
		}
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("read response: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Get is a GET of path.
func (e *Env) Get(path string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: http.MethodGet, Path: path})
}

// Post is a JSON POST of body to path.
func (e *Env) Post(path, body string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: http.MethodPost, Path: path, Body: body})
}

// PostV1 is a JSON POST carrying tok in the v1.0 token header.
func (e *Env) PostV1(path, tok, body string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: http.MethodPost, Path: path, Body: body, Header: map[string]string{"x-acs-dingtalk-access-token": tok}})
}

// Events counts the fixture corp's event log, to prove a failed call wrote nothing.
func (e *Env) Events() int {
	e.T.Helper()
	evs, err := e.Store.Events(context.Background(), dingtest.CorpID, 0, 1<<30)
	if err != nil {
		e.T.Fatalf("read events: %v", err)
	}
	return len(evs)
}

// ChatGet answers /chat/get for chatid as the default app.
func (e *Env) ChatGet(chatid string) *Response {
	e.T.Helper()
	return e.Get("/chat/get?access_token={{token}}&chatid=" + chatid)
}

// ChatInfo is chat/get's chat_info for chatid; the test fails on any other answer.
func ChatInfo(t testing.TB, e *Env, chatid string) map[string]any {
	t.Helper()
	r := e.ChatGet(chatid)
	m := r.JSON(t)
	if code := fmt.Sprint(m["errcode"]); code != "0" {
		t.Fatalf("chat/get %s: %s", chatid, r.Body)
	}
	info, ok := m["chat_info"].(map[string]any)
	if !ok {
		t.Fatalf("no chat_info in %s", r.Body)
	}
	return info
}

// Fill adds numbered users (user0001, …) to the group chatid until it has n
// members, directly in the store and in one transaction: a fast setup for
// cases about the member cap. It bypasses the service's rules, so tests of
// those rules must still reach them through HTTP.
func (e *Env) Fill(chatid string, n int) {
	e.T.Helper()
	_, err := e.Store.UpdateGroup(context.Background(), dingtest.CorpID, chatid, func(st *ding.GroupState) (*ding.GroupChange, error) {
		have := map[string]bool{}
		for _, m := range st.Members {
			have[m.ID] = true
		}
		ch := &ding.GroupChange{Group: st.Group}
		now := e.Clock.Now().UnixMilli()
		for i := 1; len(st.Members)+len(ch.Add) < n; i++ {
			if id := dingtest.UserID(i); !have[id] {
				ch.Add = append(ch.Add, ding.Member{ID: id, Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now})
			}
		}
		return ch, nil
	})
	if err != nil {
		e.T.Fatalf("fill group: %v", err)
	}
}

// Expire moves the clock to the instant the token lifetime ends.
func (e *Env) Expire() { e.Clock.Advance(ding.TokenTTL * time.Second) }
