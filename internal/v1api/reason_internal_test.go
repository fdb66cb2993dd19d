package v1api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// TestReasonHeaderEveryReason: every reason of the table, and every
// endpoint override, carries its reason and message in X-DingChat-Reason
// while the body keeps DingTalk's code.
func TestReasonHeaderEveryReason(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	check := func(endpoint string, r ding.Reason, w wire) {
		t.Helper()
		err := ding.Errorf(ding.Invalid, r, "useridlist must include the owner %s", "manager4220")
		req := httptest.NewRequest("POST", "/v1.0/im/group/create", nil)
		ctx, note := httpx.WithNote(req.Context())
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		writeError(rec, req, log, endpoint, err)
		want := string(r) + ": useridlist must include the owner manager4220"
		if got := rec.Header().Get(httpx.ReasonHeader); got != want {
			t.Errorf("%s %q: header %q, want %q", endpoint, r, got, want)
		}
		if note.Code != w.code || rec.Code != w.status {
			t.Errorf("%s %q: code %q status %d, want %q %d", endpoint, r, note.Code, rec.Code, w.code, w.status)
		}
	}
	for r, w := range reasons {
		check("", r, w)
	}
	for ep, overrides := range endpoints {
		for r, w := range overrides {
			check(ep, r, w)
		}
	}
}
