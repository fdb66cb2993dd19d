package sqlite

import (
	"context"
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.MemberTokenStore = (*Store)(nil)

func saveMemberToken(tx *sql.Tx, t ding.MemberToken) error {
	if t.Hash == "" {
		return ding.Errorf(ding.Internal, ding.ReasonNone, "a member token must be stored by its hash")
	}
	_, err := tx.Exec(`INSERT INTO member_tokens (token, corp_id, userid, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET corp_id = excluded.corp_id, userid = excluded.userid, expires_at = excluded.expires_at`,
		t.Hash, t.CorpID, t.UserID, t.CreatedAt, t.ExpiresAt)
	return translate(err, "member token")
}

// SaveMemberToken stores t.
func (s *Store) SaveMemberToken(ctx context.Context, t ding.MemberToken) error {
	return s.do(ctx, func(tx *sql.Tx) error { return saveMemberToken(tx, t) })
}

// MemberToken returns NotFound when no member token has hash.
func (s *Store) MemberToken(ctx context.Context, hash string) (*ding.MemberToken, error) {
	var t ding.MemberToken
	err := s.readRow(ctx, `SELECT token, corp_id, userid, created_at, expires_at FROM member_tokens WHERE token = ?`, hash).
		Scan(&t.Hash, &t.CorpID, &t.UserID, &t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return nil, translate(err, "member token")
	}
	return &t, nil
}

// RevokeMemberTokens deletes the user's token with hash, or all of them.
func (s *Store) RevokeMemberTokens(ctx context.Context, corpID, userID, hash string) (int, error) {
	var n int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM member_tokens WHERE corp_id = ? AND userid = ? AND (? = '' OR token = ?)`, corpID, userID, hash, hash)
		if err != nil {
			return translate(err, "member token")
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
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
