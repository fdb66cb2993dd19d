package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// TestAccessLogLine: one info line per request with the surface, app, path,
// code, latency and the reason read back from the response header.
func TestAccessLogLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := httpx.Middleware(log, func() string { return "rid-7" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.SetSurface(r, "legacy")
		httpx.SetCaller(r, "dingappkey0001", "dingcorp0001")
		httpx.ExplainCode(w, r, 34014, ding.Errorf(ding.Invalid, ding.ReasonMsgMalformed, "voice.duration must be 1..60 seconds, got %d", 61))
		w.WriteHeader(http.StatusOK)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/chat/send?access_token=t", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/gettoken", nil))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want one per request:\n%s", len(lines), buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"level": "INFO", "msg": "request", "request_id": "rid-7", "surface": "legacy", "app": "dingappkey0001",
		"path": "/chat/send", "status": float64(200), "code": "34014",
		"reason": "msg_malformed: voice.duration must be 1..60 seconds, got 61",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (line %s)", k, line[k], v, lines[0])
		}
	}
	if _, ok := line["ms"].(float64); !ok {
		t.Errorf("log line has no latency: %s", lines[0])
	}
	if got := rec.Header().Get(httpx.ReasonHeader); got != want["reason"] {
		t.Errorf("header %q", got)
	}
	if strings.Contains(lines[0], "access_token") {
		t.Errorf("the access log must not carry the query (tokens): %s", lines[0])
	}
}

func TestAccessLogQuietAboveInfo(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := httpx.Middleware(log, func() string { return "x" }, http.NotFoundHandler())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if buf.Len() != 0 {
		t.Errorf("--log-level warn still logs requests: %s", buf.String())
	}
}

func TestReasonText(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{ding.Errorf(ding.Invalid, ding.ReasonUnknownUser, "unknown userid %s", "userid9"), "unknown_user: unknown userid userid9"},
		{ding.Errorf(ding.NotFound, ding.ReasonNone, "no such path"), "not_found: no such path"},
		{ding.Errorf(ding.Invalid, ding.ReasonNameLength, ""), "name_length"},
		{ding.Errorf(ding.Invalid, ding.ReasonUnknownUser, "unknown userid %s", "张三"), `unknown_user: unknown userid \u5f20\u4e09`},
		{ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "a\r\nX-Injected: 1"), "invalid_param: a  X-Injected: 1"},
		{ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s", strings.Repeat("a", 2000)), "invalid_param: " + strings.Repeat("a", 512-3-len("invalid_param: ")) + "..."},
		{ding.Wrap(ding.Unavailable, nil, "db down at 10.0.0.5"), "unavailable: see the server log for request rid"},
	} {
		if got := httpx.ReasonText(c.err, "rid"); got != c.want {
			t.Errorf("ReasonText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
