package dingtest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	sdkOnce sync.Once
	sdkBin  string
	sdkErr  error
)

// moduleRoot is the directory of this module's go.mod.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// SDKBot is a running internal/dingtest/streamsdk: the official Go Stream
// SDK in a process of its own.
type SDKBot struct {
	t        testing.TB
	args     []string
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has been waited for
	stopped  bool
	restarts int
	lines    []map[string]any
	errb     strings.Builder
}

// StartSDKBot builds (once per test binary, without the race detector:
// the SDK races with itself) and starts the SDK bot against host for an
// app; later names an event type to answer LATER once. It is stopped at
// cleanup; Stop stops it before.
func StartSDKBot(t testing.TB, host, key, secret, later string) *SDKBot {
	t.Helper()
	sdkOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dingchat-streamsdk-")
		if err != nil {
			sdkErr = err
			return
		}
		sdkBin = filepath.Join(dir, "streamsdk")
		build := exec.Command("go", "build", "-o", sdkBin, "./internal/dingtest/streamsdk")
		build.Dir = moduleRoot()
		if out, err := build.CombinedOutput(); err != nil {
			sdkErr = &buildError{err: err, out: string(out)}
		}
	})
	if sdkErr != nil {
		t.Fatalf("build the Stream SDK bot: %v", sdkErr)
	}
	b := &SDKBot{t: t, args: []string{"-host", host, "-key", key, "-secret", secret, "-later", later}}
	if err := b.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	b.Wait(func(m map[string]any) bool { return m["started"] == "yes" }, 30*time.Second)
	return b
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// start runs the bot's process and, when the SDK's own race ends it,
// runs it again (see sdkRace).
func (b *SDKBot) start() error {
	cmd := exec.Command(sdkBin, b.args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.errb}
	exited := make(chan struct{})
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return nil
	}
	from := b.errb.Len()
	err = cmd.Start()
	if err == nil {
		b.cmd, b.exited = cmd, exited
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				b.mu.Lock()
				b.lines = append(b.lines, m)
				b.mu.Unlock()
			}
		}
		cmd.Wait()
		close(exited)
		b.mu.Lock()
		again := !b.stopped && sdkRace(b.errb.String()[from:])
		if again {
			b.restarts++
			b.errb.WriteString("\n[the SDK's own race ended the bot; started again]\n")
		}
		b.mu.Unlock()
		if again {
			if err := b.start(); err != nil {
				b.mu.Lock()
				b.errb.WriteString("[could not start the bot again: " + err.Error() + "]\n")
				b.mu.Unlock()
			}
		}
	}()
	return nil
}

// sdkRace tells the SDK's own race (v0.9.1) from its stderr: told to
// disconnect, it sets its connection to nil while its reader goroutine
// goes on reading it, and the process dies of the nil dereference.
// DingTalk sends the same SYSTEM disconnect, so the SDK's users meet this
// too; a new process picks up from the app's cursor, which is what the
// tests check of DingChat.
func sdkRace(stderr string) bool {
	return strings.Contains(stderr, "nil pointer dereference") &&
		strings.Contains(stderr, "dingtalk-stream-sdk-go/client.(*StreamClient).processLoop")
}

// Restarts is how many times the SDK's own race ended the bot.
func (b *SDKBot) Restarts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.restarts
}

// Stop kills the bot.
func (b *SDKBot) Stop() {
	b.mu.Lock()
	b.stopped = true
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		<-exited
	}
}

// Stderr is what the bot wrote to its standard error so far: the SDK's
// panics, and the Go runtime's word when it died of one.
func (b *SDKBot) Stderr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errb.String()
}

// Lines is everything the bot printed so far.
func (b *SDKBot) Lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.lines...)
}

// Matching lists the lines match accepts.
func (b *SDKBot) Matching(match func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, l := range b.Lines() {
		if match(l) {
			out = append(out, l)
		}
	}
	return out
}

// Wait waits up to within for a line match accepts and returns it.
func (b *SDKBot) Wait(match func(map[string]any) bool, within time.Duration) map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := b.Matching(match); len(m) > 0 {
			return m[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.mu.Lock()
	errs := b.errb.String()
	b.mu.Unlock()
	b.t.Fatalf("the SDK bot printed no matching line; printed %v; stderr:\n%s", b.Lines(), errs)
	return nil
}

// WaitN waits for n lines match accepts.
func (b *SDKBot) WaitN(match func(map[string]any) bool, n int, within time.Duration) []map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := b.Matching(match); len(m) >= n {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.t.Fatalf("the SDK bot printed %d matching lines, want %d; printed %v", len(b.Matching(match)), n, b.Lines())
	return nil
}
