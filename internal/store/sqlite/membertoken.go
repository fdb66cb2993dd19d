package sqlite

import (
	"context"
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.MemberTokenStore = (*Store)(nil)

func saveMemberToken(tx *sql.Tx, t ding.MemberToken) error {
	_, err := tx.Exec(`INSERT INTO member_tokens (token, corp_id, userid, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET corp_id = excluded.corp_id, userid = excluded.userid`, t.Value, t.CorpID, t.UserID, t.CreatedAt)
	return translate(err, "member token")
}

// SaveMemberToken stores t.
func (s *Store) SaveMemberToken(ctx context.Context, t ding.MemberToken) error {
	return s.do(ctx, func(tx *sql.Tx) error { return saveMemberToken(tx, t) })
}

// MemberToken returns NotFound when value was never issued.
func (s *Store) MemberToken(ctx context.Context, value string) (*ding.MemberToken, error) {
	var t ding.MemberToken
	err := s.readRow(ctx, `SELECT token, corp_id, userid, created_at FROM member_tokens WHERE token = ?`, value).
		Scan(&t.Value, &t.CorpID, &t.UserID, &t.CreatedAt)
	if err != nil {
		return nil, translate(err, "member token")
	}
	return &t, nil
}

// Setting returns key's value, storing def first when unset.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, def); err != nil {
			return translate(err, "setting")
		}
		return translate(tx.QueryRow(`SELECT value FROM settings WHERE key = ?`, key).Scan(&v), "setting")
	})
	return v, err
}
