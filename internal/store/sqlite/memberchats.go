package sqlite

import (
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

// A staff member's groups are member_chats and the pending groups whose
// members include them (migration 0014). A create names its group in
// member_chats_pending instead of writing forty scattered index entries;
// once mergeAt groups are pending the writer moves their members into
// member_chats in one sorted INSERT, each member's new entries side by side.
// A group is pending or merged, never both: every change of a merged
// group's members goes to member_chats in the same transaction.
var mergeAt = 64

// memberChatIDs selects the chat_id of every group of the staff member
// bound twice after it. Queries join chats to it with CROSS JOIN, which
// keeps it the outer loop: SQLite would otherwise walk every group of the
// corp by chats_corp and test each.
const memberChatIDs = `SELECT chat_id FROM member_chats WHERE kind = 'emp' AND member_id = ?
	UNION ALL SELECT p.chat_id FROM member_chats_pending p CROSS JOIN
		chat_members m ON m.chat_id = p.chat_id AND m.kind = 'emp' AND m.member_id = ?`

// markPending names a new group as pending; past mergeAt it queues the
// merge, which runs after this batch commits.
func (s *Store) markPending(tx *sql.Tx, chatID string) error {
	if _, err := tx.Exec(`INSERT INTO member_chats_pending (chat_id) VALUES (?)`, chatID); err != nil {
		return translate(err, "group")
	}
	// counted, not read: a count off by a rolled-back create only moves
	// the next merge a little. Every mergeAt more it is queued again even
	// if one is queued: a merge whose batch SQLite rolled back (a full
	// disk) leaves the flag set.
	if s.pendingChats++; s.pendingChats >= mergeAt && (!s.mergeQueued || s.pendingChats%mergeAt == 0) {
		select {
		case s.reqs <- &writeReq{fn: s.mergePending, err: make(chan error, 1)}:
			s.mergeQueued = true
		default: // a full queue: the next create asks again
		}
	}
	return nil
}

// mergePending moves the pending groups' members into member_chats.
func (s *Store) mergePending(tx *sql.Tx) error {
	s.mergeQueued = false // failed, the next create queues it again
	if _, err := tx.Exec(`INSERT INTO member_chats (kind, member_id, chat_id)
		SELECT m.kind, m.member_id, m.chat_id FROM member_chats_pending p CROSS JOIN chat_members m ON m.chat_id = p.chat_id
		ORDER BY m.kind, m.member_id, m.chat_id`); err != nil {
		return translate(err, "member")
	}
	if _, err := tx.Exec(`DELETE FROM member_chats_pending`); err != nil {
		return translate(err, "member")
	}
	s.pendingChats = 0
	return nil
}

// indexMembers applies a change of chatID's members to member_chats when
// the group is merged; a pending group's members are read from chat_members.
func indexMembers(tx *sql.Tx, chatID string, add, remove []ding.Member) error {
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	var pending bool
	if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM member_chats_pending WHERE chat_id = ?)`, chatID).Scan(&pending); err != nil {
		return translate(err, "member")
	}
	if pending {
		return nil
	}
	for _, m := range remove {
		if _, err := tx.Exec(`DELETE FROM member_chats WHERE kind = ? AND member_id = ? AND chat_id = ?`, m.Kind, m.ID, chatID); err != nil {
			return translate(err, "member")
		}
	}
	for _, m := range add {
		if _, err := tx.Exec(`INSERT INTO member_chats (kind, member_id, chat_id) VALUES (?, ?, ?)`, m.Kind, m.ID, chatID); err != nil {
			return translate(err, "member")
		}
	}
	return nil
}
