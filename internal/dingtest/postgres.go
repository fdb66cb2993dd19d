package dingtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The environment that points tests at PostgreSQL.
const (
	// PostgresEnv holds the URL of a database tests may create schemas in;
	// without it PostgreSQL tests skip.
	PostgresEnv = "DINGCHAT_TEST_POSTGRES"
	// StoreEnv chooses the store of OpenStore and of the end-to-end tests:
	// "sqlite" (the default) or "postgres".
	StoreEnv = "DINGCHAT_TEST_STORE"
)

// Postgres reports whether tests that can run on either store should run on
// PostgreSQL. Asking for it without a database is a mistake, not a skip.
func Postgres(t testing.TB) bool {
	t.Helper()
	switch v := os.Getenv(StoreEnv); v {
	case "", "sqlite":
		return false
	case "postgres":
		if os.Getenv(PostgresEnv) == "" {
			t.Fatalf("%s=postgres needs %s, the URL of a PostgreSQL database", StoreEnv, PostgresEnv)
		}
		return true
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", StoreEnv, v)
		return false
	}
}

// PostgresURL is the database of PostgreSQL tests; it skips t when none is set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		t.Skip(PostgresEnv + " not set: skipping PostgreSQL")
	}
	return u
}

var (
	adminOnce sync.Once
	admin     *pgxpool.Pool
	adminErr  error
)

// adminPool is a small pool on the test database, shared by the tests of one
// binary, that creates and drops their schemas.
func adminPool(t testing.TB, base string) *pgxpool.Pool {
	t.Helper()
	adminOnce.Do(func() {
		cfg, err := pgxpool.ParseConfig(base)
		if err != nil {
			adminErr = err
			return
		}
		cfg.MaxConns = 2
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, adminErr = pgxpool.NewWithConfig(ctx, cfg)
		if adminErr == nil {
			adminErr = admin.Ping(ctx)
		}
	})
	if adminErr != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), adminErr)
	}
	return admin
}

// PostgresSchema creates an empty schema t_<random> for t, drops it (and
// everything in it) at cleanup, and returns the database URL with its
// search_path set to the schema and at most maxConns connections per pool:
// tests run in parallel against one server. It skips t when
// DINGCHAT_TEST_POSTGRES is not set.
func PostgresSchema(t testing.TB, maxConns int) string {
	t.Helper()
	base := PostgresURL(t)
	pool := adminPool(t, base)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParams(base, map[string]string{"search_path": schema, "pool_max_conns": strconv.Itoa(maxConns)})
}

// WithParams sets connection parameters of a PostgreSQL URL (postgres://…)
// or keyword/value string.
func WithParams(base string, params map[string]string) string {
	if u, err := url.Parse(base); err == nil && u.Scheme != "" {
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		base += " " + k + "=" + v
	}
	return strings.TrimSpace(base)
}

// redact hides a password in a URL for messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Reusable schemas. Creating a schema's tables and dropping them again costs
// 0.4–0.6 s on this machine kind (each of some eighty tables, indexes and
// TOAST relations is a file created and unlinked), and connecting costs tens
// of milliseconds under the race detector, so the tests that merely need a
// store (service, surface, end-to-end) borrow schemas tp_<migrations
// digest>_<n>. A schema is held through a session advisory lock on a
// connection of the test process, so no other process touches it; when a
// test ends the process keeps schema and connection for its next test. A
// schema left by a test that died is reset by the next one to borrow it;
// schemas of other migration sets are dropped when found unused.
//
// A borrowed schema is reset to what a fresh schema holds after the test's
// seed (see ClaimSeeded): every table emptied, and the seeded tables copied
// from a template schema tp_<digest>_x<random> that this process migrated
// and seeded through the store once. A seeded table no test changed since
// the last copy is left as it is: every row of it still carries the copying
// transaction's xmin and the count is the template's, and any insert, update
// or delete would have written a row with a later xmin or changed the count.

// schemaLockClass keys the advisory locks of borrowed schemas and templates.
const schemaLockClass = 0x64747374 // "dtst"

var sweepOnce sync.Once

