package sqlite

import (
	"context"
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.JoinStore = (*Store)(nil)

// SaveJoinCode stores a join link's code.
func (s *Store) SaveJoinCode(ctx context.Context, c ding.JoinCode) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		if c.Hash == "" {
			return ding.Errorf(ding.Internal, ding.ReasonNone, "a join code must be stored by its hash")
		}
		if _, err := tx.Exec(`DELETE FROM join_codes WHERE expires_at > 0 AND expires_at <= ?`, c.CreatedAt); err != nil {
			return translate(err, "join code")
		}
		_, err := tx.Exec(`INSERT INTO join_codes (code, corp_id, chat_id, sharer, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Hash, c.CorpID, c.ChatID, c.Sharer, c.CreatedAt, c.ExpiresAt)
		return translate(err, "join code")
	})
}

// JoinCode returns NotFound for an unknown hash.
func (s *Store) JoinCode(ctx context.Context, hash string) (*ding.JoinCode, error) {
	var c ding.JoinCode
	err := s.readRow(ctx, `SELECT code, corp_id, chat_id, sharer, created_at, expires_at FROM join_codes WHERE code = ?`, hash).
		Scan(&c.Hash, &c.CorpID, &c.ChatID, &c.Sharer, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, translate(err, "join code")
	}
	return &c, nil
}

// SaveJoinRequest records or refreshes a pending request.
func (s *Store) SaveJoinRequest(ctx context.Context, r ding.JoinRequest) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO join_requests (chat_id, userid, code, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (chat_id, userid) DO UPDATE SET code = excluded.code, created_at = excluded.created_at`, r.ChatID, r.UserID, r.Code, r.CreatedAt)
		return translate(err, "join request")
	})
}

// JoinRequests lists a group's pending requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, chatID string) ([]ding.JoinRequest, error) {
	rows, err := s.readRows(ctx, `SELECT chat_id, userid, code, created_at FROM join_requests WHERE chat_id = ? ORDER BY created_at, userid`, chatID)
	if err != nil {
		return nil, translate(err, "join requests")
	}
	defer rows.Close()
	var out []ding.JoinRequest
	for rows.Next() {
		var r ding.JoinRequest
		if err := rows.Scan(&r.ChatID, &r.UserID, &r.Code, &r.CreatedAt); err != nil {
			return nil, translate(err, "join requests")
		}
		out = append(out, r)
	}
	return out, translate(rows.Err(), "join requests")
}

// DeleteJoinRequest returns NotFound when no such request is pending.
func (s *Store) DeleteJoinRequest(ctx context.Context, chatID, userID string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM join_requests WHERE chat_id = ? AND userid = ?`, chatID, userID)
		if err != nil {
			return translate(err, "join request")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ding.Errorf(ding.NotFound, ding.ReasonNone, "join request not found")
		}
		return nil
	})
}
