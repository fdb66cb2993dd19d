package dingchatapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// TestPanicAnsweredByErrorsGo: a panicking admin handler gets this
// surface's own 500 body.
func TestPanicAnsweredByErrorsGo(t *testing.T) {
	a := &API{log: slog.New(slog.DiscardHandler), adminHash: ding.SecretHash("t")}
	h := httpx.Middleware(a.log, func() string { return "RID" }, a.admin(func(*http.Request) (any, error) { panic("boom") }))
	r := httptest.NewRequest("GET", "/_dingchat/admin/x", nil)
	r.Header.Set("Authorization", "Bearer t")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	want := `{"code":"internal","message":"internal error; see the server log for request RID","requestid":"RID"}`
	if w.Code != 500 || w.Body.String() != want {
		t.Errorf("panic: %d %s, want 500 %s", w.Code, w.Body, want)
	}
}