// lease is a borrowed schema with the connection that holds its lock.
type lease struct {
	conn   *pgx.Conn
	schema string
	seed   string           // key of the seed the last reset copied
	copies map[string]xcopy // seeded table → its last copy
}

// xcopy is one copy of a template table: the transaction that wrote it and
// the number of rows.
type xcopy struct {
	xid  string
	rows int64
}

// layout is the tables of a migrated schema, children before the tables
// they reference, and each table's parents; the same for every schema of
// this process's migrations.
type layout struct {
	tables  []string
	parents map[string][]string
}

// template is a migrated schema holding a seed.
type template struct {
	schema string
	rows   map[string]int64 // tables the seed fills → rows
}

var (
	leaseMu sync.Mutex
	leases  []*lease // free, most recently used last

	layoutOnce sync.Once
	theLayout  *layout
	layoutErr  error

	templateMu sync.Mutex
	templates  = map[string]*template{} // seed key → template
	holder     *pgx.Conn                // holds the templates' locks
)

// ClaimSchema borrows an empty, migrated schema for t, released at cleanup,
// and returns the database URL with its search_path set to it and at most
// maxConns connections per pool. It skips t when DINGCHAT_TEST_POSTGRES is not
// set.
func ClaimSchema(t testing.TB, maxConns int) string {
	t.Helper()
	return ClaimSeeded(t, maxConns, nil)
}

// ClaimSeeded is ClaimSchema with the schema holding seed (nil: nothing).
func ClaimSeeded(t testing.TB, maxConns int, seed *SeedSet) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	prefix := "tp_" + postgres.MigrationsDigest() + "_"
	sweepOnce.Do(func() { sweep(t, base, prefix) })
	var tpl *template
	key := ""
	if seed != nil {
		var orgs []*ding.Org
		orgs, key = seed.load(t)
		tpl = seedTemplate(t, base, prefix, key, orgs)
	}
	l := borrow(t, base, prefix)
	lay := schemaLayout(t, l)
	if err := reset(ctx, l, lay, tpl, key); err != nil {
		l.conn.Close(ctx)
		t.Fatalf("reset schema %s: %v", l.schema, err)
	}
	t.Cleanup(func() { giveBack(l) })
	return WithParams(base, map[string]string{"search_path": l.schema, "pool_max_conns": strconv.Itoa(maxConns)})
}

// borrow takes a free lease of this process, or locks a schema no process
// holds, creating and migrating it when new.
func borrow(t testing.TB, base, prefix string) *lease {
	t.Helper()
	leaseMu.Lock()
	for len(leases) > 0 {
		l := leases[len(leases)-1]
		leases = leases[:len(leases)-1]
		if !l.conn.IsClosed() {
			leaseMu.Unlock()
			return l
		}
	}
	leaseMu.Unlock()
	ctx := context.Background()
	// the lock lives as long as this connection
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), err)
	}
	var schema string
	for n := 0; ; n++ {
		name := prefix + strconv.Itoa(n)
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, schemaLockClass, name).Scan(&got); err != nil {
			conn.Close(ctx)
			t.Fatalf("lock schema %s: %v", name, err)
		}
		if got {
			schema = name
			break
		}
	}
	if err := migrateSchema(ctx, conn, base, schema); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	return &lease{conn: conn, schema: schema}
}

// migrateSchema creates schema if needed and migrates it through the store:
// a new schema gets its tables, a used one is found up to date.
func migrateSchema(ctx context.Context, conn *pgx.Conn, base, schema string) error {
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %v", schema, err)
	}
	st, err := postgres.Open(ctx, WithParams(base, map[string]string{"search_path": schema, "pool_max_conns": "1"}))
	if err != nil {
		return fmt.Errorf("migrate schema %s: %v", schema, err)
	}
	st.Close()
	return nil
}

// giveBack returns l for this process's next test.
func giveBack(l *lease) {
	if l.conn.IsClosed() {
		return
	}
	leaseMu.Lock()
	leases = append(leases, l)
	leaseMu.Unlock()
}

