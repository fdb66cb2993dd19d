package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
)

// maxCached bounds the statements a connection keeps; the store's queries
// are fixed texts, so only queries built for a list's length go past it.
const maxCached = 512

// connector opens connections that keep every statement they run prepared,
// keyed by its text. database/sql parses the text of tx.Exec and tx.Query
// on every call (a sixth of a send's CPU went to SQLite's parser); with the
// cache each text is parsed once per connection, without each call site
// having to prepare, so the writer's transactions get it as well.
type connector struct {
	dsn string
	drv driver.Driver
	// onRollback, when set, is called whenever SQLite rolls a whole
	// transaction of a connection back, by a ROLLBACK or on its own after
	// an error (I/O, disk full, RAISE(ROLLBACK)); never for a savepoint or
	// a single failed statement.
	onRollback func()
	connects   atomic.Int64 // connections opened: a new one starts data_version afresh
}

// sqliteDriver is the driver registered as "sqlite", which carries the
// functions this package registers.
var sqliteDriver = func() driver.Driver {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	return db.Driver()
}()

func newConnector(dsn string) *connector { return &connector{dsn: dsn, drv: sqliteDriver} }

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	inner, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if c.onRollback != nil {
		h, ok := inner.(interface {
			RegisterRollbackHook(sqlite.RollbackHookFn)
		})
		if !ok {
			inner.Close()
			return nil, errors.New("sqlite driver has no rollback hook")
		}
		h.RegisterRollbackHook(c.onRollback)
	}
	c.connects.Add(1)
	return &cachingConn{Conn: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

type cachedStmt struct {
	st   driver.Stmt
	busy bool // rows of it are open: a second use gets a statement of its own
}

type cachingConn struct {
	driver.Conn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

// stmt returns the statement for query and a release to call once its
// result is consumed.
func (c *cachingConn) stmt(ctx context.Context, query string) (driver.Stmt, func() error, error) {
	c.mu.Lock()
	cs := c.stmts[query]
	if cs != nil && !cs.busy {
		cs.busy = true
		c.mu.Unlock()
		return cs.st, func() error { c.mu.Lock(); cs.busy = false; c.mu.Unlock(); return nil }, nil
	}
	c.mu.Unlock()
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs == nil && len(c.stmts) < maxCached && c.stmts[query] == nil {
		cs = &cachedStmt{st: st, busy: true}
		c.stmts[query] = cs
		return st, func() error { c.mu.Lock(); cs.busy = false; c.mu.Unlock(); return nil }, nil
	}
	return st, st.Close, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, errors.Join(err, release())
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: release}, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

// Close finalizes the cached statements before the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.st.Close())
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return errors.Join(append(errs, c.Conn.Close())...)
}

// releasingRows hands its statement back when closed.
type releasingRows struct {
	driver.Rows
	once    sync.Once
	release func() error
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(func() { err = errors.Join(err, r.release()) })
	return err
}
