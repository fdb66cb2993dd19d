package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// Readers that always overlap keep a passive checkpoint from ever letting
// the log start again; the checkpointer still bounds the WAL.
func TestWALBoundedUnderOverlappingReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	const bound = 64
	st.LowerWALBound(bound)
	dingtest.Seed(t, st)

	// two readers, each holding a read transaction open, taking turns so that
	// one is always open
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 3 * time.Millisecond)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := st.HoldRead(ctx, 6*time.Millisecond); err != nil {
					t.Errorf("read: %v", err)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	// writes without a pause, so that some reader always holds a snapshot
	// older than the log's end
	most := int64(0)
	for i := 0; i < 500; i++ {
		if err := st.PutSetting(ctx, fmt.Sprintf("wal-%d", i), fmt.Sprintf("%0500d", i)); err != nil {
			t.Fatal(err)
		}
		if f, _, _, _ := st.WALFrames(); f > most {
			most = f
		}
	}
	_, grown, step, restarts := st.WALFrames()
	// past the bound the writer restarts the log before its next batch, so
	// it never holds more than the bound and what the writer appends in two
	// steps of the checkpointer (the log may be just under the bound at one)
	if most > bound+2*step {
		t.Fatalf("the log reached %d frames; bound %d + 2 × at most %d appended between two checkpoints", most, bound, step)
	}
	// the load passed the bound again and again: the restarts held the log
	if restarts < 2 || grown < 4*bound {
		t.Fatalf("%d frames appended, %d restarts: the load did not reach the bound", grown, restarts)
	}
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if max := (bound + 2*step) * (4096 + 24); info.Size() > max {
		t.Fatalf("WAL file %d bytes, want at most %d", info.Size(), max)
	}
}

// Closing the store copies the whole log into the database file.
func TestWALEmptyAfterClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > 0 {
		t.Fatalf("WAL holds %d bytes after Close", info.Size())
	}
	st = open(t, path)
	if n, err := st.CountCorps(ctx); err != nil || n != 2 {
		t.Fatalf("CountCorps after reopening = %d, %v; want 2", n, err)
	}
}

// A slow stream of writes is not copied after every few commits: a
// checkpoint costs fsyncs the commits beside it wait for. The log is copied
// once it holds enough frames, or once writes pause.
func TestCheckpointWaitsForFrames(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	st.SetCopyAt(1000, 20*time.Millisecond)
	waitCopied(t, st)

	st.SetCopyAt(1000, time.Hour)
	before, _ := st.Checkpoints()
	for i := 0; i < 20; i++ {
		if err := st.PutSetting(ctx, fmt.Sprintf("slow-%d", i), "v"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	runs, left := st.Checkpoints()
	if runs != before || left < 20 {
		t.Fatalf("after 20 writes of a few frames: %d checkpoints, %d frames not copied; want none and ≥ 20", runs-before, left)
	}

	// the pause copies them
	st.SetCopyAt(1000, 20*time.Millisecond)
	if err := st.PutSetting(ctx, "last", "v"); err != nil {
		t.Fatal(err)
	}
	waitCopied(t, st)
}

// Under steady writes the log is copied whenever it holds copyAt frames.
func TestCheckpointCopiesAtFrames(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	st.SetCopyAt(40, time.Hour) // only the log's size starts a checkpoint
	before, _ := st.Checkpoints()
	// writes for five times the least spacing of two checkpoints: a count
	// of writes would be done within one spacing on a fast machine
	start := time.Now()
	n := 0
	for ; time.Since(start) < 5*sqlite.CheckpointEvery; n++ {
		if err := st.PutSetting(ctx, fmt.Sprintf("steady-%d", n), fmt.Sprintf("%0500d", n)); err != nil {
			t.Fatal(err)
		}
	}
	if runs, _ := st.Checkpoints(); runs-before < 2 {
		t.Fatalf("%d checkpoints while %d writes appended frames past 40 again and again", runs-before, n)
	}
}

func waitCopied(t *testing.T, st interface{ Checkpoints() (int64, int64) }) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, left := st.Checkpoints()
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames still not copied 10 s after writes paused", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
