package dingtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeBot writes a script that stands in for the bot: its first run says
// it started and dies with stderr, its next runs say so and print n=2.
func fakeBot(t *testing.T, stderr string) {
	t.Helper()
	sdkOnce.Do(func() {}) // the real bot is not built
	dir := t.TempDir()
	script := filepath.Join(dir, "bot")
	mark := filepath.Join(dir, "ran")
	body := "#!/bin/sh\nif [ ! -e " + mark + " ]; then touch " + mark + "; echo '{\"started\":\"yes\"}'; printf '%s\\n' '" + stderr + "' >&2; exit 2; fi\n" +
		"echo '{\"started\":\"yes\"}'; echo '{\"n\":2}'; exec sleep 30\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	old := sdkBin
	sdkBin = script
	t.Cleanup(func() { sdkBin = old })
}

// The SDK's own race ends the bot's process; the bot is started again and
// goes on collecting lines.
func TestSDKBotStartsAgainAfterTheSDKRace(t *testing.T) {
	fakeBot(t, "panic: runtime error: invalid memory address or nil pointer dereference\n"+
		"github.com/open-dingtalk/dingtalk-stream-sdk-go/client.(*StreamClient).processLoop.func6()")
	b := StartSDKBot(t, "http://127.0.0.1:1", "k", "s", "")
	b.Wait(func(m map[string]any) bool { return m["n"] == 2.0 }, 10*time.Second)
	if n := b.Restarts(); n != 1 {
		t.Fatalf("started again %d times, want 1", n)
	}
	b.Stop()
	b.Stop() // twice is harmless
}

// Any other death is the test's to see: the bot is not started again.
func TestSDKBotOtherDeathsStay(t *testing.T) {
	fakeBot(t, "panic: something else")
	b := StartSDKBot(t, "http://127.0.0.1:1", "k", "s", "")
	time.Sleep(500 * time.Millisecond)
	if n := b.Restarts(); n != 0 || len(b.Matching(func(m map[string]any) bool { return m["n"] == 2.0 })) != 0 {
		t.Fatalf("started again %d times after another panic", n)
	}
}
