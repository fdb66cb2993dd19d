package postgres_test

import (
	"context"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A join code kept before links were reused keeps working after migration 0006.
func TestOldJoinCodeKeptByMigration(t *testing.T) {
	ctx := context.Background()
	url := dingtest.PostgresSchema(t, 2)
	if err := postgres.MigrateBefore(ctx, url, 6); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const now = int64(1767225600000)
	old := storetest.OldJoinCode("chatold", now)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO corps (id, name, created_at) VALUES ($1, '旧企业', $2)`, []any{old.CorpID, now}},
		{`INSERT INTO chats (chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon,
			show_history_type, searchable, validation_type, mention_all_authority, management_type, chat_banned_type, status, creator_app,
			member_count, created_at, updated_at) VALUES ($1, 'cidold', $2, '旧群', 'manager4220', 'emp', 2, '', 0, 0, 0, 0, 0, 0, 1, '', 1, $3, $3)`,
			[]any{old.ChatID, old.CorpID, now}},
		{`INSERT INTO join_codes (code, corp_id, chat_id, sharer, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			[]any{old.Hash, old.CorpID, old.ChatID, old.Sharer, old.CreatedAt, old.ExpiresAt}},
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
	storetest.WantOldJoinCodeKept(t, st, old)
}
