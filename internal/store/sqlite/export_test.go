package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WriterPragma reads a pragma on the writer connection, inside the writer.
func (s *Store) WriterPragma(name string) (string, error) {
	var v string
	err := s.do(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow("PRAGMA " + name).Scan(&v)
	})
	return v, err
}

// ReaderPragmas reads a pragma on n distinct reader connections held at once.
func (s *Store) ReaderPragmas(name string, n int) ([]string, error) {
	ctx := context.Background()
	var out []string
	for i := 0; i < n; i++ {
		c, err := s.read.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		var v string
		if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			return nil, fmt.Errorf("conn %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// AppliedMigrations lists schema_migrations as version → applied_at.
func (s *Store) AppliedMigrations() (map[int]int64, error) {
	rows, err := s.read.Query(`SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			return nil, err
		}
		if _, dup := out[v]; dup {
			return nil, fmt.Errorf("version %d recorded twice", v)
		}
		out[v] = at
	}
	return out, rows.Err()
}

// MigrationFiles counts the embedded migrations.
func MigrationFiles() (int, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	return len(names), err
}

// MigrateBefore creates the SQLite file at path with the migrations
// numbered below n: the store as a release before migration n left it.
func MigrateBefore(path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, "migrations/"), "_", 2)[0])
		if err != nil {
			return err
		}
		if v >= n {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := db.Exec(string(body)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 0)`, v); err != nil {
			return err
		}
	}
	return nil
}

// KeptVersion is the group's version as kept in memory, if it is.
func (s *Store) KeptVersion(chatID string) (corp string, version int64, ok bool) {
	k, _, ok := s.versions.lookup(chatID)
	return k.corp, k.version, ok
}

// FileVersion reads the group's version from the file, past the memory.
func (s *Store) FileVersion(chatID string) (int64, error) {
	var v int64
	err := s.read.QueryRow(`SELECT version FROM chats WHERE chat_id = ?`, chatID).Scan(&v)
	return v, err
}

// BumpVersionThenFail moves the group's version inside the writer and then
// fails, so the write is rolled back to its savepoint. The writer is held
// until it and alongside (each making one write) are queued, so that they
// share one batch.
func (s *Store) BumpVersionThenFail(corpID, chatID string, alongside ...func()) error {
	ctx := context.Background()
	release, blocked := s.holdWriter()
	failed := make(chan error, 1)
	go func() {
		failed <- s.do(ctx, func(tx *sql.Tx) error {
			var v int64
			if err := tx.QueryRow(`UPDATE chats SET version = version + 1 WHERE chat_id = ? RETURNING version`, chatID).Scan(&v); err != nil {
				return err
			}
			s.moved(corpID, chatID, v)
			return errors.New("fails after moving the version")
		})
	}()
	for len(s.reqs) < 1 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for _, f := range alongside {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	for len(s.reqs) < 1+len(alongside) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-blocked; err != nil {
		return err
	}
	return <-failed
}

// LowerWALBound sets the frames past which the checkpointer restarts the
// log, and copies the log from a quarter of that; call it before writing.
func (s *Store) LowerWALBound(frames int64) {
	s.ckpt.restartAt.Store(frames)
	s.ckpt.copyAt.Store(frames / 4)
}

// SetCopyAt sets the frames not yet copied at which the checkpointer copies
// the log, and the pause in writes after which it copies whatever is left.
func (s *Store) SetCopyAt(frames int64, idle time.Duration) {
	s.ckpt.copyAt.Store(frames)
	s.ckpt.idleAfter.Store(int64(idle))
	s.ckpt.poke() // an idle timer already set takes the new pause
}

// Checkpoints is how many checkpoints the checkpointer has run, and the
// frames of the log not yet copied into the database file.
func (s *Store) Checkpoints() (runs, uncopied int64) {
	n, _ := s.ckpt.uncopied()
	return s.ckpt.runs.Load(), n
}

// WALFrames is the frames in the log after the last checkpoint, the frames
// appended in all and at most between two checkpoints, and how many
// restarts the writer tried and how many of them finished.
func (s *Store) WALFrames() (frames, grown, mostGrown, restarts, restarted int64) {
	c := s.ckpt
	return c.lastLog.Load(), c.grown.Load(), c.mostGrown.Load(), c.restarts.Load(), c.restarted.Load()
}

// RestartWait is how long the writer's restart of the log waits for readers.
const RestartWait = restartWait

// HoldRead keeps a read transaction open on one reader connection for d.
func (s *Store) HoldRead(ctx context.Context, d time.Duration) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
		return err
	}
	time.Sleep(d)
	return nil
}

// KeptReads is how many groups' rows the writer has read from the file
// to keep them.
func (s *Store) KeptReads() (int64, error) {
	var n int64
	err := s.do(context.Background(), func(*sql.Tx) error { n = s.kept.reads; return nil })
	return n, err
}

// holdWriter has the writer goroutine run a write that waits until release
// is closed; blocked answers it. The write is queued, never committed on
// the caller's goroutine, so that while it waits the writer takes nothing
// more from the queue.
func (s *Store) holdWriter() (release chan struct{}, blocked chan error) {
	held, release := make(chan struct{}), make(chan struct{})
	hold := &writeReq{fn: func(*sql.Tx) error { close(held); <-release; return nil }, err: make(chan error, 1)}
	s.reqs <- hold
	<-held
	return release, hold.err
}

// InOneBatch runs each of writes (each making one write) in a goroutine of
// its own, queued in the order given while the writer is held, so that
// they share one batch in that order.
func (s *Store) InOneBatch(writes ...func()) error {
	release, blocked := s.holdWriter()
	var wg sync.WaitGroup
	for i, f := range writes {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
		for len(s.reqs) < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	wg.Wait()
	return <-blocked
}

// CheckpointEvery is the least time between two checkpoints.
const CheckpointEvery = checkpointEvery

// ReadRowForTest runs a one-row query on a reader.
func (s *Store) ReadRowForTest(query string, dest ...any) error {
	return s.read.QueryRowContext(context.Background(), query).Scan(dest...)
}

// SetMergeAt sets how many pending groups queue a merge, until the test ends.
func SetMergeAt(n int) (restore func()) {
	old := mergeAt
	mergeAt = n
	return func() { mergeAt = old }
}

// LoseMergeRequest marks a merge as queued when none is, as a batch rolled
// back by SQLite leaves it.
func (s *Store) LoseMergeRequest() error {
	return s.do(context.Background(), func(*sql.Tx) error {
		s.mergeQueued = true
		return nil
	})
}

// UserReads counts the creates' checks of their users that read the file.
func (s *Store) UserReads() int64 { return s.userReads.Load() }
