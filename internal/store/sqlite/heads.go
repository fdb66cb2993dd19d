package sqlite

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// MemberHeads reads the member's groups with their newest Seq (one indexed
// MAX each) and read marks in one statement.
func (s *Store) MemberHeads(ctx context.Context, corpID, userID string) ([]ding.GroupHead, error) {
	rows, err := s.readRows(ctx, `SELECT c.chat_id, COALESCE((SELECT MAX(seq) FROM messages WHERE chat_id = c.chat_id), 0),
		COALESCE((SELECT seq FROM read_marks WHERE chat_id = c.chat_id AND userid = m.member_id), 0)
		FROM chat_members m JOIN chats c ON c.chat_id = m.chat_id
		WHERE m.kind = 'emp' AND m.member_id = ? AND c.corp_id = ? ORDER BY c.created_at DESC, c.chat_id`, userID, corpID)
	if err != nil {
		return nil, translate(err, "groups")
	}
	defer rows.Close()
	var out []ding.GroupHead
	for rows.Next() {
		var h ding.GroupHead
		if err := rows.Scan(&h.ChatID, &h.LastSeq, &h.ReadSeq); err != nil {
			return nil, translate(err, "groups")
		}
		out = append(out, h)
	}
	return out, translate(rows.Err(), "groups")
}
