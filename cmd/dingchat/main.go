// Command dingchat serves DingTalk's group conversation API.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `dingchat serves DingTalk's group conversation API.

Usage:
  dingchat serve [flags]   start the server (dingchat serve -h lists the flags)
  dingchat bench [flags]   drive a running server and report throughput and latency
  dingchat backup --to FILE [--data DIR]     copy a running SQLite store and its blobs into one archive
  dingchat restore --from FILE [--data DIR] put an archive back into an empty data directory
  dingchat migrate --from sqlite:PATH --to postgres://…   move a stopped SQLite store into an empty PostgreSQL schema
  dingchat soak [flags]    drive a running server for a long time at a bounded rate; sample its memory
  dingchat version         print the version
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // the first signal starts the graceful stop
		<-sigs
		// an operator who asks twice wants out now; every acknowledged write
		// is already committed, so nothing is lost by not waiting
		fmt.Fprintln(os.Stderr, "dingchat: second signal: exiting without waiting for requests in flight")
		os.Exit(1)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		m, err := Open(args[1:], getenv, stdout, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "dingchat:", err)
			return 1
		}
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "dingchat:", err)
			return 1
		}
		return 0
	case "bench":
		return runBench(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "soak":
		return runSoak(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "dingchat", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "dingchat: unknown command %q\n\n%s", args[0], usage)
	return 2
}
