package server_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/metrics"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// metricValue finds one sample line of the text format and returns its value.
func metricValue(t *testing.T, body, series string) (float64, bool) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v, true
}

// /_dingchat/metrics answers the admin token alone, in Prometheus' text
// format, with requests by surface, route pattern, status and errcode or
// code, latency histograms, store commits and the Go runtime.
func TestMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	e := servertest.New(t, server.WithAdminToken("admin-secret"), server.WithMetrics(m))
	if o, ok := e.Store.(interface {
		ObserveCommits(func(int, time.Duration, error))
	}); ok {
		o.ObserveCommits(m.ObserveCommit)
	} else {
		t.Fatalf("store %T reports no commits", e.Store)
	}
	e.Group("指标群")
	for range 3 {
		if r := e.Post("/chat/send?access_token={{token}}", `{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"hi"}}}`); r.Failed() {
			t.Fatalf("send: %s", r.Body)
		}
	}
	e.Post("/chat/send?access_token=nosuchtoken", `{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"hi"}}}`)
	e.PostV1("/v1.0/im/group/create", "nosuchtoken", `{"title":"x"}`)
	e.Get("/no/such/path/" + e.Vars["chatid"])
	e.Get("/topapi/v2/user/get?access_token={{token}}")

	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}} {
		if r := e.Do(servertest.Request{Path: "/_dingchat/metrics", Header: h}); r.Status != http.StatusUnauthorized {
			t.Fatalf("metrics with %v = %d %s, want 401", h, r.Status, r.Body)
		}
	}
	r := e.Do(servertest.Request{Path: "/_dingchat/metrics", Header: map[string]string{"Authorization": "Bearer admin-secret"}})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.ContentType(), "text/plain") {
		t.Fatalf("metrics = %d %s", r.Status, r.ContentType())
	}
	body := string(r.Body)
	want := map[string]float64{
		`dingchat_http_requests_total{code="0",route="/chat/send",status="200",surface="legacy"}`:                                 3,
		`dingchat_http_requests_total{code="40014",route="/chat/send",status="200",surface="legacy"}`:                             1,
		`dingchat_http_requests_total{code="InvalidAuthentication",route="POST /v1.0/im/group/create",status="400",surface="v1"}`: 1,
		`dingchat_http_requests_total{code="404",route="unmatched",status="200",surface="legacy"}`:                                1,
		`dingchat_http_request_duration_seconds_count{route="/chat/send",surface="legacy"}`:                                       4,
	}
	for series, v := range want {
		got, ok := metricValue(t, body, series)
		if !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	for _, name := range []string{"dingchat_store_commit_batch_size_count", "dingchat_store_commit_duration_seconds_count", "go_goroutines", "dingchat_http_requests_in_flight"} {
		v, ok := metricValue(t, body, name)
		if !ok || (name != "dingchat_http_requests_in_flight" && v < 1) {
			t.Errorf("%s = %v (present %v)", name, v, ok)
		}
	}
	if strings.Contains(body, e.Vars["chatid"]) {
		t.Errorf("a chatid became a label value")
	}
	if !strings.Contains(body, `surface="topapi"`) {
		t.Errorf("no topapi series:\n%s", body)
	}
}
