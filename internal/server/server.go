// Package server mounts every surface on one mux and runs the HTTP server.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingchatapi"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/metrics"
	"github.com/dingchat/dingchat/internal/oapi"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/stream"
	"github.com/dingchat/dingchat/internal/v1api"
)

// Option adjusts the handler.
type Option func(*options)

type options struct {
	adminHash string
	publicURL string
	stream    *stream.Gateway
	metrics   *metrics.Metrics
	live      *live.Hub
	console   http.Handler
	logSize   int
}

// WithLive serves live delivery (/_dingchat/member/live and the console's
// socket) from h.
func WithLive(h *live.Hub) Option { return func(o *options) { o.live = h } }

// WithConsole serves the console's pages under /_dingchat/console/.
func WithConsole(h http.Handler) Option { return func(o *options) { o.console = h } }

// WithPublicURL makes links handed to clients (the Stream endpoint) start
// with u, for a server behind a proxy.
func WithPublicURL(u string) Option { return func(o *options) { o.publicURL = u } }

// WithStream serves the Stream gateway's WebSocket endpoint.
func WithStream(g *stream.Gateway) Option { return func(o *options) { o.stream = g } }

// WithMetrics counts and times every request into m and serves m at
// GET /_dingchat/metrics to the admin token's bearer.
func WithMetrics(m *metrics.Metrics) Option { return func(o *options) { o.metrics = m } }

// DefaultRequestLog is how many calls the request log keeps by default.
const DefaultRequestLog = 1000

// WithRequestLog keeps the latest n API calls for the admin API to read
// (default DefaultRequestLog); 0 keeps none.
func WithRequestLog(n int) Option { return func(o *options) { o.logSize = n } }

// WithAdminToken enables the admin API under /_dingchat/admin/ for this
// bearer token; without it every admin call is refused.
func WithAdminToken(t string) Option {
	return func(o *options) {
		if t != "" {
			o.adminHash = ding.SecretHash(t)
		}
	}
}

// WithAdminTokenHash enables the admin API for the token whose
// ding.SecretHash is h: the server need not know the token itself.
func WithAdminTokenHash(h string) Option { return func(o *options) { o.adminHash = h } }

// Handler is the whole HTTP surface: legacy and v1.0 routes at the root of
// one origin (no client accepts a path prefix), plus DingChat's own paths.
func Handler(svc *service.Service, log *slog.Logger, opts ...Option) http.Handler {
	o := options{logSize: DefaultRequestLog}
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	legacy := oapi.New(svc, log)
	v1 := v1api.New(svc, log)
	v1.SetPublicURL(o.publicURL)
	legacy.Register(mux)
	v1.Register(mux)
	var apiOpts []dingchatapi.Option
	if o.stream != nil {
		o.stream.Register(mux)
		apiOpts = append(apiOpts, dingchatapi.WithStreams(o.stream))
	}
	if o.live != nil {
		apiOpts = append(apiOpts, dingchatapi.WithLive(o.live))
	}
	dc := dingchatapi.New(svc, log, o.adminHash, apiOpts...)
	rl := httpx.NewRequestLog(o.logSize)
	dc.SetRequestLog(rl)
	dc.Register(mux)
	if o.console != nil {
		mux.Handle("GET /_dingchat/console/", o.console)
		mux.Handle("GET /_dingchat/console", http.RedirectHandler("/_dingchat/console/", http.StatusMovedPermanently))
	}
	var routed http.Handler = mux
	if o.metrics != nil {
		mux.Handle("GET /_dingchat/metrics", dc.AdminOnly(o.metrics.Handler()))
		routed = o.metrics.Middleware(mux) // right around the mux: it reads the route pattern the mux sets
	}
	mux.Handle("GET /_dingchat/health", &health{svc: svc})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_dingchat/") {
			dc.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1.0/") || strings.HasPrefix(r.URL.Path, "/v2.0/") {
			v1.NotFound(w, r)
			return
		}
		legacy.NotFound(w, r)
	})
	return httpx.Middleware(log, svc.IDs().RequestID, controls(svc, rl, counted(svc.Calls(), routed)))
}

// counted counts the calls being served; long-lived WebSockets are
// connections, not calls, and are left out.
func counted(c *ding.Calls, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			h.ServeHTTP(w, r)
			return
		}
		c.Begin()
		defer c.End()
		h.ServeHTTP(w, r)
	})
}

// Server is an HTTP server with a graceful stop.
type Server struct {
	http *http.Server
	ln   net.Listener
}

// Listen binds addr; the server starts answering at Serve.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return serverOn(limitListener(ln, MaxConns), h, log), nil
}

// serverOn serves h on ln, whose connections are *limitedConn.
func serverOn(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	return &Server{ln: ln, http: &http.Server{
		Handler: h,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc, ok := c.(*limitedConn); ok {
				return httpx.WithConn(ctx, lc)
			}
			return ctx
		},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
}

// TrackConns has f told of every connection's state changes (see
// http.Server.ConnState); call it before Serve.
func (s *Server) TrackConns(f func(net.Conn, http.ConnState)) { s.http.ConnState = f }

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until Shutdown.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// MaxConns bounds the connections served at once; further ones wait in the
// listen queue until one closes, so a flood of idle connections cannot
// exhaust file descriptors.
const MaxConns = 4096

// limitListener accepts at most n connections at a time.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
	// held gathers writes between Hold and Release. Only the goroutine
	// serving the connection's request holds it, and nothing else writes
	// to the connection until the request is done, so it needs no lock.
	held *[]byte
	werr error // a released write's failure, answered to every later write
}

// Write sends p, or keeps it while the connection is held.
func (c *limitedConn) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	if c.held != nil {
		*c.held = append(*c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Hold keeps the writes that follow until Release.
func (c *limitedConn) Hold() {
	if c.held == nil {
		c.held = heldBufs.Get().(*[]byte)
	}
}

// Release sends what was held in one write. A failure fails every later
// write too, so net/http closes the connection instead of answering on it.
func (c *limitedConn) Release() error {
	bp := c.held
	if bp == nil {
		return c.werr
	}
	c.held = nil
	var err error
	if len(*bp) > 0 {
		if _, err = c.Conn.Write(*bp); err != nil {
			c.werr = err
		}
	}
	if cap(*bp) <= 80<<10 { // a held answer is at most 64 KiB and its headers
		*bp = (*bp)[:0]
		heldBufs.Put(bp)
	}
	return err
}

var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
