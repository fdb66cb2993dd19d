package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.JoinStore = (*Store)(nil)

const joinCodeCols = `code, salt, key_id, corp_id, chat_id, sharer, created_at, expires_at`

func scanJoinCode(r *sql.Row, c *ding.JoinCode) error {
	return r.Scan(&c.Hash, &c.Salt, &c.KeyID, &c.CorpID, &c.ChatID, &c.Sharer, &c.CreatedAt, &c.ExpiresAt)
}

// IssueJoinCode hands out the sharer's live code or stores fresh; the one
// writer makes it atomic.
func (s *Store) IssueJoinCode(ctx context.Context, fresh ding.JoinCode, validUntil int64) (*ding.JoinCode, error) {
	if fresh.Hash == "" {
		return nil, ding.Errorf(ding.Internal, ding.ReasonNone, "a join code must be stored by its hash")
	}
	var out ding.JoinCode
	err := s.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM join_codes WHERE expires_at > 0 AND expires_at <= ?`, fresh.CreatedAt); err != nil {
			return translate(err, "join code")
		}
		err := scanJoinCode(tx.QueryRow(`SELECT `+joinCodeCols+` FROM join_codes
			WHERE chat_id = ? AND sharer = ? AND expires_at > ? AND corp_id = ? AND key_id = ? ORDER BY expires_at DESC LIMIT 1`,
			fresh.ChatID, fresh.Sharer, validUntil, fresh.CorpID, fresh.KeyID), &out)
		if !errors.Is(err, sql.ErrNoRows) {
			return translate(err, "join code")
		}
		out = fresh
		_, err = tx.Exec(`INSERT INTO join_codes (`+joinCodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			fresh.Hash, fresh.Salt, fresh.KeyID, fresh.CorpID, fresh.ChatID, fresh.Sharer, fresh.CreatedAt, fresh.ExpiresAt)
		return translate(err, "join code")
	})
	if err != nil {
		return nil, err
	}
	out.Code = ""
	return &out, nil
}

// JoinCode returns NotFound for an unknown hash.
func (s *Store) JoinCode(ctx context.Context, hash string) (*ding.JoinCode, error) {
	var c ding.JoinCode
	if err := scanJoinCode(s.readRow(ctx, `SELECT `+joinCodeCols+` FROM join_codes WHERE code = ?`, hash), &c); err != nil {
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
