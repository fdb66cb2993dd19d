package oapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// TestPanicAnsweredByErrorsGo: a handler that panics is answered with this
// surface's internal error, written by errors.go, and the reason names the request.
func TestPanicAnsweredByErrorsGo(t *testing.T) {
	a := &API{log: slog.New(slog.DiscardHandler)}
	boom := func(*http.Request, *httpx.Params, *service.Caller) (any, error) { panic("boom") }
	for _, c := range []struct {
		rt   route
		want string
	}{
		{route{endpoint: "gettoken", public: true}, `{"errcode":-1,"errmsg":"系统繁忙"}`},
		{route{endpoint: "topapi/x", public: true, topapi: true}, `{"errcode":-1,"errmsg":"系统繁忙","request_id":"rid"}`},
	} {
		h := httpx.Middleware(a.log, func() string { return "RID" }, a.serve(c.rt, boom))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
		if w.Code != 200 || w.Body.String() != c.want {
			t.Errorf("%s: %d %s, want 200 %s", c.rt.endpoint, w.Code, w.Body, c.want)
		}
		if got := w.Header().Get(httpx.ReasonHeader); got != "internal: see the server log for request RID" {
			t.Errorf("%s: reason %q", c.rt.endpoint, got)
		}
	}
}
