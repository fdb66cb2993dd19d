package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestContract(t *testing.T) {
	dingtest.PostgresURL(t)
	storetest.Run(t, func(t testing.TB) ding.Store { return dingtest.OpenPostgresThrowaway(t) })
}

// Several nodes starting at once on an empty schema migrate it once.
func TestOpenConcurrently(t *testing.T) {
	url := dingtest.PostgresSchema(t, 2)
	const nodes = 4
	errs := make(chan error, nodes)
	stores := make(chan *postgres.Store, nodes)
	for i := 0; i < nodes; i++ {
		go func() {
			st, err := postgres.Open(context.Background(), url)
			errs <- err
			stores <- st
		}()
	}
	for i := 0; i < nodes; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("Open: %v", err)
		}
		if st := <-stores; st != nil {
			t.Cleanup(func() { st.Close() })
		}
	}
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dingtest.Seed(t, st)
	if n, err := st.CountCorps(context.Background()); err != nil || n != 2 {
		t.Fatalf("CountCorps = %d, %v; want 2", n, err)
	}
}

// A URL whose search_path names no schema is refused, not migrated into
// another one.
func TestOpenWithoutSchema(t *testing.T) {
	url := dingtest.WithParams(dingtest.PostgresURL(t), map[string]string{"search_path": "t_no_such_schema"})
	if st, err := postgres.Open(context.Background(), url); err == nil {
		st.Close()
		t.Fatal("Open succeeded on a search_path that names no schema")
	}
}

// Statements are planned for their arguments: a generic plan cached while
// the tables were small slowed every request tenfold once they grew. A URL
// may still choose otherwise.
func TestPlansAreCustom(t *testing.T) {
	url := dingtest.PostgresSchema(t, 2)
	for _, tc := range []struct{ url, want string }{
		{url, "force_custom_plan"},
		{dingtest.WithParams(url, map[string]string{"plan_cache_mode": "auto"}), "auto"},
	} {
		st, err := postgres.Open(context.Background(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := postgres.ShowSetting(st, "plan_cache_mode")
		st.Close()
		if err != nil || got != tc.want {
			t.Fatalf("plan_cache_mode = %q, %v; want %q", got, err, tc.want)
		}
	}
}

// A page of messages runs on a generic plan, every time, while the pool
// plans other statements for their arguments.
func TestMessagePageGenericPlan(t *testing.T) {
	ctx := context.Background()
	url := dingtest.WithParams(dingtest.PostgresSchema(t, 2), map[string]string{"pool_max_conns": "1"})
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dingtest.Seed(t, st)
	g := &ding.Group{ChatID: "chatplan", OpenConversationID: "cidplan", CorpID: dingtest.CorpID, Name: "plan",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: 1, UpdatedAt: 1}
	if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := &ding.Message{ID: fmt.Sprintf("msgplan%d", i), CorpID: g.CorpID, ChatID: g.ChatID, SenderType: ding.SenderApp,
			Sender: dingtest.AppKey, MsgType: ding.MsgText, Body: []byte(`{"text":{"content":"x"}}`), CreatedAt: int64(i)}
		if err := st.AppendMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		ms, err := st.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 2 + i%2})
		if err != nil || len(ms) != 2+i%2 || ms[0].Seq != 3 {
			t.Fatalf("Messages = %d messages, %v", len(ms), err)
		}
		if _, err := st.Messages(ctx, g.ChatID, ding.MessageQuery{After: int64(i % 2), Limit: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.LastSeq(ctx, g.ChatID); err != nil {
			t.Fatal(err)
		}
	}
	generic, custom, err := postgres.PlanCounts(st, "SELECT seq, id, corp_id")
	if err != nil || generic != 16 || custom != 0 {
		t.Fatalf("pages: %d generic plans, %d custom, %v; want 16 and 0", generic, custom, err)
	}
	// the setting held for the page's transaction only
	generic, custom, err = postgres.PlanCounts(st, "SELECT COALESCE(MAX(seq), 0)")
	if err != nil || generic != 0 || custom != 8 {
		t.Fatalf("LastSeq: %d generic plans, %d custom, %v; want 0 and 8", generic, custom, err)
	}
}

// A database written before secrets were hashed keeps its tokens working:
// the migration hashes every one in place and leaves no plaintext.
func TestOldSecretsHashedByMigration(t *testing.T) {
	ctx := context.Background()
	url := dingtest.PostgresSchema(t, 2)
	if err := postgres.MigrateBefore(ctx, url, 4); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const (
		now       = int64(1767225600000)
		oldAccess = "0123456789abcdef0123456789abcdef"
		oldMember = "mtoldmembertoken0123456789abcdef0123456789abcdef"
		oldAdmin  = "admoldadmintoken0123456789abcdef"
	)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO corps (id, name, created_at) VALUES ($1, '旧企业', $2)`, []any{dingtest.CorpID, now}},
		{`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at)
			VALUES ($1, $2, 'secret', 1001, 'app', '{}', true, '{}', false, $3)`, []any{dingtest.AppKey, dingtest.CorpID, now}},
		{`INSERT INTO users (corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at)
			VALUES ($1, 'manager4220', 'u1', 'm', '', '', '', '', true, true, '{}', $2)`, []any{dingtest.CorpID, now}},
		{`INSERT INTO tokens (token, app_key, corp_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, []any{oldAccess, dingtest.AppKey, dingtest.CorpID, now, now + 7200000}},
		{`INSERT INTO member_tokens (token, corp_id, userid, created_at) VALUES ($1, $2, 'manager4220', $3)`, []any{oldMember, dingtest.CorpID, now}},
		{`INSERT INTO settings (key, value) VALUES ('admin_token', $1)`, []any{oldAdmin}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tok, err := st.Token(ctx, ding.SecretHash(oldAccess)); err != nil || tok.AppKey != dingtest.AppKey {
		t.Fatalf("old access token by hash = %+v, %v", tok, err)
	}
	if _, err := st.Token(ctx, oldAccess); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("old access token still found by its plaintext: %v", err)
	}
	if mt, err := st.MemberToken(ctx, ding.SecretHash(oldMember)); err != nil || mt.UserID != "manager4220" || mt.ExpiresAt != 0 {
		t.Fatalf("old member token by hash = %+v, %v", mt, err)
	}
	if h, err := st.Setting(ctx, "admin_token_hash", "unset"); err != nil || h != ding.SecretHash(oldAdmin) {
		t.Fatalf("admin token hash = %q, %v", h, err)
	}
	var plain int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tokens WHERE token = $1) + (SELECT count(*) FROM member_tokens WHERE token = $2)
		+ (SELECT count(*) FROM settings WHERE value = $3)`, oldAccess, oldMember, oldAdmin).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("%d plaintext secrets left, %v", plain, err)
	}
}
