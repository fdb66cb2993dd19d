package postgres

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

const subCols = `id, kind, key, corp_id, owner_key, types, token, aes_key, url, created_at, updated_at`

func scanSub(row pgx.Row) (ding.Subscription, error) {
	var s ding.Subscription
	var types string
	if err := row.Scan(&s.ID, &s.Kind, &s.Key, &s.CorpID, &s.OwnerKey, &types, &s.Token, &s.AESKey, &s.URL, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(types), &s.Types)
}

func typesJSON(t []string) string {
	if t == nil {
		t = []string{}
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// cursorStart is the corp's newest event: the counter row moves in commit
// order, so a cursor placed there misses nothing committed after it.
const cursorStart = `COALESCE((SELECT seq FROM event_seqs WHERE corp_id = $2), 0)`

// withTx runs fn in one explicit transaction on a pooled connection; the
// commit does not follow ctx, as in txn.commit.
func (s *Store) withTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	return translate(pgx.BeginFunc(wctx, s.pool, fn), what)
}

// SaveSubscription inserts or replaces sub; a new one starts at its corp's newest event.
func (s *Store) SaveSubscription(ctx context.Context, sub *ding.Subscription) error {
	return s.withTx(ctx, "subscription", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO subscriptions (`+subCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, key = excluded.key, corp_id = excluded.corp_id,
			owner_key = excluded.owner_key, types = excluded.types, token = excluded.token, aes_key = excluded.aes_key,
			url = excluded.url, updated_at = excluded.updated_at RETURNING created_at`,
			sub.ID, sub.Kind, sub.Key, sub.CorpID, sub.OwnerKey, typesJSON(sub.Types), sub.Token, sub.AESKey, sub.URL, sub.CreatedAt, sub.UpdatedAt).Scan(&sub.CreatedAt); err != nil {
			return err
		}
		if sub.Kind == ding.SubSuitePush {
			// every authorising corp from now, not from when the dispatcher
			// first looks: events in between would be missed
			_, err := tx.Exec(ctx, `INSERT INTO event_cursors (consumer, corp_id, seq)
				SELECT $1, a.corp_id, COALESCE((SELECT seq FROM event_seqs e WHERE e.corp_id = a.corp_id), 0)
				FROM suite_auths a WHERE a.suite_key = $2
				ON CONFLICT (consumer, corp_id) DO NOTHING`, "http:"+sub.ID, sub.Key)
			return err
		}
		if sub.CorpID == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO event_cursors (consumer, corp_id, seq) VALUES ($1, $2, `+cursorStart+`)
			ON CONFLICT (consumer, corp_id) DO NOTHING`, "http:"+sub.ID, sub.CorpID)
		return err
	})
}

// Subscription returns NotFound when id is unknown.
func (s *Store) Subscription(ctx context.Context, id string) (*ding.Subscription, error) {
	sub, err := scanSub(s.q().QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE id = $1`, id))
	if err != nil {
		return nil, translate(err, "subscription")
	}
	return &sub, nil
}

// Subscriptions lists every subscription by id.
func (s *Store) Subscriptions(ctx context.Context) ([]ding.Subscription, error) {
	rows, err := s.q().Query(ctx, `SELECT `+subCols+` FROM subscriptions ORDER BY id`)
	return collect(rows, err, "subscriptions", func(r pgx.Rows) (ding.Subscription, error) { return scanSub(r) })
}

// DeleteSubscription removes the subscription with its cursors and failed results.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.withTx(ctx, "subscription", func(tx pgx.Tx) error {
		ct, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return &ding.Error{Kind: ding.NotFound, Message: "subscription not found"}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_cursors WHERE consumer = $1`, "http:"+id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM failed_events WHERE sub_id = $1`, id)
		return err
	})
}

