package sqlite

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// MemberHeads reads the member's groups with their newest Seq (one indexed
// MAX each) and read marks in one statement.
func (s *Store) MemberHeads(ctx context.Context, corpID, userID string) ([]ding.GroupHead, error) {
	rows, err := s.readRows(ctx, `SELECT c.chat_id, COALESCE((SELECT MAX(seq) FROM messages WHERE chat_id = c.chat_id), 0),
		COALESCE((SELECT seq FROM read_marks WHERE chat_id = c.chat_id AND userid = ?), 0)
		FROM (`+memberChatIDs+`) AS mc
		CROSS JOIN chats c ON c.chat_id = mc.chat_id WHERE c.corp_id = ? ORDER BY c.created_at DESC, c.chat_id`,
		userID, userID, userID, corpID)
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
