package sqlite

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold, so the writer (and every write queued behind it) waited for
// pages to be copied into the database file: 14 % of chat/create's CPU.
// The writer's connection has it off (wal_autocheckpoint(0)); a goroutine
// on a connection of its own copies them instead, while the writer goes on
// appending to the WAL.
const (
	// copyFrames is how many frames the log holds, not yet copied into the
	// database file, before the checkpointer copies them (SQLite's own
	// automatic threshold). A checkpoint costs two fsyncs, and the write
	// after it one more (the log's new header): run after every few commits,
	// as a timer did, that tripled the fsyncs of a slow stream of sends.
	copyFrames = 1000
	// copyIdle: once writes pause this long, what the log holds is copied
	// whatever its size, so an idle store's log is folded in.
	copyIdle = time.Second
	// checkpointEvery is the least time between two checkpoints.
	checkpointEvery = 100 * time.Millisecond
	// walRestartFrames bounds the WAL: when readers keep a passive
	// checkpoint from ever catching up and the log reaches this many
	// frames, the writer itself runs a RESTART checkpoint between two
	// batches, which waits for those readers, so that its next write starts
	// the log again from its beginning. (Run on another connection, RESTART
	// holds the write lock while it waits, and a write can time out.)
	walRestartFrames = 16384
	// restartWait is how long the writer's RESTART waits for readers, and
	// restartRetry how soon it tries again when they did not let go.
	// RESTART waits through the busy handler, and readers that keep
	// coming kept it waiting the whole busy timeout (10 s), every write
	// queued behind it; so the log may outgrow its bound by what is
	// written between tries, and a write waits restartWait at most.
	restartWait  = 20 * time.Millisecond
	restartRetry = 50 * time.Millisecond
	// busyTimeout is how long a connection waits for a lock another holds.
	busyTimeout = 10 * time.Second
	// walKeepBytes is what the WAL file is cut back to when the log starts
	// again (journal_size_limit), so one burst does not keep it large.
	walKeepBytes = 16 << 20
)

type checkpointer struct {
	db *sql.DB
	// writer is held by the writer around each batch. The log starts again
	// only at a write that finds every frame copied, which under steady
	// writes a checkpoint running beside the writer never leaves; so the
	// checkpointer copies the bulk beside the writer, then holds it only
	// while it copies the few frames appended meanwhile.
	writer *sync.Mutex
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	err    error

	shm       *os.File     // the wal-index, read for the log's size
	copyAt    atomic.Int64 // copyFrames; tests change it
	idleAfter atomic.Int64 // copyIdle in ns; tests change it
	restartAt atomic.Int64 // walRestartFrames; tests lower it
	overdue   atomic.Bool  // the log passed restartAt: the writer restarts it
	retryAt   atomic.Int64 // unix ns before which the writer does not try again
	// armed: the checkpointer's idle timer runs for frames not yet copied;
	// until it is, a commit wakes the checkpointer to set it
	armed      atomic.Bool
	lastCommit atomic.Int64 // unix ns

	// for tests: frames in the log after the last checkpoint, frames
	// appended in all and at most between two checkpoints, restarts
	lastLog, grown, mostGrown, restarts, runs, restarted atomic.Int64
}

