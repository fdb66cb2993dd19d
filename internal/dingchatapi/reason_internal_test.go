package dingchatapi

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// TestReasonHeaderEveryReason: DingChat's own API answers the reason as its
// code; the header carries the same reason and the message, on the JSON API
// and on the join page alike.
func TestReasonHeaderEveryReason(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, r := range ding.Reasons {
		for _, k := range ding.Kinds {
			if k == ding.Internal || k == ding.Unavailable {
				continue
			}
			err := ding.Errorf(k, r, "seq must be at least 0, got %d", -1)
			name := string(r)
			if r == ding.ReasonNone {
				name = k.String()
			}
			want := name + ": seq must be at least 0, got -1"
			req := httptest.NewRequest("POST", "/_dingchat/member/groups/x/read", nil)
			ctx, note := httpx.WithNote(req.Context())
			req = req.WithContext(ctx)
			rec := httptest.NewRecorder()
			writeError(rec, req, log, err)
			if got := rec.Header().Get(httpx.ReasonHeader); got != want || note.Code != name {
				t.Errorf("%v/%q: header %q code %q, want %q %q", k, r, got, note.Code, want, name)
			}
			rec = httptest.NewRecorder()
			if status := explainPage(rec, req, err); status != statuses[k] {
				t.Errorf("%v/%q: join page status %d, want %d", k, r, status, statuses[k])
			}
			if got := rec.Header().Get(httpx.ReasonHeader); got != want {
				t.Errorf("%v/%q: join page header %q, want %q", k, r, got, want)
			}
		}
	}
}
