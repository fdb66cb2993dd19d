package postgres

import (
	"context"
	"slices"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

// queueEvents queues the statements that append events to their corps' logs
// and, once the batch has run, sets each event's Seq. Per corp, one statement
// moves the corp's counter row by the number of its events and another
// inserts them numbered below the new value: the counter row stays locked
// until the transaction ends, so concurrent writers of one corp are numbered
// in commit order, and a rollback returns the numbers with the events.
// Corps are taken in sorted order so that two transactions never wait on
// each other's counters.
func queueEvents(b *pgx.Batch, events []ding.Event) {
	byCorp := map[string][]int{}
	var corps []string
	for i, e := range events {
		if _, ok := byCorp[e.CorpID]; !ok {
			corps = append(corps, e.CorpID)
		}
		byCorp[e.CorpID] = append(byCorp[e.CorpID], i)
	}
	slices.Sort(corps)
	for _, corp := range corps {
		idx := byCorp[corp]
		n := len(idx)
		types, chats, opens, ops, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at := make([]int64, n)
		for j, i := range idx {
			e := &events[i]
			types[j], chats[j], opens[j], ops[j], at[j] = e.Type, e.ChatID, e.OpenConversationID, e.Operator, e.CreatedAt
			data[j] = string(e.Data)
			if len(e.Data) == 0 {
				data[j] = "{}"
			}
		}
		b.Queue(`INSERT INTO event_seqs AS s (corp_id, seq) VALUES ($1, $2)
			ON CONFLICT (corp_id) DO UPDATE SET seq = s.seq + excluded.seq RETURNING s.seq`, corp, n).
			QueryRow(func(row pgx.Row) error {
				var last int64
				if err := row.Scan(&last); err != nil {
					return err
				}
				for j, i := range idx {
					events[i].Seq = last - int64(n) + int64(j) + 1
				}
				return nil
			})
		b.Queue(`INSERT INTO events (corp_id, seq, type, chat_id, open_conversation_id, operator, data, created_at)
			SELECT $1, (SELECT seq FROM event_seqs WHERE corp_id = $1) - $2 + e.ord, e.type, e.chat_id, e.open_id, e.operator, e.data, e.created_at
			FROM (SELECT unnest($3::text[]) AS type, unnest($4::text[]) AS chat_id, unnest($5::text[]) AS open_id,
				unnest($6::text[]) AS operator, unnest($7::text[]) AS data, unnest($8::bigint[]) AS created_at,
				generate_subscripts($3::text[], 1) AS ord) AS e`,
			corp, n, types, chats, opens, ops, data, at)
	}
}

var _ ding.EventNotifier = (*Store)(nil)

// OnEvents has f told, after each of this node's commits that appended
// events, which corps' logs moved (ding.EventNotifier); the live hub
// announces them to the other nodes. f runs on the committing goroutine:
// it must not block.
func (s *Store) OnEvents(f func(corps []string)) { s.onEvents.Add(f) }

// tellEvents reports the corps of events a transaction committed. Every
// write that queues events calls it once its transaction committed.
func (s *Store) tellEvents(events []ding.Event) {
	if !s.onEvents.Any() || len(events) == 0 {
		return
	}
	corps := make([]string, 0, 1)
	for i := range events {
		if !slices.Contains(corps, events[i].CorpID) {
			corps = append(corps, events[i].CorpID)
		}
	}
	s.onEvents.Tell(corps)
}

// Events returns a corp's events with Seq > after, oldest first.
func (s *Store) Events(ctx context.Context, corpID string, after int64, limit int) ([]ding.Event, error) {
	rows, err := s.q().Query(ctx, `SELECT corp_id, seq, type, chat_id, open_conversation_id, operator, data, created_at
		FROM events WHERE corp_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, corpID, after, limit)
	return collect(rows, err, "events", func(r pgx.Rows) (ding.Event, error) {
		var e ding.Event
		var data string
		err := r.Scan(&e.CorpID, &e.Seq, &e.Type, &e.ChatID, &e.OpenConversationID, &e.Operator, &data, &e.CreatedAt)
		e.Data = []byte(data)
		return e, err
	})
}