func startCheckpointer(db *sql.DB, writer *sync.Mutex, path string) *checkpointer {
	c := &checkpointer{db: db, writer: writer, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.copyAt.Store(copyFrames)
	c.idleAfter.Store(int64(copyIdle))
	c.restartAt.Store(walRestartFrames)
	// the writer's connection has created it; without it every commit
	// counts as enough to copy
	c.shm, _ = os.Open(path + "-shm")
	go c.loop()
	return c
}

// committed runs on the writer after each commit, once the writes are
// answered. It reads the log's size itself, a read of the wal-index file, so
// that most commits wake no other goroutine; it never blocks.
func (c *checkpointer) committed() {
	c.lastCommit.Store(time.Now().UnixNano())
	if n, ok := c.uncopied(); !ok || n >= c.copyAt.Load() || !c.armed.Swap(true) {
		c.poke()
	}
}

func (c *checkpointer) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTimer(0)
	<-t.C
	idle := time.NewTimer(0)
	<-idle.C
	// rearm waits for the next pause in writes when frames are left to copy;
	// the flag goes down before the look, so a commit in between re-arms it
	rearm := func() {
		c.armed.Store(false)
		if n, ok := c.uncopied(); !ok || n > 0 {
			c.armed.Store(true)
			idle.Reset(time.Duration(c.idleAfter.Load()))
		}
	}
	for {
		select {
		case <-c.kick:
		case <-idle.C:
		case <-c.stop:
			return
		}
		if n, ok := c.uncopied(); ok && n < c.copyAt.Load() {
			if n == 0 {
				rearm()
				continue
			}
			// copy once writes have paused for idleAfter
			since := time.Duration(time.Now().UnixNano() - c.lastCommit.Load())
			if wait := time.Duration(c.idleAfter.Load()) - since; wait > 0 {
				idle.Reset(wait)
				continue
			}
		}
		c.runs.Add(1)
		_, log, err := c.checkpoint(c.db, "PASSIVE")
		if err == nil {
			c.writer.Lock()
			_, log, err = c.checkpoint(c.db, "PASSIVE")
			c.writer.Unlock()
		}
		if err == nil && log >= c.restartAt.Load() {
			c.overdue.Store(true)
		}
		t.Reset(checkpointEvery)
		select {
		case <-t.C:
		case <-c.stop:
			t.Stop()
			return
		}
		rearm()
	}
}

// uncopied reads the frames of the log not yet copied into the database
// file from the wal-index header (https://www.sqlite.org/walformat.html):
// mxFrame at byte 16, nBackfill at byte 96, in the machine's byte order.
// It reads without SQLite's locks, so a value may be torn by a concurrent
// write; it only decides when to copy, and the next commit looks again.
func (c *checkpointer) uncopied() (int64, bool) {
	if c.shm == nil {
		return 0, false
	}
	var b [100]byte
	if n, err := c.shm.ReadAt(b[:], 0); n < len(b) || (err != nil && err != io.EOF) {
		return 0, false
	}
	mx := int64(binary.NativeEndian.Uint32(b[16:]))
	done := int64(binary.NativeEndian.Uint32(b[96:]))
	if done > mx {
		return mx, true // the log started again
	}
	return mx - done, true
}

// restartIfOverdue runs on the writer's connection, outside a transaction.
func (c *checkpointer) restartIfOverdue(w *sql.DB) {
	if !c.overdue.Load() || time.Now().UnixNano() < c.retryAt.Load() {
		return
	}
	c.restarts.Add(1)
	if _, err := w.Exec(`PRAGMA busy_timeout = ` + strconv.FormatInt(restartWait.Milliseconds(), 10)); err != nil {
		return
	}
	busy, _, err := c.checkpoint(w, "TRUNCATE")
	if _, rerr := w.Exec(`PRAGMA busy_timeout = ` + strconv.FormatInt(busyTimeout.Milliseconds(), 10)); rerr != nil {
		err = rerr
	}
	if err == nil && !busy {
		c.overdue.Store(false)
		c.restarted.Add(1)
		return
	}
	c.retryAt.Store(time.Now().Add(restartRetry).UnixNano())
}

// checkpoint runs one checkpoint in mode; busy when it could not finish
// (another checkpoint runs, or readers kept frames or the log in use).
func (c *checkpointer) checkpoint(db *sql.DB, mode string) (bool, int64, error) {
	var busy, log, done int64
	if err := db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done); err != nil {
		return false, 0, err
	}
	if log < 0 {
		return true, log, nil // another checkpoint runs
	}
	g := log
	if prev := c.lastLog.Swap(log); log >= prev {
		g = log - prev // else the log started again
	}
	c.grown.Add(g)
	if g > c.mostGrown.Load() {
		c.mostGrown.Store(g)
	}
	return busy != 0, log, nil
}

// close stops the goroutine and copies the whole log into the database
// file, leaving the WAL empty.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		_, _, c.err = c.checkpoint(c.db, "TRUNCATE")
		c.err = errors.Join(c.err, c.db.Close())
		if c.shm != nil {
			c.shm.Close()
		}
	})
	return c.err
}
