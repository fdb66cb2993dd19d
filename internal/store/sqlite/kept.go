package sqlite

import (
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

// The writer keeps, for each group it sends to, the group's row and the
// number its next message takes, so that a send is one INSERT instead of
// three statements (the row, MAX(seq), the INSERT): a third of the writer's
// time per send went to the two reads. The writer is the only one that
// inserts messages or changes a group's row, and only its goroutine touches
// what is kept, so it needs no lock. What keeps it true:
//   - every write that changes a group's row forgets that group at once
//     (moved, movedAll: creates, updates, bound apps and status, a deleted
//     corp, a reset), so the next send in the same batch reads it again
//     from the transaction;
//   - a send moves the number only after its INSERT succeeded, as its last
//     step, so a send that fails, or is rolled back to its savepoint, never
//     took a number;
//   - a batch that does not commit (rolled back, or a commit whose outcome
//     is unknown) forgets everything;
//   - each batch first asks SQLite whether another connection committed to
//     the file since the last (PRAGMA data_version: SQL by hand, another
//     process) and forgets everything if so, so such a change is seen by
//     the next write however long a row was kept; a send whose INSERT fails
//     forgets its group.
const maxKeptGroups = 1 << 14

type keptGroups struct {
	m map[string]*keptGroup
	// the writer connection's data_version, and which connection it was,
	// when the rows were last checked
	dataVersion, conn int64
	reads             int64 // rows read from the file (tests)
}

type keptGroup struct {
	g    ding.Group
	next int64 // the seq of the group's next message
}

// check forgets every row when the file changed behind the writer since
// the last batch, and reports whether it did. data_version moves only for
// other connections' commits, so the writer's own keep what it kept; a new
// writer connection starts afresh. Called at the start of each batch,
// inside its transaction.
func (ks *keptGroups) check(tx *sql.Tx, conn int64) bool {
	var v int64
	changed := false
	if err := tx.QueryRow(`PRAGMA data_version`).Scan(&v); err != nil || v != ks.dataVersion || conn != ks.conn {
		ks.m = nil
		changed = true
	}
	ks.dataVersion, ks.conn = v, conn
	return changed
}

// group returns the kept row of chatID, reading it and its newest message's
// number through tx when it is not kept. NotFound when corpID has no such
// group.
func (s *Store) keptGroup(tx *sql.Tx, corpID, chatID string) (*keptGroup, error) {
	k := s.kept.m[chatID]
	if k == nil {
		g, err := scanGroup(tx.QueryRow(`SELECT `+chatCols+` FROM chats WHERE chat_id = ?`, chatID))
		if err != nil {
			return nil, translate(err, "group")
		}
		var last int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = ?`, chatID).Scan(&last); err != nil {
			return nil, translate(err, "message")
		}
		s.kept.reads++
		k = &keptGroup{g: *g, next: last + 1}
		if s.kept.m == nil || len(s.kept.m) >= maxKeptGroups {
			s.kept.m = make(map[string]*keptGroup)
		}
		s.kept.m[chatID] = k
	}
	if k.g.CorpID != corpID {
		return nil, &ding.Error{Kind: ding.NotFound, Message: "group not found"}
	}
	return k, nil
}

func (ks *keptGroups) forget(chatID string) { delete(ks.m, chatID) }

func (ks *keptGroups) clear() { ks.m = nil }
