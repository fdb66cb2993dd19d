// Package soak drives a running DingChat with a bounded rate of mixed
// traffic for a long time and samples its metrics, to show that memory and
// goroutines stay flat and nothing fails.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run.
type Config struct {
	URL        string
	AppKey     string
	AppSecret  string
	AdminToken string        // reads /_dingchat/metrics
	Users      []string      // the first is every group's owner
	Rate       int           // requests a second, all kinds together
	Duration   time.Duration // how long to drive
	Every      time.Duration // how often to sample metrics
	Out        io.Writer     // one line per sample
}

// Sample is what the metrics said at one moment.
type Sample struct {
	At         time.Duration
	Requests   int64
	Errors     int64
	Goroutines float64
	HeapBytes  float64
	RSSBytes   float64
}

// Result is a whole run.
type Result struct {
	Samples    []Sample
	Requests   int64
	Errors     int64
	FirstError string
}

type client struct {
	http *http.Client
	base string
}

func (c *client) call(ctx context.Context, method, path string, q url.Values, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+q.Encode(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK || fmt.Sprint(m["errcode"]) != "0" {
		return nil, fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, raw)
	}
	return m, nil
}

// Run drives cfg.URL until cfg.Duration has passed or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	c := &client{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}, base: strings.TrimRight(cfg.URL, "/")}
	var res Result
	token := func() (string, error) {
		m, err := c.call(ctx, http.MethodGet, "/gettoken", url.Values{"appkey": {cfg.AppKey}, "appsecret": {cfg.AppSecret}}, nil)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(m["access_token"]), nil
	}
	tok, err := token()
	if err != nil {
		return res, err
	}
	var mu sync.Mutex
	var groups []string
	create := func(n int64) error {
		members := []string{cfg.Users[0]}
		for _, i := range rand.Perm(len(cfg.Users) - 1)[:min(5, len(cfg.Users)-1)] {
			members = append(members, cfg.Users[i+1])
		}
		m, err := c.call(ctx, http.MethodPost, "/chat/create", url.Values{"access_token": {tok}},
			map[string]any{"name": fmt.Sprintf("浸泡群%d", n), "owner": cfg.Users[0], "useridlist": members})
		if err != nil {
			return err
		}
		mu.Lock()
		groups = append(groups, fmt.Sprint(m["chatid"]))
		if len(groups) > 64 { // traffic moves on to newer groups, as real use does
			groups = groups[1:]
		}
		mu.Unlock()
		return nil
	}
	pick := func() string {
		mu.Lock()
		defer mu.Unlock()
		return groups[rand.IntN(len(groups))]
	}
	if err := create(0); err != nil {
		return res, err
	}
	ops := []struct {
		weight int
		fn     func(n int64) error
	}{
		{60, func(n int64) error {
			_, err := c.call(ctx, http.MethodPost, "/chat/send", url.Values{"access_token": {tok}},
				map[string]any{"chatid": pick(), "msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": "浸泡消息 " + strconv.FormatInt(n, 10)}}})
			return err
		}},
		{25, func(n int64) error {
			_, err := c.call(ctx, http.MethodGet, "/chat/get", url.Values{"access_token": {tok}, "chatid": {pick()}}, nil)
			return err
		}},
		{10, create},
		{5, func(n int64) error {
			t, err := token()
			if err == nil && t != tok {
				err = fmt.Errorf("gettoken answered a new token within its lifetime")
			}
			return err
		}},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var seq, errs atomic.Int64
	var first atomic.Value
	work := make(chan int64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				w := rand.IntN(total)
				for _, o := range ops {
					if w < o.weight {
						if err := o.fn(n); err != nil && ctx.Err() == nil {
							errs.Add(1)
							first.CompareAndSwap(nil, err.Error())
						}
						break
					}
					w -= o.weight
				}
			}
		}()
	}
	tick := time.NewTicker(time.Second / time.Duration(max(cfg.Rate, 1)))
	sample := time.NewTicker(cfg.Every)
	takeSample := func() {
		s, err := scrape(ctx, c, cfg.AdminToken)
		if err != nil {
			errs.Add(1)
			first.CompareAndSwap(nil, "metrics: "+err.Error())
			return
		}
		s.At, s.Requests, s.Errors = time.Since(start).Round(time.Second), seq.Load(), errs.Load()
		res.Samples = append(res.Samples, s)
		if cfg.Out != nil {
			fmt.Fprintf(cfg.Out, "%8s requests %8d errors %3d goroutines %4.0f heap %6.1f MiB rss %6.1f MiB\n",
				s.At, s.Requests, s.Errors, s.Goroutines, s.HeapBytes/(1<<20), s.RSSBytes/(1<<20))
		}
	}
	takeSample()
loop:
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			select {
			case work <- seq.Add(1):
			default: // the server is behind: skip rather than pile up
			}
		case <-sample.C:
			takeSample()
		}
	}
	close(work)
	wg.Wait()
	takeSample()
	res.Requests, res.Errors = seq.Load(), errs.Load()
	if f, ok := first.Load().(string); ok {
		res.FirstError = f
	}
	return res, nil
}

// scrape reads the few series a soak watches from /_dingchat/metrics.
func scrape(ctx context.Context, c *client, admin string) (Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_dingchat/metrics", nil)
	if err != nil {
		return Sample{}, err
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := c.http.Do(req)
	if err != nil {
		return Sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var s Sample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			s.Goroutines = v
		case "go_memstats_heap_inuse_bytes":
			s.HeapBytes = v
		case "process_resident_memory_bytes":
			s.RSSBytes = v
		}
	}
	return s, sc.Err()
}
