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
