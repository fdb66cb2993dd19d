package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// healthTTL is how long a probe's verdict answers health checks: a load
// balancer polling every 100 ms must not turn into 10 writes a second.
const healthTTL = time.Second

// health answers whether the store can commit a write right now. The probe
// is a real write (see ding.Store.Ping), run at most once per healthTTL and
// detached from the caller, whose hang-up must not become the verdict.
type health struct {
	svc *service.Service
	mu  sync.Mutex
	at  time.Time
	err error
}

func (h *health) check() error {
	// free to ask, so asked every time: an outage shorter than the probe's
	// cache still shows
	if err := h.svc.WriteFailure(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < healthTTL {
		return h.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.err = h.svc.Ping(ctx)
	h.at = time.Now()
	return h.err
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.check(); err != nil {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, httpx.ContentTypeLegacy, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeLegacy, map[string]string{"status": "ok"})
}
