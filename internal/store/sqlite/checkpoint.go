package sqlite

import (
	"database/sql"
	"errors"
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
	// checkpointEvery is the least time between two passive checkpoints
	// while writes come in: pages written again within it are copied once.
	checkpointEvery = 100 * time.Millisecond
	// walRestartFrames bounds the WAL: when readers keep a passive
	// checkpoint from ever catching up and the log reaches this many
	// frames, the writer itself runs a RESTART checkpoint between two
	// batches, which waits for those readers, so that its next write starts
	// the log again from its beginning. (Run on another connection, RESTART
	// holds the write lock while it waits, and a write can time out.)
	walRestartFrames = 16384
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

	restartAt atomic.Int64 // walRestartFrames; tests lower it
	overdue   atomic.Bool  // the log passed restartAt: the writer restarts it

	// for tests: frames in the log after the last checkpoint, frames
	// appended in all and at most between two checkpoints, restarts
	lastLog, grown, mostGrown, restarts atomic.Int64
}

func startCheckpointer(db *sql.DB, writer *sync.Mutex) *checkpointer {
	c := &checkpointer{db: db, writer: writer, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.restartAt.Store(walRestartFrames)
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		log, err := c.checkpoint(c.db, "PASSIVE")
		if err == nil {
			c.writer.Lock()
			log, err = c.checkpoint(c.db, "PASSIVE")
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
	}
}

// restartIfOverdue runs on the writer's connection, outside a transaction.
func (c *checkpointer) restartIfOverdue(w *sql.DB) {
	if c.overdue.CompareAndSwap(true, false) {
		c.restarts.Add(1)
		c.checkpoint(w, "RESTART") // when busy, the next passive checkpoint asks again
	}
}

func (c *checkpointer) checkpoint(db *sql.DB, mode string) (int64, error) {
	var busy, log, done int64
	if err := db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done); err != nil {
		return 0, err
	}
	if log < 0 {
		return log, nil // busy: another checkpoint runs
	}
	g := log
	if prev := c.lastLog.Swap(log); log >= prev {
		g = log - prev // else the log started again
	}
	c.grown.Add(g)
	if g > c.mostGrown.Load() {
		c.mostGrown.Store(g)
	}
	return log, nil
}

// close stops the goroutine and copies the whole log into the database
// file, leaving the WAL empty.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		_, c.err = c.checkpoint(c.db, "TRUNCATE")
		c.err = errors.Join(c.err, c.db.Close())
	})
	return c.err
}
