package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

// keepExpired is how long an expired token is remembered (ms), so a late
// caller learns it expired rather than that it never existed.
const keepExpired = 7 * 24 * 3600 * 1000

const tokenCols = `token, app_key, corp_id, created_at, expires_at, salt, key_id`

func scanToken(r pgx.Row) (*ding.Token, error) {
	var t ding.Token
	if err := r.Scan(&t.Hash, &t.AppKey, &t.CorpID, &t.CreatedAt, &t.ExpiresAt, &t.Salt, &t.KeyID); err != nil {
		return nil, err
	}
	return &t, nil
}

// IssueToken renews the app's live token or stores fresh, in one round trip.
// The batch first takes a transaction-scoped advisory lock on the app, so
// two nodes asked at once take turns: the second sees the token the first
// stored and renews it, and both hand out the same token.
func (s *Store) IssueToken(ctx context.Context, fresh ding.Token, now int64) (*ding.Token, error) {
	var out *ding.Token
	err := s.batch(ctx, "token", func(b *pgx.Batch) {
		out = nil
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, lockToken+fresh.AppKey)
		// each statement of the batch reads anew, after the lock: the live
		// token is renewed, or fresh is stored when none is live
		b.Queue(`UPDATE tokens SET expires_at = $3 WHERE token = (
				SELECT token FROM tokens WHERE app_key = $1 AND key_id = $4 AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1)
			RETURNING `+tokenCols, fresh.AppKey, now, fresh.ExpiresAt, fresh.KeyID).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					t, err := scanToken(rows)
					if err != nil {
						return err
					}
					out = t
				}
				return nil
			})
		b.Queue(`INSERT INTO tokens (`+tokenCols+`) SELECT $1, $2, $3, $4, $5, $7, $8
			WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE app_key = $2 AND key_id = $8 AND expires_at > $6)`,
			fresh.Hash, fresh.AppKey, fresh.CorpID, fresh.CreatedAt, fresh.ExpiresAt, now, fresh.Salt, fresh.KeyID)
		b.Queue(`DELETE FROM tokens WHERE app_key = $1 AND expires_at < $2`, fresh.AppKey, now-keepExpired)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		t := fresh
		out = &t
	}
	out.Value = ""
	return out, nil
}

// Token returns NotFound when no token has hash.
func (s *Store) Token(ctx context.Context, hash string) (*ding.Token, error) {
	t, err := scanToken(s.q().QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE token = $1`, hash))
	if err != nil {
		return nil, translate(err, "token")
	}
	return t, nil
}
