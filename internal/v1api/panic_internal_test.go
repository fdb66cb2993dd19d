package v1api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// TestPanicAnsweredByErrorsGo: a panicking handler gets v1.0's own 500.
func TestPanicAnsweredByErrorsGo(t *testing.T) {
	a := &API{log: slog.New(slog.DiscardHandler)}
	boom := func(*http.Request, *httpx.Params, *service.Caller) (any, error) { panic("boom") }
	h := httpx.Middleware(a.log, func() string { return "RID" }, a.serve(route{endpoint: "x", public: true}, boom))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/v1.0/x", nil))
	want := `{"code":"system.error","requestid":"RID","message":"请重试，若始终失败请提交工单"}`
	if w.Code != 500 || w.Body.String() != want {
		t.Errorf("panic: %d %s, want 500 %s", w.Code, w.Body, want)
	}
}
