package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// Every way through controls serves the call on a context the client's
// hang-up does not end, bounded by writeBound: a call whose client left
// before the handler ran still sees a live context with that deadline.
func TestCallsOutliveTheirClient(t *testing.T) {
	svc := service.New(dingtest.OpenStore(t), nil, nil)
	cases := []struct {
		name string
		rl   *httpx.RequestLog
		path string
	}{
		{"request log", httpx.NewRequestLog(10), "/chat/send"},
		{"no request log", nil, "/chat/send"},
		{"outside the controls", httpx.NewRequestLog(10), "/_dingchat/health"},
	}
	for _, c := range cases {
		var err error
		var left time.Duration
		h := controls(svc, c.rl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = r.Context().Err()
			if d, ok := r.Context().Deadline(); ok {
				left = time.Until(d)
			}
		}))
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client has gone
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, c.path, strings.NewReader(`{}`))
		h.ServeHTTP(httptest.NewRecorder(), req)
		if err != nil {
			t.Errorf("%s: the handler's context ended with the client's: %v", c.name, err)
		}
		if left <= writeBound-time.Second || left > writeBound {
			t.Errorf("%s: the handler's context has %v left, want about %v", c.name, left, writeBound)
		}
	}
}
