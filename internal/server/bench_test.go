package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/metrics"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
)

// benchEnv is the whole HTTP stack over a seeded SQLite store in a temp dir,
// reached through a keep-alive client as a real caller would.
type benchEnv struct {
	base   string
	client *http.Client
	token  string
}

// parallelism multiplies GOMAXPROCS for RunParallel: enough concurrent
// writers that the store's group commit has batches to form.
const parallelism = 8

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	st := dingtest.OpenStore(b)
	dingtest.Seed(b, st)
	svc := service.New(st, nil, nil)
	srv := httptest.NewServer(server.Handler(svc, slog.New(slog.DiscardHandler)))
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	e := &benchEnv{base: srv.URL, client: &http.Client{Transport: tr}}
	var tok struct {
		Errcode     int    `json:"errcode"`
		AccessToken string `json:"access_token"`
	}
	e.call(b, http.MethodGet, "/gettoken?"+url.Values{"appkey": {dingtest.AppKey}, "appsecret": {dingtest.AppSecret}}.Encode(), nil, &tok)
	e.token = tok.AccessToken
	return e
}

// call sends one request and fails on anything but errcode 0. It is safe
// for concurrent use; out may be nil.
func (e *benchEnv) call(b *testing.B, method, path string, body []byte, out any) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		b.Error(err)
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Error(err)
		return
	}
	var env struct {
		Errcode int `json:"errcode"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &env) != nil || env.Errcode != 0 {
		b.Errorf("%s %s: status %d, body %s", method, path, resp.StatusCode, raw)
		return
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.Error(err)
		}
	}
}

func (e *benchEnv) tokenQuery() string { return "access_token=" + url.QueryEscape(e.token) }

var createBody = mustJSON(map[string]any{
	"name": "基准测试群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan", "lisi"},
})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// createGroup makes a group of the given members (owner first) and returns its chatid.
func (e *benchEnv) createGroup(b *testing.B, members []string) string {
	b.Helper()
	first := members[:min(len(members), 40)]
	var out struct {
		ChatID string `json:"chatid"`
	}
	e.call(b, http.MethodPost, "/chat/create?"+e.tokenQuery(), mustJSON(map[string]any{
		"name": "基准读取群", "owner": members[0], "useridlist": first,
	}), &out)
	if out.ChatID == "" {
		b.Fatal("chat/create returned no chatid")
	}
	for rest := members[len(first):]; len(rest) > 0; {
		n := min(len(rest), 40)
		e.call(b, http.MethodPost, "/chat/update?"+e.tokenQuery(), mustJSON(map[string]any{
			"chatid": out.ChatID, "add_useridlist": rest[:n],
		}), nil)
		rest = rest[n:]
	}
	return out.ChatID
}

// members is manager4220 and n-1 numbered fixture users.
func members(n int) []string {
	ids := []string{"manager4220"}
	for i := 1; i < n; i++ {
		ids = append(ids, dingtest.UserID(i))
	}
	return ids
}

func reportOps(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

// BenchmarkChatCreate is POST /chat/create of a 3-member group: one
// transaction per group, serial and with concurrent callers whose writes
// the store commits together.
func BenchmarkChatCreate(b *testing.B) {
	e := newBenchEnv(b)
	path := "/chat/create?" + e.tokenQuery()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			e.call(b, http.MethodPost, path, createBody, nil)
		}
		reportOps(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.call(b, http.MethodPost, path, createBody, nil)
			}
		})
		reportOps(b)
	})
}

// BenchmarkChatCreate40 is POST /chat/create of a 40-member group,
// DingTalk's most for one call, serial: the rows of the members dominate.
func BenchmarkChatCreate40(b *testing.B) {
	e := newBenchEnv(b)
	path := "/chat/create?" + e.tokenQuery()
	ms := members(40)
	body := mustJSON(map[string]any{"name": "基准建群", "owner": ms[0], "useridlist": ms})
	for b.Loop() {
		e.call(b, http.MethodPost, path, body, nil)
	}
	reportOps(b)
}

// BenchmarkChatGet is GET /chat/get of a 40-member group.
func BenchmarkChatGet(b *testing.B) {
	e := newBenchEnv(b)
	path := "/chat/get?" + e.tokenQuery() + "&chatid=" + e.createGroup(b, members(40))
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			e.call(b, http.MethodGet, path, nil, nil)
		}
		reportOps(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.call(b, http.MethodGet, path, nil, nil)
			}
		})
		reportOps(b)
	})
}

// BenchmarkChatGet1000 is GET /chat/get of a full group (1000 members).
func BenchmarkChatGet1000(b *testing.B) {
	e := newBenchEnv(b)
	path := "/chat/get?" + e.tokenQuery() + "&chatid=" + e.createGroup(b, members(1000))
	var check struct {
		ChatInfo struct {
			UserIDList []string `json:"useridlist"`
		} `json:"chat_info"`
	}
	e.call(b, http.MethodGet, path, nil, &check)
	if got := len(check.ChatInfo.UserIDList); got != 1000 {
		b.Fatalf("group has %d members, want 1000", got)
	}
	for b.Loop() {
		e.call(b, http.MethodGet, path, nil, nil)
	}
	reportOps(b)
}

// BenchmarkGetToken is GET /gettoken: within the token's validity each call
// renews and returns the same token, so each is a write.
func BenchmarkGetToken(b *testing.B) {
	e := newBenchEnv(b)
	path := "/gettoken?" + url.Values{"appkey": {dingtest.AppKey}, "appsecret": {dingtest.AppSecret}}.Encode()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			e.call(b, http.MethodGet, path, nil, nil)
		}
		reportOps(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.call(b, http.MethodGet, path, nil, nil)
			}
		})
		reportOps(b)
	})
}

// benchChatSend is POST /chat/send of a text into a group of n members,
// serial and with concurrent callers. A message is one row in the group's
// timeline whatever the group's size, so the sizes should cost the same.
func benchChatSend(b *testing.B, n int) {
	e := newBenchEnv(b)
	chatID := e.createGroup(b, members(n))
	path := "/chat/send?" + e.tokenQuery()
	body := mustJSON(map[string]any{"chatid": chatID, "msg": map[string]any{
		"msgtype": "text", "text": map[string]string{"content": "基准测试消息"},
	}})
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			e.call(b, http.MethodPost, path, body, nil)
		}
		reportOps(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.call(b, http.MethodPost, path, body, nil)
			}
		})
		reportOps(b)
	})
}

// BenchmarkChatSend10 is chat/send into a 10-member group.
func BenchmarkChatSend10(b *testing.B) { benchChatSend(b, 10) }

// BenchmarkChatSend1000 is chat/send into a full group (1000 members).
func BenchmarkChatSend1000(b *testing.B) { benchChatSend(b, 1000) }

// BenchmarkHandlerChatGet is GET /chat/get of a 40-member group served in
// process by the production handler (request log, metrics, every
// middleware) into a recorder: no socket and no store write, so its time is
// the CPU a call costs DingChat's own layers, steadier than a load run.
func BenchmarkHandlerChatGet(b *testing.B) {
	st := dingtest.OpenStore(b)
	dingtest.Seed(b, st)
	svc := service.New(st, nil, nil)
	h := server.Handler(svc, slog.New(slog.DiscardHandler), server.WithMetrics(metrics.New()))
	serve := func(method, target string, body []byte) []byte {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req := httptest.NewRequest(method, target, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(serve(http.MethodGet, "/gettoken?"+url.Values{"appkey": {dingtest.AppKey}, "appsecret": {dingtest.AppSecret}}.Encode(), nil), &tok)
	var created struct {
		ChatID string `json:"chatid"`
	}
	q := "access_token=" + url.QueryEscape(tok.AccessToken)
	ms := members(40)
	json.Unmarshal(serve(http.MethodPost, "/chat/create?"+q, mustJSON(map[string]any{"name": "基准读取群", "owner": ms[0], "useridlist": ms})), &created)
	target := "/chat/get?" + q + "&chatid=" + created.ChatID
	var got struct {
		Errcode  int `json:"errcode"`
		ChatInfo struct {
			UserIDList []string `json:"useridlist"`
		} `json:"chat_info"`
	}
	if err := json.Unmarshal(serve(http.MethodGet, target, nil), &got); err != nil || got.Errcode != 0 || len(got.ChatInfo.UserIDList) != 40 {
		b.Fatalf("chat/get: %+v, %v", got, err)
	}
	for b.Loop() {
		serve(http.MethodGet, target, nil)
	}
}
