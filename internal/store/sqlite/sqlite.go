// Package sqlite implements ding.Store on an embedded SQLite file.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/knownusers"
	"modernc.org/sqlite" // registers the "sqlite" driver
)

// dingchat_sha256 lets a migration hash the secrets it finds in plaintext.
func init() {
	err := sqlite.RegisterDeterministicScalarFunction("dingchat_sha256", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return ding.SecretHash(v), nil
		case []byte:
			return ding.SecretHash(string(v)), nil
		case nil:
			return nil, nil
		}
		return nil, fmt.Errorf("dingchat_sha256: want text, got %T", args[0])
	})
	if err != nil {
		panic(err)
	}
}

var _ ding.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many queued writes share one transaction.
const maxBatch = 256

// Store is ding.Store on SQLite. All writes go through one writer goroutine
// that commits queued writes together (group commit); reads use a pool.
type Store struct {
	path  string
	read  *sql.DB
	write *sql.DB
	ckpt  *checkpointer
	stmts sync.Map // query text → *sql.Stmt on read

	reqs   chan *writeReq
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once

	// failed holds the error of a commit that did not succeed. After it the
	// outcome of that commit is unknown (an fsync that fails may still have
	// written the WAL), so no further write is acknowledged until the store
	// is reopened: the same fail-fast PostgreSQL applies to itself.
	failed atomic.Pointer[ding.Error]
	hooks  atomic.Pointer[commitHooks]

	versions versions
	// batchMu is held around each batch, by the writer goroutine or by a
	// caller committing its own write (queue); see also checkpointer. The
	// fields marked "batch's" belong to whoever holds it.
	batchMu sync.Mutex
	pending []versionPub // batch's: version changes of the batch being written
	evCorps []string     // batch's: corps whose event logs its writes appended to
	// told after each commit that appended events; see OnEvents
	onEvents ding.EventListeners
	// idle: the writer goroutine waits for work. A write that then finds
	// nothing queued commits on its caller's goroutine instead of waking
	// the writer and being woken by it: two hand-offs between threads,
	// which on an idle machine cost more than the work.
	idle atomic.Bool

	kept keptGroups // batch's: groups' rows and next numbers, see kept.go
	// users are the user ids creates found. They are forgotten, moving the
	// generation, by DeleteCorp and Reset inside their transaction
	// (movedAll) and again once it committed, so that a check that read the
	// file before the commit cannot put back what was deleted; and by a
	// batch that finds the file changed behind the writer (kept.check). A
	// create that skipped the read checks again inside its own transaction
	// when the generation moved after it looked (CreateGroup).
	users     knownusers.Set
	userReads atomic.Int64 // creates' checks that read the file (tests)
	// batch's: a write of the batch removed users (movedAll)
	usersGone bool
	// batch's: groups in member_chats_pending, about, and whether their
	// merge is queued (memberchats.go)
	pendingChats int
	mergeQueued  bool
	// the writer's connector: how many connections it opened
	writeConns *connector
	// rolledBack is set by SQLite's rollback hook on the writer's
	// connection: the transaction of the batch is gone, whatever the
	// statement that failed said.
	rolledBack atomic.Bool
}

// commitHooks are optional callbacks around each commit, set before use.
type commitHooks struct {
	observe func(batch int, took time.Duration, err error) // metrics
	fault   func() error                                   // tests: fails a commit after it happened
}

type writeReq struct {
	fn  func(tx *sql.Tx) error
	err chan error
	// single: fn changes the file with at most one statement, its last
	// step, so it needs no savepoint of its own. SQLite undoes a statement
	// that fails by itself; a failure that takes the whole transaction with
	// it is seen by the rollback hook.
	single bool
}

// Options are the choices Open leaves to the operator.
type Options struct {
	// SyncNormal commits without syncing the log (SQLite's synchronous=NORMAL
	// in WAL mode): a commit is in the operating system's cache when it is
	// answered, so it survives the process being killed, not a power loss or
	// a crash of the machine. Checkpoints still sync. The default syncs the
	// log on every commit.
	SyncNormal bool
}

// Open opens (creating if needed) the database file at path and migrates it.
func Open(path string) (*Store, error) { return OpenOptions(path, Options{}) }

