package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/dingchat/dingchat/internal/ding"
)

// keepExpired is how long an expired token is remembered (ms), so a late
// caller learns it expired rather than that it never existed.
const keepExpired = 7 * 24 * 3600 * 1000

// IssueToken renews the app's live token or stores fresh.
func (s *Store) IssueToken(ctx context.Context, fresh ding.Token, now int64) (*ding.Token, error) {
	out := fresh
	err := s.do(ctx, func(tx *sql.Tx) error {
		out = fresh
		var live ding.Token
		err := tx.QueryRow(`SELECT token, app_key, corp_id, created_at, expires_at FROM tokens
			WHERE app_key = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`, fresh.AppKey, now).
			Scan(&live.Value, &live.AppKey, &live.CorpID, &live.CreatedAt, &live.ExpiresAt)
		switch {
		case err == nil:
			if _, err := tx.Exec(`UPDATE tokens SET expires_at = ? WHERE token = ?`, fresh.ExpiresAt, live.Value); err != nil {
				return translate(err, "token")
			}
			live.ExpiresAt = fresh.ExpiresAt
			out = live
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.Exec(`INSERT INTO tokens (token, app_key, corp_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
				fresh.Value, fresh.AppKey, fresh.CorpID, fresh.CreatedAt, fresh.ExpiresAt); err != nil {
				return translate(err, "token")
			}
		default:
			return translate(err, "token")
		}
		_, err = tx.Exec(`DELETE FROM tokens WHERE app_key = ? AND expires_at < ?`, fresh.AppKey, now-keepExpired)
		return translate(err, "token")
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Token returns NotFound when value was never issued.
func (s *Store) Token(ctx context.Context, value string) (*ding.Token, error) {
	var t ding.Token
	err := s.readRow(ctx, `SELECT token, app_key, corp_id, created_at, expires_at FROM tokens WHERE token = ?`, value).
		Scan(&t.Value, &t.AppKey, &t.CorpID, &t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return nil, translate(err, "token")
	}
	return &t, nil
}
