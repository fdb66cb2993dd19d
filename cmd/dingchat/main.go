// Command dingchat serves DingTalk's group conversation API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `dingchat serves DingTalk's group conversation API.

Usage:
  dingchat serve [flags]       start the server (dingchat serve -h lists the flags)
  dingchat bench [flags]       drive a running server and report throughput and latency
  dingchat org check FILE      check an organisation file without starting anything
  dingchat backup --to FILE    copy a running SQLite store and its blobs into one archive (--data DIR)
  dingchat restore --from FILE put a backup back into an empty data directory (--data DIR)
  dingchat migrate --from sqlite:PATH --to postgres://…
                               move a stopped SQLite store into an empty PostgreSQL schema
  dingchat soak [flags]        drive a running server for a long time at a bounded rate
  dingchat health [flags]      ask a running server whether it is healthy (a container's health check)
  dingchat version             print the version and the source revision (also --version)
  dingchat help                print this help (also -h, --help)
`

// version is set at build time with -ldflags "-X main.version=…"; without
// it the module version and VCS revision come from the build info.
var version = ""

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
		serverGC(getenv)
		m, err := Open(args[1:], getenv, stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	case "org":
		return runOrg(args[1:], stdout, stderr)
	case "health":
		return runHealth(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version", "-v":
		if len(args) > 1 && isHelp(args[1]) {
			fmt.Fprint(stdout, "Usage: dingchat version\n\nprints the module version and the source revision it was built from.\n")
			return 0
		}
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, "dingchat", versionString(info))
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "dingchat: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// wantsHelp reports whether flags ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			return true
		}
	}
	return false
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// versionString is the module version and the VCS revision the binary was
// built from ("(devel)" for a build inside the source tree).
func versionString(info *debug.BuildInfo) string {
	v := version
	if v == "" {
		v = "(devel)"
		if info != nil && info.Main.Version != "" {
			v = info.Main.Version
		}
	}
	if info == nil {
		return v
	}
	var rev, when, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " with uncommitted changes"
			}
		}
	}
	if rev != "" {
		v += " revision " + rev
		if when != "" {
			v += " (" + when + ")"
		}
		v += dirty
	}
	return v + " " + info.GoVersion
}

// serveGCPercent is the server's GOGC unless the environment sets one. A
// request allocates its parse and answer and keeps nothing, so the live
// heap is small and the default (100) collects several times a second
// under load; see docs/performance.md, change 35, for the CPU and RSS.
const serveGCPercent = 300

func serverGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
