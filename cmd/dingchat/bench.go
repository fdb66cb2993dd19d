package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/bench"
)

// runBench is `dingchat bench`: realistic traffic against a running server.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	cfg := bench.Config{Progress: stderr}
	var users string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server to drive (env DINGCHAT_BENCH_URL)")
	fs.StringVar(&cfg.AppKey, "app-key", "", "app key of an app with chat scopes (env DINGCHAT_BENCH_APP_KEY)")
	fs.StringVar(&cfg.AppSecret, "app-secret", "", "its secret (env DINGCHAT_BENCH_APP_SECRET)")
	fs.StringVar(&cfg.Scenario, "scenario", bench.ScenarioSend, "send (chat/send into one group), create (chat/create) or get (chat/get) (env DINGCHAT_BENCH_SCENARIO)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "requests in flight (env DINGCHAT_BENCH_CONCURRENCY)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to drive (env DINGCHAT_BENCH_DURATION)")
	fs.IntVar(&cfg.Members, "members", 10, "members of the group send and get use (env DINGCHAT_BENCH_MEMBERS)")
	fs.StringVar(&users, "users", "", "comma-separated userids to build groups from, owner first; default the demo organisation's 50 (env DINGCHAT_BENCH_USERS)")
	for _, name := range []string{"url", "app-key", "app-secret", "scenario", "concurrency", "duration", "members", "users"} {
		env := "DINGCHAT_BENCH_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				fmt.Fprintf(stderr, "dingchat bench: %s=%q: %v\n", env, v, err)
				return 2
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.AppKey == "" || cfg.AppSecret == "" {
		fmt.Fprintln(stderr, "dingchat bench: --app-key and --app-secret are required (the serve banner prints the demo app's)")
		return 2
	}
	if users != "" {
		cfg.Users = strings.Split(users, ",")
	}
	r, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat bench:", err)
		return 1
	}
	fmt.Fprintln(stdout, r)
	if r.Errors > 0 {
		fmt.Fprintln(stdout, "first error:", r.FirstError)
		return 1
	}
	return 0
}
