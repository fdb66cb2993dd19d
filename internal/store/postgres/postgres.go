// Package postgres implements ding.Store on PostgreSQL 15+ through pgx.
//
// Several dingchat processes may share one database. Nothing that must hold
// across them is kept in memory: a group's member cap and owner rule hold
// because an update locks the group's row before it reads the members; a
// group's message numbers come from a counter on that row; a corp's event
// numbers from a counter row written in the same transaction as the events;
// and an app's token is issued under an advisory lock on the app.
package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/knownusers"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ ding.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// lockClass is the first key of every advisory lock this package takes, so
// its locks never collide with another program's on the same database.
const lockClass = 0x64696e67 // "ding"

// Second keys of advisory locks, hashed together with a name.
const (
	lockMigrate  = "migrate:"   // + schema
	lockToken    = "token:"     // + app key
	lockJoinCode = "join code:" // + chat id, newline, sharer
)

// maxAttempts bounds how often a transaction is tried when PostgreSQL
// aborts it for a deadlock or a serialization failure.
const maxAttempts = 5

// writeTimeout bounds a commit that no longer follows the caller's context.
const writeTimeout = 30 * time.Second

// Store is ding.Store on PostgreSQL. Each method is one transaction on a
// pooled connection; statements travel in pipelined batches, so a method
// costs one round trip, or two when Go code must decide between reading and
// writing.
type Store struct {
	pool      *pgxpool.Pool
	closed    atomic.Bool
	closeOnce sync.Once
	observe   atomic.Pointer[func(batch int, took time.Duration, err error)]
	lastFail  atomic.Pointer[failure]
	sends     sendQueue
	creates   createQueue
	pages     commitQueue[*pageReq]
	channel   atomic.Pointer[string] // of head notices, once known
	versions  versions
	onEvents  ding.EventListeners // told of this node's commits that appended events
	users     knownusers.Set      // staff members creates found, by removal stamp (createbatch.go)
	userReads atomic.Int64        // creates whose check read every staff member (tests)
}

// failure is a write that could not reach the database.
type failure struct {
	at  time.Time
	err error
}

// recentFailure is how long a write failure counts as the store's state.
const recentFailure = time.Second

// WriteFailure is the error of a write that failed for want of the database
// within the last second, nil otherwise: PostgreSQL recovers by itself, so
// this is the store's recent past, not a verdict.
func (s *Store) WriteFailure() error {
	if f := s.lastFail.Load(); f != nil && time.Since(f.at) < recentFailure {
		return f.err
	}
	return nil
}

// PoolStats counts the pool's connections: open (including those being
// set up), idle and in use.
func (s *Store) PoolStats() (open, idle, inUse int32) {
	st := s.pool.Stat()
	return st.TotalConns(), st.IdleConns(), st.AcquiredConns()
}

// ObserveCommits has f called after each write transaction with the
// number of writes it carried (the sends or creates of a group commit, 1
// for any other), how long it took and its error.
func (s *Store) ObserveCommits(f func(batch int, took time.Duration, err error)) { s.observe.Store(&f) }

// Open connects to the database at url (postgres://…), migrates it and
// returns the store. Tables live in the first schema of the connection's
// search_path, which the URL may set (…?search_path=name).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// the pool keeps pgx's default size (the greater of 4 and the number of
	// CPUs) unless the URL sets pool_max_conns: on 2 cores, 16 connections
	// served 18-29% fewer sends and creates a second than 4 (more backends competing
	// for the same cores and the same row locks)
	// Plan each statement for its own arguments. pgx prepares statements once
	// per connection, and PostgreSQL then settles on a generic plan chosen
	// when the tables were small: on a grown database the group lookup by
	// chatid took 6-7 ms instead of 0.1 ms and every request slowed tenfold.
	// (A send batch, whose joins are all on primary keys, takes a generic
	// plan for its own transaction: sendbatch.go.)
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerArrays(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s := &Store{pool: pool}
	s.versions.ttl = versionTTL
	s.startSenders()
	s.startCreators()
	s.startPageReaders()
	return s, nil
}

// Close waits for the transactions in flight and closes the pool; later
// calls answer Unavailable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.sends.close() // queued sends and creates are written first
		s.creates.close()
		s.pages.close()
		s.versions.close()
		s.closed.Store(true)
		s.pool.Close()
	})
	return nil
}

// Ping reports whether the database can commit a write: it rewrites the one
// row of health_probe (a read-only or full database fails here).
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	return s.batch(ctx, "health probe", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, time.Now().UnixMilli())
	})
}

var errClosed = &ding.Error{Kind: ding.Unavailable, Message: "store is closed"}

func migrationVersion(name string) (int, error) {
	base := strings.TrimPrefix(name, "migrations/")
	v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("migration %s: name must start with a number", name)
	}
	return v, nil
}