// OpenOptions is Open with the operator's choices.
func OpenOptions(path string, opts Options) (*Store, error) {
	q := url.Values{}
	// WAL: readers never block the writer and a commit is one sequential append.
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: fsync the WAL on every commit, so an acknowledged write survives power loss.
	if opts.SyncNormal {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	// Foreign keys are off by default in SQLite; the schema relies on them.
	q.Add("_pragma", "foreign_keys(1)")
	// Wait instead of failing when a checkpoint or another process holds the lock.
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	// Each write runs in a savepoint, whose undo pages SQLite otherwise
	// writes to a temporary file (a sixth of chat/create's CPU went to those
	// writes); they only serve a rollback inside the transaction, never
	// crash recovery, which the WAL does.
	q.Add("_pragma", "temp_store(MEMORY)")
	// When the log starts again after a checkpoint, cut the file back.
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walKeepBytes))
	dsn := "file:" + path + "?" + q.Encode()
	if err := createPrivate(path); err != nil {
		return nil, err
	}

	s := &Store{path: path, reqs: make(chan *writeReq, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	// the checkpointer copies the WAL into the file, not the writer's commits
	wc := newConnector(dsn + "&_txlock=immediate&" + url.Values{"_pragma": {"wal_autocheckpoint(0)"}}.Encode())
	wc.onRollback = func() { s.rolledBack.Store(true) }
	s.writeConns = wc
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1) // the single writer
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := w.QueryRow(`SELECT COUNT(*) FROM member_chats_pending`).Scan(&s.pendingChats); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r := sql.OpenDB(newConnector(dsn + "&" + url.Values{"_pragma": {"query_only(1)"}}.Encode()))
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	cp := sql.OpenDB(newConnector(dsn))
	cp.SetMaxOpenConns(1)
	cp.SetMaxIdleConns(1)
	s.read, s.write = r, w
	s.ckpt = startCheckpointer(cp, &s.batchMu, path)
	go s.loop()
	return s, nil
}

// Close drains queued writes and closes the database.
func (s *Store) Close() error {
	s.closed.Do(func() { close(s.stop) })
	<-s.done
	// a caller's own commit that began before the stop ends before the
	// file closes; one after it finds the store closing
	s.batchMu.Lock()
	s.batchMu.Unlock()
	s.closeStatements()
	cerr := s.ckpt.close()
	return errors.Join(cerr, s.read.Close(), s.write.Close())
}

// Ping reports whether the store can read and commit a write: it reads, and
// rewrites the one row of health_probe, which touches the WAL and fsyncs it
// as every write does.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return translate(err, "store")
	}
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, time.Now().UnixMilli())
		return translate(err, "health probe")
	})
}

// ObserveCommits has f called after each commit with the number of writes
// it carried, how long it took and its error.
func (s *Store) ObserveCommits(f func(batch int, took time.Duration, err error)) {
	h := commitHooks{}
	if old := s.hooks.Load(); old != nil {
		h = *old
	}
	h.observe = f
	s.hooks.Store(&h)
}

// InjectCommitFault is for tests: f runs after each commit, and when it
// returns an error the commit is treated as failed, as it is when the fsync
// of a commit fails after the WAL was written.
func (s *Store) InjectCommitFault(f func() error) {
	h := commitHooks{}
	if old := s.hooks.Load(); old != nil {
		h = *old
	}
	h.fault = f
	s.hooks.Store(&h)
}

// WriteFailure is the error that stopped the store accepting writes, nil while it
// accepts them.
func (s *Store) WriteFailure() error {
	if e := s.failed.Load(); e != nil {
		return e
	}
	return nil
}

// createPrivate creates the database file readable by its owner alone (it
// holds app secrets), and narrows an existing one and its WAL companions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

func migrate(db *sql.DB) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s','now'))`, v); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// do queues fn for the writer and waits for the commit that includes it.
// Once queued, the outcome is awaited even if ctx ends, so a caller never
// reports failure for a write that committed.
func (s *Store) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.queue(ctx, &writeReq{fn: fn})
}

// doSingle is do for a write whose one change to the file is a single
// statement, run last: it runs without a savepoint.
func (s *Store) doSingle(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.queue(ctx, &writeReq{fn: fn, single: true})
}

func (s *Store) queue(ctx context.Context, req *writeReq) error {
	if err := s.WriteFailure(); err != nil {
		return err
	}
	req.err = make(chan error, 1)
	if s.idle.Load() && len(s.reqs) == 0 && s.batchMu.TryLock() {
		select {
		case <-s.stop: // closing: the queue answers
			s.batchMu.Unlock()
		default:
			s.commitLocked([]*writeReq{req})
			s.batchMu.Unlock()
			return <-req.err
		}
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return &ding.Error{Kind: ding.Unavailable, Message: "request cancelled", Err: ctx.Err()}
	case <-s.stop:
		return &ding.Error{Kind: ding.Unavailable, Message: "store is closing"}
	}
	select {
	case err := <-req.err:
		return err
	case <-s.done:
		// the writer has stopped: it answered req if it took it, otherwise
		// req was queued after the final drain and never ran
		select {
		case err := <-req.err:
			return err
		default:
			return &ding.Error{Kind: ding.Unavailable, Message: "store is closing"}
		}
	}
}

