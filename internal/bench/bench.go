// Package bench drives a DingChat (or DingTalk-compatible) server with
// realistic traffic through its public API and reports throughput and
// latency percentiles. It speaks only HTTP, so it measures what clients see.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios the tool knows.
const (
	ScenarioSend   = "send"   // chat/send text into one group
	ScenarioCreate = "create" // chat/create small groups
	ScenarioGet    = "get"    // chat/get one group
)

// Config is one run.
type Config struct {
	URL         string
	AppKey      string
	AppSecret   string
	Scenario    string
	Concurrency int
	Duration    time.Duration
	Members     int      // members of the group send and get work on
	Users       []string // userids to build groups from; the first is the owner
	Progress    io.Writer
}

// Result is what a run measured.
type Result struct {
	Scenario   string
	Requests   int64
	Errors     int64
	FirstError string
	Elapsed    time.Duration
	P50, P90   time.Duration
	P99, Max   time.Duration
}

// PerSecond is the run's throughput of successful requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("%s: %d requests in %s, %.0f/s, %d errors; latency p50 %s p90 %s p99 %s max %s",
		r.Scenario, r.Requests, r.Elapsed.Round(time.Millisecond), r.PerSecond(), r.Errors,
		r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// DemoUsers are the demo organisation's users, the default population.
func DemoUsers() []string {
	users := []string{"manager4220", "zhangsan", "lisi", "wangwu"}
	for i := 1; i <= 46; i++ {
		users = append(users, fmt.Sprintf("user%03d", i))
	}
	return users
}

type client struct {
	http  *http.Client
	base  string
	token string
}

// call posts body (or GETs when body is nil) and checks DingTalk's errcode.
func (c *client) call(ctx context.Context, path string, query url.Values, body any) (map[string]any, error) {
	query = maps.Clone(query) // callers share theirs between goroutines
	if query == nil {
		query = url.Values{}
	}
	if c.token != "" {
		query.Set("access_token", c.token)
	}
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		method, rd = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+query.Encode(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d, not JSON: %.100s", path, resp.StatusCode, raw)
	}
	if code, _ := out["errcode"].(float64); code != 0 || resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: HTTP %d errcode %v %v", path, resp.StatusCode, out["errcode"], out["errmsg"])
	}
	return out, nil
}

// Run prepares what the scenario needs, then drives it for cfg.Duration.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Concurrency < 1 || cfg.Duration <= 0 {
		return Result{}, errors.New("concurrency must be at least 1 and duration positive")
	}
	if len(cfg.Users) == 0 {
		cfg.Users = DemoUsers()
	}
	if cfg.Members < 1 || cfg.Members > len(cfg.Users) {
		return Result{}, fmt.Errorf("members must be 1..%d (the users given)", len(cfg.Users))
	}
	tr := &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	c := &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: strings.TrimRight(cfg.URL, "/")}
	tok, err := c.call(ctx, "/gettoken", url.Values{"appkey": {cfg.AppKey}, "appsecret": {cfg.AppSecret}}, nil)
	if err != nil {
		return Result{}, fmt.Errorf("token: %w", err)
	}
	c.token, _ = tok["access_token"].(string)

	op, err := prepare(ctx, c, cfg)
	if err != nil {
		return Result{}, err
	}
	return drive(ctx, cfg, op), nil
}

// prepare returns one request of the scenario; it is called concurrently.
func prepare(ctx context.Context, c *client, cfg Config) (func(ctx context.Context, n int64) error, error) {
	owner := cfg.Users[0]
	switch cfg.Scenario {
	case ScenarioCreate:
		members := cfg.Users[:min(3, len(cfg.Users))]
		return func(ctx context.Context, n int64) error {
			_, err := c.call(ctx, "/chat/create", nil, map[string]any{"name": fmt.Sprintf("压测群%d", n), "owner": owner, "useridlist": members})
			return err
		}, nil
	case ScenarioSend, ScenarioGet:
	default:
		return nil, fmt.Errorf("unknown scenario %q (send, create or get)", cfg.Scenario)
	}
	first := cfg.Users[:min(40, cfg.Members)]
	out, err := c.call(ctx, "/chat/create", nil, map[string]any{"name": "压测群", "owner": owner, "useridlist": first})
	if err != nil {
		return nil, fmt.Errorf("create the group: %w", err)
	}
	chatID, _ := out["chatid"].(string)
	for i := len(first); i < cfg.Members; i += 40 {
		add := cfg.Users[i:min(i+40, cfg.Members)]
		if _, err := c.call(ctx, "/chat/update", nil, map[string]any{"chatid": chatID, "add_useridlist": add}); err != nil {
			return nil, fmt.Errorf("fill the group: %w", err)
		}
	}
	if cfg.Scenario == ScenarioGet {
		q := url.Values{"chatid": {chatID}}
		return func(ctx context.Context, _ int64) error {
			_, err := c.call(ctx, "/chat/get", q, nil)
			return err
		}, nil
	}
	return func(ctx context.Context, n int64) error {
		_, err := c.call(ctx, "/chat/send", nil, map[string]any{"chatid": chatID,
			"msg": map[string]any{"msgtype": "text", "text": map[string]any{"content": fmt.Sprintf("压测消息 %d", n)}}})
		return err
	}, nil
}

func drive(ctx context.Context, cfg Config, op func(context.Context, int64) error) Result {
	// no new request starts after the deadline, and those in flight finish:
	// cutting them off would leave writes the server made but nobody counted
	var seq, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, cfg.Concurrency)
	start := time.Now()
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				n := seq.Add(1)
				t0 := time.Now()
				err := op(ctx, n)
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}(w)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	if cfg.Progress != nil {
		go func() {
			defer close(stopped)
			progress(cfg.Progress, start, &seq, &errs, stop)
		}()
	} else {
		close(stopped)
	}
	wg.Wait()
	close(stop)
	<-stopped // the progress line is finished before the caller reads it
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	r := Result{Scenario: cfg.Scenario, Requests: int64(len(all)), Errors: errs.Load(), Elapsed: elapsed,
		P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: pct(1)}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	return r
}

// progress rewrites one status line each second until stop closes.
func progress(w io.Writer, start time.Time, seq, errs *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-stop:
			fmt.Fprintln(w)
			return
		case <-t.C:
			n := seq.Load()
			fmt.Fprintf(w, "\r%5.0fs  %8d requests  %7d/s  %d errors   ", time.Since(start).Seconds(), n, n-last, errs.Load())
			last = n
		}
	}
}
