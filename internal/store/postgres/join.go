package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.JoinStore = (*Store)(nil)

// SaveJoinCode stores a join link's code.
func (s *Store) SaveJoinCode(ctx context.Context, c ding.JoinCode) error {
	return s.batch(ctx, "join code", func(b *pgx.Batch) {
		b.Queue(`DELETE FROM join_codes WHERE expires_at > 0 AND expires_at <= $1`, c.CreatedAt)
		b.Queue(`INSERT INTO join_codes (code, corp_id, chat_id, sharer, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.Hash, c.CorpID, c.ChatID, c.Sharer, c.CreatedAt, c.ExpiresAt)
	})
}

// JoinCode returns NotFound for an unknown hash.
func (s *Store) JoinCode(ctx context.Context, hash string) (*ding.JoinCode, error) {
	var c ding.JoinCode
	err := s.q().QueryRow(ctx, `SELECT code, corp_id, chat_id, sharer, created_at, expires_at FROM join_codes WHERE code = $1`, hash).
		Scan(&c.Hash, &c.CorpID, &c.ChatID, &c.Sharer, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, translate(err, "join code")
	}
	return &c, nil
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
