package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/bench"
	"github.com/dingchat/dingchat/internal/soak"
)

// runSoak is `dingchat soak`: a long, bounded run of mixed traffic that
// samples the server's goroutines and memory.
func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := soak.Config{Out: stdout}
	var users string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server to drive")
	fs.StringVar(&cfg.AppKey, "app-key", "", "app key of an app with chat scopes")
	fs.StringVar(&cfg.AppSecret, "app-secret", "", "its secret")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "the server's admin token, to read its metrics")
	fs.IntVar(&cfg.Rate, "rate", 50, "requests a second (send 60%, chat/get 25%, chat/create 10%, gettoken 5%)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Minute, "how long to drive")
	fs.DurationVar(&cfg.Every, "every", time.Minute, "how often to sample the metrics")
	fs.StringVar(&users, "users", "", "comma-separated userids, owner first; default the demo organisation's")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.AppKey == "" || cfg.AppSecret == "" || cfg.AdminToken == "" {
		fmt.Fprintln(stderr, "dingchat soak: --app-key, --app-secret and --admin-token are required")
		return 2
	}
	cfg.Users = bench.DemoUsers()
	if users != "" {
		cfg.Users = strings.Split(users, ",")
	}
	r, err := soak.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat soak:", err)
		return 1
	}
	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	fmt.Fprintf(stdout, "soak: %d requests, %d errors; goroutines %.0f → %.0f, heap %.1f → %.1f MiB, rss %.1f → %.1f MiB\n",
		r.Requests, r.Errors, first.Goroutines, last.Goroutines, first.HeapBytes/(1<<20), last.HeapBytes/(1<<20),
		first.RSSBytes/(1<<20), last.RSSBytes/(1<<20))
	if r.Errors > 0 {
		fmt.Fprintln(stdout, "first error:", r.FirstError)
		return 1
	}
	return 0
}
