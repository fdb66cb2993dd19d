package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// BenchmarkStream200 connects 200 Stream clients — 100 apps, two
// connections each — renames groups b.N times, and reports how long after
// each rename's answer its EVENT frame reached each app (lag p50/p99) and
// the heap each connection costs.
func BenchmarkStream200(b *testing.B) {
	e := servertest.New(b)
	e.Dispatch(events.Config{})
	ctx := context.Background()
	corp, err := e.Store.Corp(ctx, dingtest.CorpID)
	if err != nil {
		b.Fatal(err)
	}
	org := &ding.Org{Corp: *corp}
	for i := 0; i < 100; i++ {
		org.Apps = append(org.Apps, ding.App{Key: fmt.Sprintf("streamapp%04d", i), CorpID: corp.ID, Secret: "stream-secret-0001",
			AgentID: int64(90000 + i), Name: "stream", Scopes: ding.DefaultScopes, VisibleAll: true})
	}
	if err := e.Store.ApplyOrg(ctx, org); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var mu sync.Mutex
	sent := map[string]time.Time{} // title → when its rename was answered
	var lags []time.Duration
	seen := map[string]bool{} // app + title: each app counts once per event
	var conns []*websocket.Conn
	for i := 0; i < 200; i++ {
		app := org.Apps[i/2].Key
		r := e.Do(servertest.Request{Method: "POST", Path: "/v1.0/gateway/connections/open",
			Body: `{"clientId":"` + app + `","clientSecret":"stream-secret-0001","subscriptions":[{"type":"EVENT","topic":"*"}]}`})
		m := r.JSON(b)
		c, _, err := websocket.Dial(ctx, m["endpoint"].(string)+"?ticket="+m["ticket"].(string), nil)
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		conns = append(conns, c)
		go func(app string, c *websocket.Conn) {
			for {
				_, raw, err := c.Read(ctx)
				if err != nil {
					return
				}
				now := time.Now()
				var f struct {
					Headers map[string]string
					Data    string
				}
				json.Unmarshal(raw, &f)
				ack, _ := json.Marshal(map[string]any{"code": 200, "headers": map[string]string{"messageId": f.Headers["messageId"]}, "message": "OK", "data": `{"status":"SUCCESS"}`})
				c.Write(ctx, websocket.MessageText, ack)
				if f.Headers["eventType"] != ding.EventChatUpdateTitle {
					continue
				}
				var d struct{ Title string }
				json.Unmarshal([]byte(f.Data), &d)
				mu.Lock()
				if at, ok := sent[d.Title]; ok && !seen[app+d.Title] {
					seen[app+d.Title] = true
					lags = append(lags, now.Sub(at))
				}
				mu.Unlock()
			}
		}(app, c)
	}
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	for len(e.Gateway.Clients()) < 100 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // every app's worker is running
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	g := e.Group("流量群", "manager4220", "zhangsan")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		title := fmt.Sprintf("流%d", i)
		mu.Lock()
		sent[title] = time.Now() // set before the call: the frame may beat the answer
		mu.Unlock()
		if r := e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":%q}`, g.ChatID, title)); r.Status != 200 {
			b.Fatal(r.Body)
		}
		time.Sleep(10 * time.Millisecond) // about 100 events a second, each to 100 apps
	}
	b.StopTimer()
	want := 100 * b.N
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(lags)
		mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lags) < want {
		b.Errorf("%d of %d frames arrived", len(lags), want)
	}
	b.ReportMetric(float64(percentile(lags, 0.5).Microseconds())/1000, "lag-p50-ms")
	b.ReportMetric(float64(percentile(lags, 0.99).Microseconds())/1000, "lag-p99-ms")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/200/1024, "heap-KiB/conn")
}
