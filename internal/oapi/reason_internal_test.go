package oapi

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// TestReasonHeaderEveryReason: whatever the table answers in the body, the
// reason and its message travel in X-DingChat-Reason, and the access log's
// code is the errcode the body carries.
func TestReasonHeaderEveryReason(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	check := func(endpoint string, topapi bool, r ding.Reason, wantCode int) {
		t.Helper()
		err := ding.Errorf(ding.Invalid, r, "field x must be 1..60, got %d", 61)
		req := httptest.NewRequest("POST", "/chat/send", nil)
		ctx, note := httpx.WithNote(req.Context())
		req = req.WithContext(ctx)
		w := httptest.NewRecorder()
		writeError(w, req, log, endpoint, topapi, err)
		want := string(r) + ": field x must be 1..60, got 61"
		if got := w.Header().Get(httpx.ReasonHeader); got != want {
			t.Errorf("%s %q (topapi %v): header %q, want %q", endpoint, r, topapi, got, want)
		}
		if note.Code != strconv.Itoa(wantCode) {
			t.Errorf("%s %q (topapi %v): note code %q, want %d", endpoint, r, topapi, note.Code, wantCode)
		}
	}
	for r, w := range reasons {
		check("", false, r, withIP(w, nil).code)
		if _, wrapped := topAuth[r]; wrapped {
			check("", true, r, 88)
		} else if r == ding.ReasonUnknownAPI {
			check("", true, r, 22)
		} else {
			check("", true, r, w.code)
		}
	}
	for ep, overrides := range endpoints {
		for r, w := range overrides {
			check(ep, false, r, w.code)
		}
	}
}

func TestReasonHeaderInternal(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	req := httptest.NewRequest("GET", "/chat/get", nil)
	req = req.WithContext(httpx.WithRequestID(req.Context(), "rid-1"))
	w := httptest.NewRecorder()
	writeError(w, req, log, "chat/get", false, ding.Wrap(ding.Internal, io.ErrUnexpectedEOF, "store failed: secret detail"))
	if got, want := w.Header().Get(httpx.ReasonHeader), "internal: see the server log for request rid-1"; got != want {
		t.Errorf("header %q, want %q (an internal failure names the request, not its cause)", got, want)
	}
}