func (s *Store) loop() {
	defer close(s.done)
	for {
		var first *writeReq
		s.idle.Store(true)
		select {
		case first = <-s.reqs:
		case <-s.stop:
			// answer whatever is still queued, then stop
			for {
				select {
				case r := <-s.reqs:
					s.commit([]*writeReq{r})
				default:
					return
				}
			}
		}
		s.idle.Store(false)
		// the batch is drained under the lock: what queued while a caller
		// committed its own write goes in this one
		s.batchMu.Lock()
		batch := []*writeReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitLocked(batch)
		s.batchMu.Unlock()
	}
}

// commit runs a batch in one transaction. A write of several statements has
// its own savepoint so that it rolls back alone when it fails; a single one
// needs none (see writeReq). A failure that rolls the whole transaction back
// fails every write of the batch.
func (s *Store) commit(batch []*writeReq) {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	s.commitLocked(batch)
}

// commitLocked is commit with batchMu held.
func (s *Store) commitLocked(batch []*writeReq) {
	if err := s.WriteFailure(); err != nil {
		for _, r := range batch {
			r.err <- err
		}
		return
	}
	start := time.Now()
	hooks := s.hooks.Load()
	errs := make([]error, len(batch))
	s.pending = s.pending[:0]
	s.evCorps = s.evCorps[:0]
	s.ckpt.restartIfOverdue(s.write)
	s.rolledBack.Store(false)
	tx, err := s.write.Begin()
	if err != nil {
		for _, r := range batch {
			r.err <- translate(err, "transaction")
		}
		return
	}
	s.usersGone = false
	if s.kept.check(tx, s.writeConns.connects.Load()) {
		s.users.Forget()
	}
	for i, r := range batch {
		mark, evMark := len(s.pending), len(s.evCorps)
		if r.single {
			if err := runSafely(r.fn, tx); err != nil {
				errs[i] = err
				s.pending = s.pending[:mark]
				s.evCorps = s.evCorps[:evMark]
			}
		} else if _, err := tx.Exec(`SAVEPOINT w`); err != nil {
			errs[i] = translate(err, "savepoint")
		} else {
			if err := runSafely(r.fn, tx); err != nil {
				errs[i] = err
				s.pending = s.pending[:mark] // rolled back: nothing to publish
				s.evCorps = s.evCorps[:evMark]
				if _, rerr := tx.Exec(`ROLLBACK TO w`); rerr != nil {
					s.abort(tx, batch, errs, translate(rerr, "rollback"))
					return
				}
			}
			if _, err := tx.Exec(`RELEASE w`); err != nil && errs[i] == nil {
				errs[i] = translate(err, "savepoint")
			}
		}
		if s.rolledBack.Load() {
			// SQLite ended the transaction itself (an I/O error, a full
			// disk): the writes before this one are gone with it
			s.abort(tx, batch, errs, &ding.Error{Kind: ding.Unavailable, Message: "storage unavailable: the transaction was rolled back", Err: errs[i]})
			return
		}
	}
	err = tx.Commit()
	if err == nil && hooks != nil && hooks.fault != nil {
		err = hooks.fault()
	}
	if err == nil {
		if s.usersGone {
			s.users.Forget() // again: no check that read the file before the commit may add what it removed
		}
		s.versions.publish(s.pending)
		s.tellEvents()
	} else {
		// the commit may or may not have happened: read versions and
		// groups from the file again
		s.versions.clear()
		s.kept.clear()
		cerr := s.fail(err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = cerr
			}
		}
	}
	if hooks != nil && hooks.observe != nil {
		hooks.observe(len(batch), time.Since(start), err)
	}
	for i, r := range batch {
		r.err <- errs[i]
	}
	if err == nil {
		s.ckpt.committed()
	}
}

// abort rolls the batch's transaction back, when SQLite has not already,
// and answers every write that has no error of its own with cause: nothing
// of the batch is in the file.
func (s *Store) abort(tx *sql.Tx, batch []*writeReq, errs []error, cause error) {
	tx.Rollback()
	s.kept.clear() // it may hold rows and numbers of writes now undone
	for i, r := range batch {
		if errs[i] == nil {
			errs[i] = cause
		}
		r.err <- errs[i]
	}
}

// fail records a failed commit and returns the error every write answers
// from now on.
func (s *Store) fail(err error) error {
	e := &ding.Error{Kind: ding.Unavailable, Message: "a commit failed and its outcome is unknown; writes are refused until dingchat restarts", Err: err}
	s.failed.CompareAndSwap(nil, e)
	return s.failed.Load()
}

func runSafely(fn func(tx *sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ding.Error{Kind: ding.Internal, Err: fmt.Errorf("panic in write: %v", p)}
		}
	}()
	return fn(tx)
}
