package sqlite

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// Events returns a corp's events with Seq > after, oldest first.
func (s *Store) Events(ctx context.Context, corpID string, after int64, limit int) ([]ding.Event, error) {
	rows, err := s.readRows(ctx, `SELECT corp_id, seq, type, chat_id, open_conversation_id, operator, data, created_at
		FROM events WHERE corp_id = ? AND seq > ? ORDER BY seq LIMIT ?`, corpID, after, limit)
	if err != nil {
		return nil, translate(err, "events")
	}
	defer rows.Close()
	var out []ding.Event
	for rows.Next() {
		var e ding.Event
		var data string
		if err := rows.Scan(&e.CorpID, &e.Seq, &e.Type, &e.ChatID, &e.OpenConversationID, &e.Operator, &data, &e.CreatedAt); err != nil {
			return nil, translate(err, "events")
		}
		e.Data = []byte(data)
		out = append(out, e)
	}
	return out, translate(rows.Err(), "events")
}
