// Package server mounts every surface on one mux and runs the HTTP server.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingchatapi"
	"github.com/dingchat/dingchat/internal/httpx"
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
}

// WithPublicURL makes links handed to clients (the Stream endpoint) start
// with u, for a server behind a proxy.
func WithPublicURL(u string) Option { return func(o *options) { o.publicURL = u } }

// WithStream serves the Stream gateway's WebSocket endpoint.
func WithStream(g *stream.Gateway) Option { return func(o *options) { o.stream = g } }

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
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	legacy := oapi.New(svc, log)
	v1 := v1api.New(svc, log)
	v1.SetPublicURL(o.publicURL)
	legacy.Register(mux)
	v1.Register(mux)
	if o.stream != nil {
		o.stream.Register(mux)
	}
	own := dingchatapi.New(svc, log, o.adminHash)
	own.Register(mux)
	mux.HandleFunc("GET /_dingchat/health", health(svc))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_dingchat/") {
			own.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1.0/") || strings.HasPrefix(r.URL.Path, "/v2.0/") {
			v1.NotFound(w, r)
			return
		}
		legacy.NotFound(w, r)
	})
	return httpx.Middleware(log, svc.IDs().RequestID, mux)
}

func health(svc *service.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ping(ctx); err != nil {
			httpx.WriteJSON(w, http.StatusServiceUnavailable, httpx.ContentTypeLegacy, map[string]string{"status": "unavailable"})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeLegacy, map[string]string{"status": "ok"})
	}
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
	return &Server{ln: ln, http: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

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