// schemaLayout reads the tables and foreign keys of l's schema once.
func schemaLayout(t testing.TB, l *lease) *layout {
	t.Helper()
	layoutOnce.Do(func() { theLayout, layoutErr = readLayout(context.Background(), l.conn, l.schema) })
	if layoutErr != nil {
		t.Fatalf("read the tables of schema %s: %v", l.schema, layoutErr)
	}
	return theLayout
}

func readLayout(ctx context.Context, conn *pgx.Conn, schema string) (*layout, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' ORDER BY c.relname`, schema)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'f' AND n.nspname = $1 AND c.oid <> p.oid`, schema)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{} // child → the tables it references
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, err
		}
		parents[child] = append(parents[child], parent)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// a table comes once every table referencing it has come
	children := map[string]int{}
	for _, ps := range parents {
		for _, p := range ps {
			children[p]++
		}
	}
	lay := &layout{parents: parents}
	done := map[string]bool{}
	for len(done) < len(tables) {
		progress := false
		for _, tb := range tables {
			if done[tb] || children[tb] > 0 {
				continue
			}
			lay.tables = append(lay.tables, tb)
			done[tb] = true
			progress = true
			for _, p := range parents[tb] {
				children[p]--
			}
		}
		if !progress {
			return nil, fmt.Errorf("foreign keys of schema %s form a cycle", schema)
		}
	}
	return lay, nil
}

// seedTemplate returns this process's template of the seed key, migrating
// and seeding it through the store on first use. The template is locked by
// this process while it lives, and swept by a later process.
func seedTemplate(t testing.TB, base, prefix, key string, orgs []*ding.Org) *template {
	t.Helper()
	templateMu.Lock()
	defer templateMu.Unlock()
	if tpl := templates[key]; tpl != nil {
		return tpl
	}
	ctx := context.Background()
	if holder == nil || holder.IsClosed() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), err)
		}
		holder = conn
	}
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + "x" + hex.EncodeToString(b[:])
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, schemaLockClass, schema); err != nil {
		t.Fatalf("lock template %s: %v", schema, err)
	}
	if _, err := holder.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create template %s: %v", schema, err)
	}
	st, err := postgres.Open(ctx, WithParams(base, map[string]string{"search_path": schema, "pool_max_conns": "1"}))
	if err != nil {
		t.Fatalf("migrate template %s: %v", schema, err)
	}
	for _, org := range orgs {
		if err := st.ApplyOrg(ctx, org); err != nil {
			st.Close()
			t.Fatalf("seed %s: %v", org.Corp.ID, err)
		}
	}
	st.Close()
	tpl := &template{schema: schema, rows: map[string]int64{}}
	lay, err := readLayout(ctx, holder, schema)
	if err != nil {
		t.Fatalf("read the tables of template %s: %v", schema, err)
	}
	counts := make([]string, len(lay.tables))
	for i, tb := range lay.tables {
		counts[i] = "(SELECT count(*) FROM " + pgx.Identifier{schema, tb}.Sanitize() + ")"
	}
	n := make([]int64, len(counts))
	dst := make([]any, len(n))
	for i := range n {
		dst[i] = &n[i]
	}
	if err := holder.QueryRow(ctx, "SELECT "+strings.Join(counts, ", ")).Scan(dst...); err != nil {
		t.Fatalf("count the rows of template %s: %v", schema, err)
	}
	for i, tb := range lay.tables {
		if n[i] > 0 {
			tpl.rows[tb] = n[i]
		}
	}
	templates[key] = tpl
	return tpl
}

