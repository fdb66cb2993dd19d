package sqlite

import (
	"database/sql"
	"time"

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
//   - a row is read again once it is keptFor old, so a change made behind
//     the store (SQL by hand) is seen within keptFor, as the service's
//     caches see it; a send whose INSERT fails forgets its group.
const (
	maxKeptGroups = 1 << 14
	keptFor       = time.Second
)

type keptGroups struct {
	m   map[string]*keptGroup
	ttl time.Duration // keptFor; tests lower it
}

type keptGroup struct {
	g    ding.Group
	next int64     // the seq of the group's next message
	read time.Time // when g was read
}

// group returns the kept row of chatID, reading it and its newest message's
// number through tx when it is not kept or too old. NotFound when corpID has
// no such group.
func (s *Store) keptGroup(tx *sql.Tx, corpID, chatID string) (*keptGroup, error) {
	k := s.kept.m[chatID]
	if k == nil || s.batchAt.Sub(k.read) >= s.kept.maxAge() {
		g, err := scanGroup(tx.QueryRow(`SELECT `+chatCols+` FROM chats WHERE chat_id = ?`, chatID))
		if err != nil {
			return nil, translate(err, "group")
		}
		var last int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = ?`, chatID).Scan(&last); err != nil {
			return nil, translate(err, "message")
		}
		k = &keptGroup{g: *g, next: last + 1, read: s.batchAt}
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

func (ks *keptGroups) maxAge() time.Duration {
	if ks.ttl > 0 {
		return ks.ttl
	}
	return keptFor
}

func (ks *keptGroups) forget(chatID string) { delete(ks.m, chatID) }

func (ks *keptGroups) clear() { ks.m = nil }
