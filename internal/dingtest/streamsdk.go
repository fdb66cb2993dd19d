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
	t     testing.TB
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []map[string]any
	errb  strings.Builder
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
	b := &SDKBot{t: t, cmd: exec.Command(sdkBin, "-host", host, "-key", key, "-secret", secret, "-later", later)}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.errb}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
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
	}()
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

// Stop kills the bot.
func (b *SDKBot) Stop() {
	if b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
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
