package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.JoinStore = (*Store)(nil)

const joinCodeCols = `code, salt, key_id, corp_id, chat_id, sharer, created_at, expires_at`

func scanJoinCode(r pgx.Row) (*ding.JoinCode, error) {
	var c ding.JoinCode
	if err := r.Scan(&c.Hash, &c.Salt, &c.KeyID, &c.CorpID, &c.ChatID, &c.Sharer, &c.CreatedAt, &c.ExpiresAt); err != nil {
		return nil, err
	}
	return &c, nil
}

// IssueJoinCode hands out the sharer's live code or stores fresh, in one
// round trip. As in IssueToken, a transaction-scoped advisory lock on
// (group, sharer) makes two nodes asked at once take turns, so both hand
// out the code the first one stored.
func (s *Store) IssueJoinCode(ctx context.Context, fresh ding.JoinCode, validUntil int64) (*ding.JoinCode, error) {
	if fresh.Hash == "" {
		return nil, ding.Errorf(ding.Internal, ding.ReasonNone, "a join code must be stored by its hash")
	}
	var out *ding.JoinCode
	err := s.batch(ctx, "join code", func(b *pgx.Batch) {
		out = nil
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, lockJoinCode+fresh.ChatID+"\n"+fresh.Sharer)
		b.Queue(`DELETE FROM join_codes WHERE expires_at > 0 AND expires_at <= $1`, fresh.CreatedAt)
		live := `FROM join_codes WHERE chat_id = $1 AND sharer = $2 AND expires_at > $3 AND corp_id = $4 AND key_id = $5`
		b.Queue(`SELECT `+joinCodeCols+` `+live+` ORDER BY expires_at DESC LIMIT 1`,
			fresh.ChatID, fresh.Sharer, validUntil, fresh.CorpID, fresh.KeyID).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					c, err := scanJoinCode(rows)
					if err != nil {
						return err
					}
					out = c
				}
				return rows.Err()
			})
		b.Queue(`INSERT INTO join_codes (`+joinCodeCols+`) SELECT $6, $7, $5, $4, $1, $2, $8, $9 WHERE NOT EXISTS (SELECT 1 `+live+`)`,
			fresh.ChatID, fresh.Sharer, validUntil, fresh.CorpID, fresh.KeyID, fresh.Hash, fresh.Salt, fresh.CreatedAt, fresh.ExpiresAt)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		c := fresh
		out = &c
	}
	out.Code = ""
	return out, nil
}

// JoinCode returns NotFound for an unknown hash.
func (s *Store) JoinCode(ctx context.Context, hash string) (*ding.JoinCode, error) {
	c, err := scanJoinCode(s.q().QueryRow(ctx, `SELECT `+joinCodeCols+` FROM join_codes WHERE code = $1`, hash))
	if err != nil {
		return nil, translate(err, "join code")
	}
	return c, nil
}

// SaveJoinRequest records or refreshes a pending request.
func (s *Store) SaveJoinRequest(ctx context.Context, r ding.JoinRequest) error {
	return s.batch(ctx, "join request", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO join_requests (chat_id, userid, code, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (chat_id, userid) DO UPDATE SET code = excluded.code, created_at = excluded.created_at`, r.ChatID, r.UserID, r.Code, r.CreatedAt)
	})
}

// JoinRequests lists a group's pending requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, chatID string) ([]ding.JoinRequest, error) {
	rows, err := s.q().Query(ctx, `SELECT chat_id, userid, code, created_at FROM join_requests WHERE chat_id = $1 ORDER BY created_at, userid`, chatID)
	return collect(rows, err, "join requests", func(r pgx.Rows) (ding.JoinRequest, error) {
		var j ding.JoinRequest
		err := r.Scan(&j.ChatID, &j.UserID, &j.Code, &j.CreatedAt)
		return j, err
	})
}

// DeleteJoinRequest returns NotFound when no such request is pending.
func (s *Store) DeleteJoinRequest(ctx context.Context, chatID, userID string) error {
	return s.batch(ctx, "join request", func(b *pgx.Batch) {
		b.Queue(`DELETE FROM join_requests WHERE chat_id = $1 AND userid = $2`, chatID, userID).Exec(mustAffect("join request"))
	})
}
