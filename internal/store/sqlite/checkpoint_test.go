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

// walUnderReaders writes 1500 settings without a pause while two readers
// take turns holding read transactions of 6 ms, pausing gap after each, and
// reports the most frames the log held, the frames appended between two
// checkpoints at most, all frames appended, the restarts tried and
// finished, and the slowest write. The readers have stopped when it
// returns the store.
type walRun struct {
	most, step, grown, tried, restarted int64
	slowest                             time.Duration
	walBytes                            int64
}

func walUnderReaders(t *testing.T, bound int64, gap time.Duration) (walRun, *sqlite.Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	st.LowerWALBound(bound)
	dingtest.Seed(t, st)
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
				time.Sleep(gap)
			}
		}()
	}
	var r walRun
	for i := 0; i < 1500; i++ {
		start := time.Now()
		if err := st.PutSetting(ctx, fmt.Sprintf("wal-%d", i), fmt.Sprintf("%0500d", i)); err != nil {
			t.Fatal(err)
		}
		r.slowest = max(r.slowest, time.Since(start))
		if f, _, _, _, _ := st.WALFrames(); f > r.most {
			r.most = f
		}
	}
	close(stop)
	wg.Wait()
	_, r.grown, r.step, r.tried, r.restarted = st.WALFrames()
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	r.walBytes = info.Size()
	t.Logf("log at most %d frames (bound %d), %d appended between two checkpoints at most, %d in all; restarts %d of %d tried; slowest write %v",
		r.most, bound, r.step, r.grown, r.restarted, r.tried, r.slowest)
	return r, st, path
}

// Readers that overlap without a gap keep any checkpoint from copying the
// whole log (SQLite's checkpoint starvation), so past its bound the
// writer's restart of the log (TRUNCATE) may not finish while they last.
// It waits for them briefly and tries again 50 ms later: waiting the whole
// busy timeout, as it once did, held every write 10 s and failed all the
// same. Once the readers let go, the log starts again.
func TestWALBoundedUnderOverlappingReaders(t *testing.T) {
	ctx := context.Background()
	const bound = 64
	r, st, path := walUnderReaders(t, bound, 0)
	if r.slowest > time.Second {
		t.Errorf("a write took %v: the log's restart held the writer", r.slowest)
	}
	for i := 0; ; i++ {
		if err := st.PutSetting(ctx, fmt.Sprintf("after-%d", i), "x"); err != nil {
			t.Fatal(err)
		}
		_, _, _, _, restarted := st.WALFrames()
		info, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if restarted > r.restarted && info.Size() < r.walBytes/2+(bound+1)*(4096+24) {
			break // truncated, and written again from the start
		}
		if i == 500 {
			t.Fatalf("readers gone, 500 writes later: %d restarts (%d before), WAL file %d bytes (%d before)", restarted, r.restarted, info.Size(), r.walBytes)
		}
		time.Sleep(time.Millisecond)
	}
}

// Readers that leave the log a moment now and then let the first restart
// finish: the log never holds more than its bound and what the writer
// appends in two steps of the checkpointer.
func TestWALBoundedUnderPausingReaders(t *testing.T) {
	const bound = 64
	// both readers pause together for a few ms in every 16: with 2 ms
	// pauses 3 ms apart they never did, restarts finished only as the
	// scheduler's delays happened to fall (22 of 29 in a loaded run), and
	// two failing in a row passed the bound
	r, _, _ := walUnderReaders(t, bound, 10*time.Millisecond)
	if r.most > bound+2*r.step {
		t.Errorf("the log reached %d frames; bound %d + 2 × at most %d appended between two checkpoints", r.most, bound, r.step)
	}
	if r.restarted < 2 || r.grown < 4*bound {
		t.Errorf("%d frames appended, %d restarts: the load did not reach the bound", r.grown, r.restarted)
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
