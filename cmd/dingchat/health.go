package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealth is `dingchat health`: a container's health check, which has no
// curl to call. It exits 0 when the server answers its health path with 200.
func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	addr := getenv("DINGCHAT_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	url := fs.String("url", "", "health URL to ask (default: http://ADDR/_dingchat/health with ADDR from --addr or DINGCHAT_ADDR)")
	fs.StringVar(&addr, "addr", addr, "address the server listens on (env DINGCHAT_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: dingchat health [flags]\n\nasks a running server whether it is healthy; exits 0 when it is, 1 when not.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" {
		host := addr
		// a server listening on every interface is asked on loopback
		if strings.HasPrefix(host, "0.0.0.0:") || strings.HasPrefix(host, ":") || strings.HasPrefix(host, "[::]:") {
			host = "127.0.0.1:" + host[strings.LastIndex(host, ":")+1:]
		}
		*url = "http://" + host + "/_dingchat/health"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat health:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat health:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "dingchat health: %s answered %d %s\n", *url, resp.StatusCode, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
	return 0
}
