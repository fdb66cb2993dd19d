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
// TOAST relations is a file created and unlinked), while emptying a migrated
// schema costs some 10 ms. So the tests that merely need a store (service,
// surface, end-to-end) borrow schemas tp_<migrations digest>_<n>: a test
// holds a session advisory lock on its schema while it runs, so no other test
// (in this process or another) touches it, and empties it before use. A
// schema left by a test that died is emptied by the next one to borrow it;
// schemas of other migration sets are dropped when found unused.

// schemaLockClass keys the advisory locks of borrowed schemas.
const schemaLockClass = 0x64747374 // "dtst"

var sweepOnce sync.Once

// ClaimSchema borrows an empty, migrated schema for t, released at cleanup,
// and returns the database URL with its search_path set to it and at most
// maxConns connections per pool. It skips t when DINGCHAT_TEST_POSTGRES is not
// set.
func ClaimSchema(t testing.TB, maxConns int) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	prefix := "tp_" + postgres.MigrationsDigest() + "_"
	sweepOnce.Do(func() { sweep(t, base, prefix) })
	// the lock lives as long as this connection
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var schema string
	for n := 0; ; n++ {
		name := prefix + strconv.Itoa(n)
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, schemaLockClass, name).Scan(&got); err != nil {
			t.Fatalf("lock schema %s: %v", name, err)
		}
		if got {
			schema = name
			break
		}
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	url := WithParams(base, map[string]string{"search_path": schema, "pool_max_conns": strconv.Itoa(maxConns)})
	st, err := postgres.Open(ctx, url) // migrates a new schema; finds nothing to do in a used one
	if err != nil {
		t.Fatalf("migrate schema %s: %v", schema, err)
	}
	st.Close()
	if err := empty(ctx, conn, schema); err != nil {
		t.Fatalf("empty schema %s: %v", schema, err)
	}
	return url
}

// empty deletes every row of schema but its migration record, children
// before the tables they reference, in one transaction.
func empty(ctx context.Context, conn *pgx.Conn, schema string) error {
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' ORDER BY c.relname`, schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	rows, err = conn.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'f' AND n.nspname = $1 AND c.oid <> p.oid`, schema)
	if err != nil {
		return err
	}
	parents := map[string][]string{} // child → the tables it references
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return err
		}
		parents[child] = append(parents[child], parent)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// a table is emptied once every table referencing it has been
	children := map[string]int{}
	for _, ps := range parents {
		for _, p := range ps {
			children[p]++
		}
	}
	b := &pgx.Batch{}
	done := map[string]bool{}
	for len(done) < len(tables) {
		progress := false
		for _, tb := range tables {
			if done[tb] || children[tb] > 0 {
				continue
			}
			b.Queue("DELETE FROM " + pgx.Identifier{schema, tb}.Sanitize())
			done[tb] = true
			progress = true
			for _, p := range parents[tb] {
				children[p]--
			}
		}
		if !progress {
			return fmt.Errorf("foreign keys of schema %s form a cycle", schema)
		}
	}
	return conn.SendBatch(ctx, b).Close()
}

// sweep drops the borrowed schemas of other migration sets that no test
// holds: what earlier versions of the code left behind.
func sweep(t testing.TB, base, keep string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", PostgresEnv, redact(base), err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\_%' AND nspname NOT LIKE $1`, keep+"%")
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
