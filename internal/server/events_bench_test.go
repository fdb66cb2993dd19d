package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/callback"
	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
)

// lagReceiver acknowledges every push and records how long after the
// update that caused it each push arrived.
type lagReceiver struct {
	srv     *httptest.Server
	sent    sync.Map // title → time the update was answered
	mu      sync.Mutex
	lags    []time.Duration
	pushes  atomic.Int64
	firstAt atomic.Int64
	lastAt  atomic.Int64
}

func newLagReceiver(b *testing.B, owner string) *lagReceiver {
	c, err := callback.New(cbToken, cbAESKey, owner)
	if err != nil {
		b.Fatal(err)
	}
	rc := &lagReceiver{}
	ok, _ := c.Encrypt([]byte("success"))
	ts := fmt.Sprint(time.Now().UnixMilli())
	reply, _ := json.Marshal(map[string]string{"msg_signature": callback.Sign(cbToken, ts, "n", ok), "timeStamp": ts, "nonce": "n", "encrypt": ok})
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Encrypt string }
		json.NewDecoder(r.Body).Decode(&body)
		msg, _, err := c.Decrypt(body.Encrypt)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		now := time.Now()
		var v map[string]any
		json.Unmarshal(msg, &v)
		if t, ok := v["title"].(string); ok {
			if at, ok := rc.sent.Load(t); ok {
				rc.mu.Lock()
				rc.lags = append(rc.lags, now.Sub(at.(time.Time)))
				rc.mu.Unlock()
			}
		}
		rc.pushes.Add(1)
		rc.firstAt.CompareAndSwap(0, now.UnixNano())
		rc.lastAt.Store(now.UnixNano())
		w.Write(reply)
	}))
	b.Cleanup(rc.srv.Close)
	return rc
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// eventsBench is a server with subs HTTP subscriptions pushed to one
// receiver by a dispatcher wired as serve wires it (poked by this node's
// commits, giving way to API calls), and groups to rename.
func eventsBench(b *testing.B, subs int) (*benchEnv, *lagReceiver, []string) {
	st := dingtest.OpenStore(b)
	dingtest.Seed(b, st)
	pusher := callback.NewPusher(nil, false)
	var d atomic.Pointer[events.Dispatcher]
	hub := live.New(st, live.Config{OnEvents: func() {
		if d := d.Load(); d != nil {
			d.Poke()
		}
	}})
	svc := service.New(live.Observe(st, hub), nil, nil, service.WithPusher(pusher))
	srv := httptest.NewServer(server.Handler(svc, slog.New(slog.DiscardHandler)))
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	e := &benchEnv{base: srv.URL, client: &http.Client{Transport: tr}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	e.call(b, http.MethodGet, "/gettoken?"+url.Values{"appkey": {dingtest.AppKey}, "appsecret": {dingtest.AppSecret}}.Encode(), nil, &tok)
	e.token = tok.AccessToken
	rc := newLagReceiver(b, "bench-owner")
	for i := 0; i < subs; i++ {
		key := fmt.Sprintf("bench-app-%02d", i)
		if err := st.SaveSubscription(context.Background(), &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, key), Kind: ding.SubAppPush,
			Key: key, CorpID: dingtest.CorpID, OwnerKey: "bench-owner", Token: cbToken, AESKey: cbAESKey, URL: rc.srv.URL}); err != nil {
			b.Fatal(err)
		}
	}
	d.Store(events.New(st, pusher, nil, events.Config{Calls: svc.Calls()}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Load().Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	groups := make([]string, 16)
	for i := range groups {
		groups[i] = e.createGroup(b, []string{"manager4220", "zhangsan"})
	}
	time.Sleep(100 * time.Millisecond) // let the creations' pushes drain
	rc.pushes.Store(0)
	rc.firstAt.Store(0)
	return e, rc, groups
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report waits for want pushes and reports their rate and lag.
func (rc *lagReceiver) report(b *testing.B, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for rc.pushes.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	span := time.Duration(rc.lastAt.Load() - rc.firstAt.Load())
	if span > 0 {
		b.ReportMetric(float64(rc.pushes.Load())/span.Seconds(), "pushes/s")
	}
	rc.mu.Lock()
	b.ReportMetric(float64(percentile(rc.lags, 0.5).Microseconds())/1000, "lag-p50-ms")
	b.ReportMetric(float64(percentile(rc.lags, 0.99).Microseconds())/1000, "lag-p99-ms")
	rc.mu.Unlock()
}

// BenchmarkChatUpdateEvents renames groups concurrently through the whole
// HTTP stack, as fast as the node answers, with 0 and with 10 HTTP
// subscriptions being pushed every change; it reports the updates' ns/op,
// pushes delivered per second and the commit-to-delivery lag (time from
// the update's answer to the push's arrival). Saturated, deliveries give
// way to the API and catch up afterwards, so the lag is mostly backlog.
func BenchmarkChatUpdateEvents(b *testing.B) {
	for _, subs := range []int{0, 10} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			e, rc, groups := eventsBench(b, subs)
			var n atomic.Int64
			b.SetParallelism(parallelism)
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					title := fmt.Sprintf("t%d", i)
					e.call(b, http.MethodPost, "/chat/update?"+e.tokenQuery(), mustJSON(map[string]any{"chatid": groups[i%int64(len(groups))], "name": title}), nil)
					rc.sent.Store(title, time.Now())
				}
			})
			b.StopTimer()
			// the process's CPU time per update (server, clients and
			// receiver alike) is steadier than ns/op on a shared machine
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if subs > 0 {
				// the share of the pushes made while the updates ran: deliveries
				// give way to a saturating load and catch up after it
				b.ReportMetric(float64(rc.pushes.Load())/float64(int64(subs)*int64(b.N)), "pushed-during")
				rc.report(b, int64(subs)*int64(b.N))
			}
		})
	}
}

// BenchmarkEventLag renames groups at steady rates below saturation (four
// callers) with 10 subscriptions and reports the commit-to-delivery lag an
// integration sees under that load.
func BenchmarkEventLag(b *testing.B) {
	const subs, callers = 10, 4
	for _, rate := range []int{100, 400} {
		b.Run(fmt.Sprintf("updates/s=%d", rate), func(b *testing.B) {
			e, rc, groups := eventsBench(b, subs)
			var n atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tick := time.NewTicker(time.Second * callers / time.Duration(rate))
					defer tick.Stop()
					for {
						i := n.Add(1)
						if i > int64(b.N) {
							return
						}
						<-tick.C
						title := fmt.Sprintf("t%d", i)
						e.call(b, http.MethodPost, "/chat/update?"+e.tokenQuery(), mustJSON(map[string]any{"chatid": groups[i%int64(len(groups))], "name": title}), nil)
						rc.sent.Store(title, time.Now())
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			rc.report(b, int64(subs)*int64(b.N))
		})
	}
}