// migrate applies the embedded migrations not yet recorded, all in one
// transaction under an advisory lock per schema: nodes starting together on
// one schema take turns (the later ones find nothing left to do), while
// throwaway schemas of parallel tests never wait on each other.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errors.New("no schema to create tables in: the search_path names none that exists")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, lockMigrate+*schema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	for _, name := range names {
		v, err := migrationVersion(name)
		if err != nil {
			return err
		}
		if done[v] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		// no arguments: the simple protocol, which runs a file of statements
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// txn is one transaction on one connection whose statements travel in
// batches. Without an explicit BEGIN a batch is its own implicit
// transaction (pgx sends it with one Sync); when Go code must look at what a
// first batch read before writing, BEGIN rides with that batch and COMMIT
// with the last one.
type txn struct {
	conn  *pgx.Conn
	begun bool
	ended bool
}

// read sends b inside the transaction, beginning it with this batch when it
// is the first.
func (t *txn) read(ctx context.Context, b *pgx.Batch) error {
	if !t.begun {
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, b.QueuedQueries...)
		t.begun = true
	}
	return t.conn.SendBatch(ctx, b).Close()
}

var errRolledBack = errors.New("transaction rolled back at commit")

// commit sends b as the transaction's last batch and commits it. The commit
// does not follow the caller's context: once sent, its outcome is awaited, so
// a caller never reports failure for a write that committed.
func (t *txn) commit(ctx context.Context, b *pgx.Batch) error {
	t.ended = true
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if !t.begun {
		return t.conn.SendBatch(wctx, b).Close() // one batch: its own implicit transaction
	}
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return errRolledBack
		}
		return nil
	})
	return t.conn.SendBatch(wctx, b).Close()
}

// tx runs fn as one transaction and retries it when PostgreSQL aborts it for
// a deadlock or serialization failure; fn may therefore run more than once.
// fn ends with t.commit, or returns without writing (the transaction is then
// rolled back). Errors are translated; what names the subject.
func (s *Store) tx(ctx context.Context, what string, fn func(t *txn) error) error {
	return s.txOf(ctx, what, 1, fn)
}

// txOf is tx for a group commit: writes is how many callers' writes the
// transaction carries, as the commit metrics count them.
func (s *Store) txOf(ctx context.Context, what string, writes int, fn func(t *txn) error) (err error) {
	start := time.Now()
	defer func() {
		if err != nil && ding.IsKind(err, ding.Unavailable) && !s.closed.Load() {
			s.lastFail.Store(&failure{time.Now(), err})
		}
		if f := s.observe.Load(); f != nil {
			(*f)(writes, time.Since(start), err)
		}
	}()
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, fn)
		if err == nil {
			return nil
		}
		var v verdict
		if errors.As(err, &v) {
			return v.err
		}
		if attempt < maxAttempts && retryable(err) && ctx.Err() == nil {
			// jittered backoff so that the transactions that collided do not collide again
			time.Sleep(time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(4)))
			continue
		}
		return translate(err, what)
	}
}

// verdict carries an error of the caller's decide or check function out of
// a transaction untouched: it is returned as is, never translated or retried.
type verdict struct{ err error }

func (v verdict) Error() string { return v.err.Error() }

func (s *Store) try(ctx context.Context, fn func(t *txn) error) error {
	if s.closed.Load() {
		return errClosed
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		if s.closed.Load() {
			return errClosed
		}
		return err
	}
	defer c.Release()
	t := &txn{conn: c.Conn()}
	err = fn(t)
	if st := c.Conn().PgConn().TxStatus(); st != 'I' {
		// a transaction left open (fn returned early) or failed: end it
		// before the connection goes back to the pool
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, rerr := c.Conn().Exec(rctx, "ROLLBACK"); rerr != nil {
			c.Conn().Close(rctx)
		}
		cancel()
	}
	return err
}

// batch runs the statements build queues as one implicit transaction.
func (s *Store) batch(ctx context.Context, what string, build func(b *pgx.Batch)) error {
	return s.batchOf(ctx, what, 1, build)
}

// batchOf is batch for a group commit carrying writes callers' writes.
func (s *Store) batchOf(ctx context.Context, what string, writes int, build func(b *pgx.Batch)) error {
	return s.txOf(ctx, what, writes, func(t *txn) error {
		b := &pgx.Batch{}
		build(b)
		return t.commit(ctx, b)
	})
}

// querier is what reads need of a pool or a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// q is the pool for reads, or an error-only querier once the store is closed.
func (s *Store) q() querier {
	if s.closed.Load() {
		return closedQuerier{}
	}
	return s.pool
}

type closedQuerier struct{}

func (closedQuerier) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errClosed }
func (closedQuerier) QueryRow(context.Context, string, ...any) pgx.Row        { return errRow{} }

type errRow struct{}

func (errRow) Scan(...any) error { return errClosed }

// collect reads rows with scan; no rows is a nil slice, as in the SQLite
// store (it matters where a list is encoded as JSON).
func collect[T any](rows pgx.Rows, err error, what string, scan func(pgx.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, translate(err, what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(err, what)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err(), what)
}

// MigrationsDigest is a short hash of the embedded migrations: schemas
// migrated by the same set share it. Test wiring names reusable schemas
// after it.
func MigrationsDigest() string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		body, _ := migrations.ReadFile(name)
		fmt.Fprintf(h, "%s %d\n", name, len(body))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}
