package dingtest

import (
	"context"
	"net/url"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A borrowed schema comes back as a fresh one seeded the same way would be,
// whatever the previous test did to it: seeded rows changed, deleted or
// added, other tables written, and a different seed or none asked next.
func TestClaimSeededResets(t *testing.T) {
	PostgresURL(t)
	ctx := context.Background()
	seed := NewSeedSet(func() []*ding.Org {
		small := Org()
		small.Users = small.Users[:10]
		return []*ding.Org{small, OtherOrg()}
	})
	type snapshot struct {
		corps, users, externals, settings int64
		name                              string
	}
	look := func(t *testing.T, u string) (snapshot, string) {
		conn, err := pgxpool.New(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var s snapshot
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM corps), (SELECT count(*) FROM users), (SELECT count(*) FROM externals),
			(SELECT count(*) FROM settings), coalesce((SELECT name FROM users WHERE corp_id = $1 AND userid = 'zhangsan'), '')`, CorpID).
			Scan(&s.corps, &s.users, &s.externals, &s.settings, &s.name); err != nil {
			t.Fatal(err)
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return s, pu.Query().Get("search_path")
	}
	want := snapshot{corps: 2, users: 12, externals: Externals, name: "张三"}
	var first string
	t.Run("change", func(t *testing.T) {
		u := ClaimSeeded(t, 2, seed)
		got, schema := look(t, u)
		if got != want {
			t.Fatalf("fresh seeded schema holds %+v, want %+v", got, want)
		}
		first = schema
		conn, err := pgxpool.New(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{
			`UPDATE users SET name = 'changed' WHERE userid = 'zhangsan'`,
			`DELETE FROM externals WHERE unionid = 'ext001'`,
			`INSERT INTO corps (id, name, created_at, monthly_quota) VALUES ('dingaddedcorp', 'added', 0, 0)`,
			`INSERT INTO settings (key, value) VALUES ('written', 'by a test')`,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// a transaction that rolls back leaves the seed as it was
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET name = 'rolled back' WHERE userid = 'lisi'`); err != nil {
			t.Fatal(err)
		}
		tx.Rollback(ctx)
	})
	t.Run("again", func(t *testing.T) {
		got, schema := look(t, ClaimSeeded(t, 2, seed))
		if schema != first {
			t.Logf("a different schema (%s, then %s): the reset of a reused one is not exercised", first, schema)
		}
		if got != want {
			t.Fatalf("reused schema holds %+v, want %+v", got, want)
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		got, _ := look(t, ClaimSeeded(t, 2, seed))
		if got != want {
			t.Fatalf("reused schema holds %+v, want %+v", got, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		got, _ := look(t, ClaimSchema(t, 2))
		if got != (snapshot{}) {
			t.Fatalf("empty schema holds %+v", got)
		}
	})
	t.Run("full", func(t *testing.T) {
		got, _ := look(t, ClaimSeeded(t, 2, FixtureSeed))
		if full := (snapshot{corps: 2, users: int64(len(Named) + Users + 2), externals: Externals, name: "张三"}); got != full {
			t.Fatalf("schema seeded with the whole fixture holds %+v, want %+v", got, full)
		}
	})
}
