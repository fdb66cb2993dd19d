package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

// A failed commit stops the store taking writes, with an Unavailable error
// that names the cause; reopening the file (a restart) starts clean.
func TestFailedCommitIsSticky(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	fail := true
	st.InjectCommitFault(func() error {
		if fail {
			fail = false
			return syscall.EIO
		}
		return nil
	})
	set := func(v string) error { _, err := st.Setting(ctx, "fault-"+v, v); return err }
	if err := set("a"); !ding.IsKind(err, ding.Unavailable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("write at the fault = %v, want Unavailable wrapping EIO", err)
	}
	if err := set("b"); !ding.IsKind(err, ding.Unavailable) {
		t.Fatalf("write after the fault = %v, want Unavailable", err)
	}
	if err := st.Ping(ctx); err == nil || st.WriteFailure() == nil {
		t.Fatalf("Ping after the fault = %v, Failed = %v; want both to report it", err, st.WriteFailure())
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st = open(t, path)
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping after reopening: %v", err)
	}
	// a was committed before its fsync "failed"; b never reached the writer
	if v, err := st.Setting(ctx, "fault-b", "unset"); err != nil || v != "unset" {
		t.Fatalf("write refused after the fault was stored: %q, %v", v, err)
	}
}
