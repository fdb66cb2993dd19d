package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ ding.MemberTokenStore = (*Store)(nil)

func queueMemberToken(b *pgx.Batch, t ding.MemberToken) {
	b.Queue(`INSERT INTO member_tokens (token, corp_id, userid, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (token) DO UPDATE SET corp_id = excluded.corp_id, userid = excluded.userid, expires_at = excluded.expires_at`,
		t.Hash, t.CorpID, t.UserID, t.CreatedAt, t.ExpiresAt)
}

// SaveMemberToken stores t.
func (s *Store) SaveMemberToken(ctx context.Context, t ding.MemberToken) error {
	return s.batch(ctx, "member token", func(b *pgx.Batch) { queueMemberToken(b, t) })
}

// MemberToken returns NotFound when no member token has hash.
func (s *Store) MemberToken(ctx context.Context, hash string) (*ding.MemberToken, error) {
	var t ding.MemberToken
	err := s.q().QueryRow(ctx, `SELECT token, corp_id, userid, created_at, expires_at FROM member_tokens WHERE token = $1`, hash).
		Scan(&t.Hash, &t.CorpID, &t.UserID, &t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return nil, translate(err, "member token")
	}
	return &t, nil
}

// RevokeMemberTokens deletes the user's token with hash, or all of them.
func (s *Store) RevokeMemberTokens(ctx context.Context, corpID, userID, hash string) (int, error) {
	var n int
	err := s.batch(ctx, "member token", func(b *pgx.Batch) {
		b.Queue(`DELETE FROM member_tokens WHERE corp_id = $1 AND userid = $2 AND ($3 = '' OR token = $3)`, corpID, userID, hash).
			Exec(func(tag pgconn.CommandTag) error { n = int(tag.RowsAffected()); return nil })
	})
	return n, err
}

// Setting returns key's value, storing def first when unset. Two nodes
// storing at once agree: the second insert waits for the first and does
// nothing, and both read the first one's value.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.batch(ctx, "setting", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, def)
		b.Queue(`SELECT value FROM settings WHERE key = $1`, key).QueryRow(func(r pgx.Row) error { return r.Scan(&v) })
	})
	return v, err
}