// EnsureCursor creates the consumer's cursor at the corp's newest event.
func (s *Store) EnsureCursor(ctx context.Context, consumer, corpID string) error {
	return s.withTx(ctx, "cursor", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO event_cursors (consumer, corp_id, seq) VALUES ($1, $2, `+cursorStart+`)
			ON CONFLICT (consumer, corp_id) DO NOTHING`, consumer, corpID)
		return err
	})
}

const cursorCols = `consumer, corp_id, seq, attempts, next_at, lease_owner, lease_until`

func scanCursor(row pgx.Row) (ding.Cursor, error) {
	var c ding.Cursor
	err := row.Scan(&c.Consumer, &c.CorpID, &c.Seq, &c.Attempts, &c.NextAt, &c.LeaseOwner, &c.LeaseUntil)
	return c, err
}

// Cursors lists the cursors of consumers named with prefix.
func (s *Store) Cursors(ctx context.Context, prefix string) ([]ding.Cursor, error) {
	rows, err := s.q().Query(ctx, `SELECT `+cursorCols+` FROM event_cursors WHERE left(consumer, length($1)) = $1 ORDER BY consumer, corp_id`, prefix)
	return collect(rows, err, "cursors", func(r pgx.Rows) (ding.Cursor, error) { return scanCursor(r) })
}

// LeaseCursor takes the cursor for owner when nobody else holds it.
func (s *Store) LeaseCursor(ctx context.Context, consumer, corpID, owner string, now, until int64) (*ding.Cursor, bool, error) {
	c, err := scanCursor(s.q().QueryRow(ctx, `UPDATE event_cursors SET lease_owner = $3, lease_until = $5
		WHERE consumer = $1 AND corp_id = $2 AND (lease_owner = '' OR lease_owner = $3 OR lease_until <= $4)
		RETURNING `+cursorCols, consumer, corpID, owner, now, until))
	if err == nil {
		return &c, true, nil
	}
	if err != pgx.ErrNoRows {
		return nil, false, translate(err, "cursor")
	}
	c, err = scanCursor(s.q().QueryRow(ctx, `SELECT `+cursorCols+` FROM event_cursors WHERE consumer = $1 AND corp_id = $2`, consumer, corpID))
	if err != nil {
		return nil, false, translate(err, "cursor")
	}
	return &c, false, nil
}

// SaveProgress moves the cursor and records attempts while p.Owner holds the lease.
func (s *Store) SaveProgress(ctx context.Context, p *ding.Progress) error {
	return s.withTx(ctx, "cursor", func(tx pgx.Tx) error {
		ct, err := tx.Exec(ctx, `UPDATE event_cursors SET seq = $1, attempts = $2, next_at = $3, lease_until = $4
			WHERE consumer = $5 AND corp_id = $6 AND lease_owner = $7`,
			p.Seq, p.Attempts, p.NextAt, p.LeaseUntil, p.Consumer, p.CorpID, p.Owner)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return &ding.Error{Kind: ding.Conflict, Message: "cursor lease lost"}
		}
		if len(p.Deliveries) > 0 {
			rows := make([][]any, len(p.Deliveries))
			for i, d := range p.Deliveries {
				rows[i] = []any{d.Consumer, d.CorpID, d.Seq, d.EventType, d.Attempt, d.At, d.Status, d.LatencyMs, d.Outcome, d.Error, d.Payload}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"event_deliveries"},
				[]string{"consumer", "corp_id", "seq", "event_type", "attempt", "at", "status", "latency_ms", "outcome", "error", "payload"},
				pgx.CopyFromRows(rows)); err != nil {
				return err
			}
		}
		for _, f := range p.Failed {
			if _, err := tx.Exec(ctx, `INSERT INTO failed_events (sub_id, corp_id, seq, type, event_time, payload) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT DO NOTHING`, f.SubID, f.CorpID, f.Seq, f.Type, f.EventTime, f.Payload); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleaseCursor gives up owner's lease.
func (s *Store) ReleaseCursor(ctx context.Context, consumer, corpID, owner string) error {
	return s.withTx(ctx, "cursor", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE event_cursors SET lease_owner = '', lease_until = 0 WHERE consumer = $1 AND corp_id = $2 AND lease_owner = $3`,
			consumer, corpID, owner)
		return err
	})
}

