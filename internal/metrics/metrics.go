// Package metrics exposes DingChat's Prometheus metrics: HTTP requests by
// surface, route and answer, their latency, open connections, store commits
// and the Go runtime. Other parts register their own collectors on
// Registry (a prometheus.Registerer), e.g. an event dispatcher's backlog
// and delivery outcomes, without changing this package.
package metrics

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's set of metrics.
type Metrics struct {
	// Registry holds every collector; pass it on as a prometheus.Registerer
	// to whatever wants to add its own.
	Registry *prometheus.Registry

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	inflight      prometheus.Gauge
	conns         *prometheus.GaugeVec
	commitBatch   prometheus.Histogram
	commitLatency prometheus.Histogram
	commitErrors  prometheus.Counter

	mu    sync.Mutex
	state map[net.Conn]http.ConnState

	counters sync.Map // requestLabels → prometheus.Counter
	timers   sync.Map // routeLabels → prometheus.Observer
}

// New registers DingChat's collectors and the Go runtime and process ones.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingchat_http_requests_total",
			Help: "HTTP requests answered, by surface, route pattern, HTTP status and DingTalk error code (errcode or v1.0 code; empty when the body has none).",
		}, []string{"surface", "route", "status", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dingchat_http_request_duration_seconds",
			Help:    "Time from reading a request's headers to the end of its answer, by surface and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"surface", "route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dingchat_http_requests_in_flight",
			Help: "Requests being handled now.",
		}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dingchat_http_connections",
			Help: "Open client connections by state (new, active, idle).",
		}, []string{"state"}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dingchat_store_commit_batch_size",
			Help:    "Writes carried by one store commit (queued writes travel together: on SQLite all of them, on PostgreSQL sends and creates).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dingchat_store_commit_duration_seconds",
			Help:    "Time one store commit took, its writes included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dingchat_store_commit_errors_total",
			Help: "Store commits that failed.",
		}),
		state: map[net.Conn]http.ConnState{},
	}
	reg.MustRegister(m.requests, m.latency, m.inflight, m.conns, m.commitBatch, m.commitLatency, m.commitErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range []string{"new", "active", "idle"} {
		m.conns.WithLabelValues(s)
	}
	return m
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveCommit records one store commit; stores call it through their
// ObserveCommits hook.
func (m *Metrics) ObserveCommit(batch int, took time.Duration, err error) {
	m.commitBatch.Observe(float64(batch))
	m.commitLatency.Observe(took.Seconds())
	// a refusal decided inside the transaction (a conflict, a full group)
	// is an answer, not a failed commit
	if ding.IsKind(err, ding.Unavailable) || (err != nil && ding.ErrorKind(err) == ding.Internal) {
		m.commitErrors.Inc()
	}
}

// ConnState is an http.Server ConnState hook counting open connections.
func (m *Metrics) ConnState(c net.Conn, s http.ConnState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.state[c]; ok {
		if g := gaugeState(old); g != "" {
			m.conns.WithLabelValues(g).Dec()
		}
	}
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(m.state, c)
		return
	}
	m.state[c] = s
	if g := gaugeState(s); g != "" {
		m.conns.WithLabelValues(g).Inc()
	}
}

func gaugeState(s http.ConnState) string {
	switch s {
	case http.StateNew:
		return "new"
	case http.StateActive:
		return "active"
	case http.StateIdle:
		return "idle"
	}
	return ""
}

// WatchPool exposes a database connection pool's size: stats is asked at
// each scrape for its open, idle and in-use connections.
func (m *Metrics) WatchPool(stats func() (open, idle, inUse int32)) {
	for i, state := range []string{"open", "idle", "in_use"} {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "dingchat_store_connections",
			Help:        "PostgreSQL connections of this node's pool, by state (open = idle + in_use + being set up).",
			ConstLabels: prometheus.Labels{"state": state},
		}, func() float64 {
			o, i2, u := stats()
			return float64([]int32{o, i2, u}[i])
		}))
	}
}
