package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/stream"
)

// registerEventMetrics adds event delivery to the metrics: attempts by
// transport and outcome, their latency, the backlog behind each kind of
// consumer (read from the store at scrape time, so it is the whole
// cluster's), and this node's Stream connections.
func registerEventMetrics(reg prometheus.Registerer, d *events.Dispatcher, g *stream.Gateway) {
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dingchat_event_deliveries_total",
		Help: "Event delivery attempts by transport (http, stream) and outcome (ok, retry, failed).",
	}, []string{"transport", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "dingchat_event_delivery_duration_seconds",
		Help:    "Time of one delivery attempt: an HTTP push and its reply, or a Stream frame and its ACK.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"transport"})
	backlog := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dingchat_event_backlog",
		Help: "Events committed but not yet delivered (or given up on), summed over the consumers of each transport.",
	}, []string{"transport"})
	conns := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dingchat_stream_clients",
		Help: "Stream clients (app or suite keys) with a connection to this node.",
	}, func() float64 { return float64(len(g.Clients())) })
	reg.MustRegister(attempts, latency, conns, backlogCollector{backlog, d})
	d.Observe(func(r ding.Delivery) {
		transport, _, _ := cutConsumer(r.Consumer)
		attempts.WithLabelValues(transport, r.Outcome).Inc()
		latency.WithLabelValues(transport).Observe(float64(r.LatencyMs) / 1000)
	})
}

func cutConsumer(c string) (transport, rest string, ok bool) {
	for i := 0; i < len(c); i++ {
		if c[i] == ':' {
			return c[:i], c[i+1:], true
		}
	}
	return c, "", false
}

// backlogCollector reads the backlog when scraped.
type backlogCollector struct {
	g *prometheus.GaugeVec
	d *events.Dispatcher
}

func (b backlogCollector) Describe(ch chan<- *prometheus.Desc) { b.g.Describe(ch) }

func (b backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if m, err := b.d.Backlog(ctx); err == nil {
		b.g.Reset()
		for k, n := range m {
			b.g.WithLabelValues(k).Set(float64(n))
		}
	}
	b.g.Collect(ch)
}