// reset makes l's schema hold what tpl holds (nothing when tpl is nil):
// one round trip to find the seeded tables left as the last copy wrote
// them, one transaction to empty the rest and copy the template's.
func reset(ctx context.Context, l *lease, lay *layout, tpl *template, key string) error {
	if l.seed != key {
		l.seed, l.copies = key, nil
	}
	// the tables of the schema, to catch one a test added, and each earlier
	// copy's rows and rows written since
	checks := []string{`(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ` + quote(l.schema) + ` AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations')`}
	var copied []string
	for tb, c := range l.copies {
		id := pgx.Identifier{l.schema, tb}.Sanitize()
		checks = append(checks, "(SELECT count(*) FROM "+id+")",
			"(SELECT count(*) FROM "+id+" WHERE xmin <> "+quote(c.xid)+"::xid)")
		copied = append(copied, tb)
	}
	got := make([]int64, len(checks))
	dst := make([]any, len(got))
	for i := range got {
		dst[i] = &got[i]
	}
	if err := l.conn.QueryRow(ctx, "SELECT "+strings.Join(checks, ", ")).Scan(dst...); err != nil {
		return err
	}
	if got[0] != int64(len(lay.tables)) {
		// a test added or dropped a table: start the schema afresh
		if _, err := l.conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{l.schema}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
		if err := migrateSchema(ctx, l.conn, connString(l.conn), l.schema); err != nil {
			return err
		}
		l.copies = nil
		copied = nil
	}
	keep := map[string]bool{}
	for i, tb := range copied {
		keep[tb] = got[1+2*i] == l.copies[tb].rows && got[2+2*i] == 0
	}
	// a table whose parent is copied again is emptied and copied too
	for i := len(lay.tables) - 1; i >= 0; i-- {
		tb := lay.tables[i]
		for _, p := range lay.parents[tb] {
			if tpl != nil && tpl.rows[p] > 0 && !keep[p] {
				keep[tb] = false
			}
		}
	}
	b := &pgx.Batch{}
	for _, tb := range lay.tables {
		if !keep[tb] {
			b.Queue("DELETE FROM " + pgx.Identifier{l.schema, tb}.Sanitize())
		}
	}
	var fill []string
	for i := len(lay.tables) - 1; i >= 0; i-- {
		tb := lay.tables[i]
		if tpl != nil && tpl.rows[tb] > 0 && !keep[tb] {
			b.Queue("INSERT INTO " + pgx.Identifier{l.schema, tb}.Sanitize() + " OVERRIDING SYSTEM VALUE SELECT * FROM " +
				pgx.Identifier{tpl.schema, tb}.Sanitize())
			fill = append(fill, tb)
		}
	}
	var xid string
	b.Queue(`SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text`).QueryRow(func(r pgx.Row) error { return r.Scan(&xid) })
	if err := l.conn.SendBatch(ctx, b).Close(); err != nil { // one implicit transaction
		return err
	}
	copies := map[string]xcopy{}
	for tb, c := range l.copies {
		if keep[tb] {
			copies[tb] = c
		}
	}
	for _, tb := range fill {
		copies[tb] = xcopy{xid: xid, rows: tpl.rows[tb]}
	}
	l.copies = copies
	return nil
}

// quote is a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// connString is the URL conn was opened with.
func connString(conn *pgx.Conn) string { return conn.Config().ConnString() }

// sweep drops what earlier runs left and no process holds: borrowed schemas
// of other migration sets, and templates.
func sweep(t testing.TB, base, keep string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\_%' AND (nspname NOT LIKE $1 OR nspname LIKE $2)`,
		keep+"%", keep+"x%")
	if err != nil {
		t.Fatalf("list schemas: %v", err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list schemas: %v", err)
	}
	for _, name := range stale {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, schemaLockClass, name).Scan(&got); err != nil || !got {
			continue
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("drop stale schema %s: %v", name, err)
		}
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, schemaLockClass, name)
	}
}

// DropListeners ends the database sessions that listen for the head
// notices of url's schema, as a lost connection would, and fails t when
// there were none.
func DropListeners(t testing.TB, url string) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`,
		"LISTEN "+pgx.Identifier{postgres.NoticeChannel(schema)}.Sanitize()).Scan(&n); err != nil || n == 0 {
		t.Fatalf("dropped %d listeners: %v", n, err)
	}
}

// PostgresNodes opens two stores on one schema seeded with both fixture
// corps, as two nodes of one deployment would, closed at cleanup, and
// returns the schema's URL. It skips t unless tests run on PostgreSQL.
func PostgresNodes(t testing.TB) (url string, a, b *postgres.Store) {
	t.Helper()
	if !Postgres(t) {
		t.Skip("one process owns a SQLite file: nodes share PostgreSQL (" + StoreEnv + "=postgres)")
	}
	url = ClaimSeeded(t, 4, FixtureSeed)
	open := func() *postgres.Store {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return url, open(), open()
}
