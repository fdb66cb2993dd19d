package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCached(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(newConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)"))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// The same text run again while its rows are still open gets a statement of
// its own: reusing the cached one would reset the rows under the reader.
func TestCachedStatementNestedUse(t *testing.T) {
	db := openCached(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := 1; i <= 3; i++ {
		if _, err := tx.Exec(`INSERT INTO t (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT k FROM t WHERE k >= ? ORDER BY k`
	outer, err := tx.Query(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var k int
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		var n int
		inner, err := tx.Query(q, k)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			n++
		}
		inner.Close()
		got = append(got, k*10+n)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[13 22 31]" {
		t.Fatalf("outer rows with nested reads = %v, want [13 22 31]", got)
	}
	// the cached statement is free again and still answers
	var k int
	if err := tx.QueryRow(q, 3).Scan(&k); err != nil || k != 3 {
		t.Fatalf("reuse after nesting = %d, %v", k, err)
	}
}

// Past the bound, statements still run; they are just not kept.
func TestCachedStatementsBounded(t *testing.T) {
	db := openCached(t)
	ctx := context.Background()
	for i := 0; i < maxCached+20; i++ {
		var v int
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&v); err != nil || v != i {
			t.Fatalf("SELECT %d = %d, %v", i, v, err)
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(dc any) error {
		if n := len(dc.(*cachingConn).stmts); n != maxCached {
			t.Errorf("cached %d statements, want %d", n, maxCached)
		}
		return nil
	})
	conn.Close()
	// a statement that fails to prepare leaves nothing behind
	if _, err := db.Exec(`SELEC nonsense`); err == nil {
		t.Fatal("bad SQL ran")
	}
}
