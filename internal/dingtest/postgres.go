package dingtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
