package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/dingchat/dingchat/internal/store/sqlite"
	"github.com/dingchat/dingchat/internal/store/storetest"
)

// oldGroupSQL writes a group as a release before migration 0011 did.
const oldGroupSQL = `INSERT INTO chats (chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon,
	show_history_type, searchable, validation_type, mention_all_authority, management_type, chat_banned_type, status, creator_app,
	member_count, created_at, updated_at) VALUES (?, 'cidold', ?, '旧群', 'manager4220', 'emp', 2, '', 0, 0, 0, 0, 0, 0, 1, '', 1, ?, ?)`

// A join code kept before links were reused keeps working after migration 0011.
func TestOldJoinCodeKeptByMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingchat.db")
	if err := sqlite.MigrateBefore(path, 11); err != nil {
		t.Fatal(err)
	}
	const now = 1767225600000
	old := storetest.OldJoinCode("chatold", now)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO corps (id, name, created_at) VALUES (?, '旧企业', ?)`, []any{old.CorpID, now}},
		{oldGroupSQL, []any{old.ChatID, old.CorpID, now, now}},
		{`INSERT INTO join_codes (code, corp_id, chat_id, sharer, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			[]any{old.Hash, old.CorpID, old.ChatID, old.Sharer, old.CreatedAt, old.ExpiresAt}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			db.Close()
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()
	storetest.WantOldJoinCodeKept(t, open(t, path), old)
}
