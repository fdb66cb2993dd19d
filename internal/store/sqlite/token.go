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
		err := scanToken(tx.QueryRow(`SELECT `+tokenCols+` FROM tokens
			WHERE app_key = ? AND key_id = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`, fresh.AppKey, fresh.KeyID, now), &live)
		switch {
		case err == nil:
			if _, err := tx.Exec(`UPDATE tokens SET expires_at = ? WHERE token = ?`, fresh.ExpiresAt, live.Hash); err != nil {
				return translate(err, "token")
			}
			live.ExpiresAt = fresh.ExpiresAt
			out = live
		case errors.Is(err, sql.ErrNoRows):
			if err := insertToken(tx, fresh); err != nil {
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
	out.Value = ""
	return &out, nil
}

const tokenCols = `token, app_key, corp_id, created_at, expires_at, salt, key_id`

func scanToken(r *sql.Row, t *ding.Token) error {
	return r.Scan(&t.Hash, &t.AppKey, &t.CorpID, &t.CreatedAt, &t.ExpiresAt, &t.Salt, &t.KeyID)
}

func insertToken(tx *sql.Tx, t ding.Token) error {
	if t.Hash == "" {
		return ding.Errorf(ding.Internal, ding.ReasonNone, "a token must be stored by its hash")
	}
	_, err := tx.Exec(`INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.AppKey, t.CorpID, t.CreatedAt, t.ExpiresAt, t.Salt, t.KeyID)
	return translate(err, "token")
}

// Token returns NotFound when no token has hash.
func (s *Store) Token(ctx context.Context, hash string) (*ding.Token, error) {
	var t ding.Token
	if err := scanToken(s.readRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE token = ?`, hash), &t); err != nil {
		return nil, translate(err, "token")
	}
	return &t, nil
}