// DeleteCursors removes a consumer's cursors.
func (s *Store) DeleteCursors(ctx context.Context, consumer string) error {
	return s.withTx(ctx, "cursor", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM event_cursors WHERE consumer = $1`, consumer)
		return err
	})
}

// LatestEventSeq is the corp's newest committed event sequence number.
func (s *Store) LatestEventSeq(ctx context.Context, corpID string) (int64, error) {
	var n int64
	err := s.q().QueryRow(ctx, `SELECT COALESCE((SELECT seq FROM event_seqs WHERE corp_id = $1), 0)`, corpID).Scan(&n)
	return n, translate(err, "events")
}

// SuiteCorps lists the corps that authorised the suite.
func (s *Store) SuiteCorps(ctx context.Context, suiteKey string) ([]string, error) {
	rows, err := s.q().Query(ctx, `SELECT corp_id FROM suite_auths WHERE suite_key = $1 ORDER BY corp_id`, suiteKey)
	return collect(rows, err, "suite corps", func(r pgx.Rows) (string, error) {
		var c string
		return c, r.Scan(&c)
	})
}

const deliveryCols = `id, consumer, corp_id, seq, event_type, attempt, at, status, latency_ms, outcome, error, payload`

// Deliveries lists delivery attempts, newest first.
func (s *Store) Deliveries(ctx context.Context, f ding.DeliveryFilter) ([]ding.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM event_deliveries WHERE TRUE`
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if f.Consumer != "" {
		arg("consumer =", f.Consumer)
	}
	if f.CorpID != "" {
		arg("corp_id =", f.CorpID)
	}
	if f.Seq > 0 {
		arg("seq =", f.Seq)
	}
	if f.SeqFrom > 0 {
		arg("seq >=", f.SeqFrom)
	}
	if f.SeqTo > 0 {
		arg("seq <=", f.SeqTo)
	}
	if f.Before > 0 {
		arg("id <", f.Before)
	}
	args = append(args, f.Limit)
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.q().Query(ctx, q, args...)
	return collect(rows, err, "deliveries", func(r pgx.Rows) (ding.Delivery, error) {
		var d ding.Delivery
		err := r.Scan(&d.ID, &d.Consumer, &d.CorpID, &d.Seq, &d.EventType, &d.Attempt, &d.At, &d.Status, &d.LatencyMs, &d.Outcome, &d.Error, &d.Payload)
		return d, err
	})
}

// PruneDeliveries deletes attempts older than before.
func (s *Store) PruneDeliveries(ctx context.Context, before int64) error {
	return s.withTx(ctx, "deliveries", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM event_deliveries WHERE at < $1`, before)
		return err
	})
}

// TakeFailedEvents returns and deletes up to limit failed results, oldest first.
func (s *Store) TakeFailedEvents(ctx context.Context, subID string, limit int) ([]ding.FailedEvent, bool, error) {
	var out []ding.FailedEvent
	var more bool
	err := s.withTx(ctx, "failed events", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT sub_id, corp_id, seq, type, event_time, payload FROM failed_events
			WHERE sub_id = $1 ORDER BY event_time, corp_id, seq LIMIT $2 FOR UPDATE`, subID, limit+1)
		out, err = collect(rows, err, "failed events", func(r pgx.Rows) (ding.FailedEvent, error) {
			var f ding.FailedEvent
			err := r.Scan(&f.SubID, &f.CorpID, &f.Seq, &f.Type, &f.EventTime, &f.Payload)
			return f, err
		})
		if err != nil {
			return err
		}
		more = len(out) > limit
		if more {
			out = out[:limit]
		}
		for _, f := range out {
			if _, err := tx.Exec(ctx, `DELETE FROM failed_events WHERE sub_id = $1 AND corp_id = $2 AND seq = $3`, f.SubID, f.CorpID, f.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	return out, more, err
}

// SaveStreamTicket stores a Stream ticket.
func (s *Store) SaveStreamTicket(ctx context.Context, t *ding.StreamTicket) error {
	return s.withTx(ctx, "stream ticket", func(tx pgx.Tx) error {
		// expired tickets go as new ones come, so the table stays small
		if _, err := tx.Exec(ctx, `DELETE FROM stream_tickets WHERE expires_at < $1`, t.ExpiresAt-2*ding.StreamTicketTTL.Milliseconds()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO stream_tickets (ticket, client_id, corp_id, info, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			t.Ticket, t.ClientID, t.CorpID, string(t.Info), t.ExpiresAt)
		return err
	})
}

// TakeStreamTicket deletes and returns a ticket: each admits one connection.
func (s *Store) TakeStreamTicket(ctx context.Context, ticket string) (*ding.StreamTicket, error) {
	var t ding.StreamTicket
	var info string
	err := s.q().QueryRow(ctx, `DELETE FROM stream_tickets WHERE ticket = $1 RETURNING ticket, client_id, corp_id, info, expires_at`, ticket).
		Scan(&t.Ticket, &t.ClientID, &t.CorpID, &info, &t.ExpiresAt)
	if err != nil {
		return nil, translate(err, "stream ticket")
	}
	t.Info = []byte(info)
	return &t, nil
}
