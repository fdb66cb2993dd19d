package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.MemberTokenStore = (*Store)(nil)

func queueMemberToken(b *pgx.Batch, t ding.MemberToken) {
	b.Queue(`INSERT INTO member_tokens (token, corp_id, userid, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET corp_id = excluded.corp_id, userid = excluded.userid`, t.Value, t.CorpID, t.UserID, t.CreatedAt)
}

// SaveMemberToken stores t.
func (s *Store) SaveMemberToken(ctx context.Context, t ding.MemberToken) error {
	return s.batch(ctx, "member token", func(b *pgx.Batch) { queueMemberToken(b, t) })
}

// MemberToken returns NotFound when value was never issued.
func (s *Store) MemberToken(ctx context.Context, value string) (*ding.MemberToken, error) {
	var t ding.MemberToken
	err := s.q().QueryRow(ctx, `SELECT token, corp_id, userid, created_at FROM member_tokens WHERE token = $1`, value).
		Scan(&t.Value, &t.CorpID, &t.UserID, &t.CreatedAt)
	if err != nil {
		return nil, translate(err, "member token")
	}
	return &t, nil
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
