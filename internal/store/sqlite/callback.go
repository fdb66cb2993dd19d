package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/dingchat/dingchat/internal/ding"
)

const subCols = `id, kind, key, corp_id, owner_key, types, token, aes_key, url, created_at, updated_at`

func scanSub(row interface{ Scan(...any) error }) (*ding.Subscription, error) {
	var s ding.Subscription
	var types string
	if err := row.Scan(&s.ID, &s.Kind, &s.Key, &s.CorpID, &s.OwnerKey, &types, &s.Token, &s.AESKey, &s.URL, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &s.Types); err != nil {
		return nil, err
	}
	return &s, nil
}

func typesJSON(t []string) string {
	if t == nil {
		t = []string{}
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// SaveSubscription inserts or replaces sub; a new one starts at its corp's newest event.
func (s *Store) SaveSubscription(ctx context.Context, sub *ding.Subscription) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRow(`SELECT created_at FROM subscriptions WHERE id = ?`, sub.ID).Scan(&created)
		isNew := err == sql.ErrNoRows
		if err != nil && !isNew {
			return translate(err, "subscription")
		}
		if !isNew {
			sub.CreatedAt = created
		}
		if _, err := tx.Exec(`INSERT INTO subscriptions (`+subCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, key = excluded.key, corp_id = excluded.corp_id,
			owner_key = excluded.owner_key, types = excluded.types, token = excluded.token, aes_key = excluded.aes_key,
			url = excluded.url, updated_at = excluded.updated_at`,
			sub.ID, sub.Kind, sub.Key, sub.CorpID, sub.OwnerKey, typesJSON(sub.Types), sub.Token, sub.AESKey, sub.URL, sub.CreatedAt, sub.UpdatedAt); err != nil {
			return translate(err, "subscription")
		}
		if isNew && sub.CorpID != "" {
			return ensureCursor(tx, "http:"+sub.ID, sub.CorpID)
		}
		if isNew && sub.Kind == ding.SubSuitePush {
			// every authorising corp from now, not from when the dispatcher
			// first looks: events in between would be missed
			_, err := tx.Exec(`INSERT INTO event_cursors (consumer, corp_id, seq)
				SELECT ?, a.corp_id, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE corp_id = a.corp_id)
				FROM suite_auths a WHERE a.suite_key = ?
				ON CONFLICT (consumer, corp_id) DO NOTHING`, "http:"+sub.ID, sub.Key)
			return translate(err, "cursor")
		}
		return nil
	})
}

func ensureCursor(tx *sql.Tx, consumer, corpID string) error {
	_, err := tx.Exec(`INSERT INTO event_cursors (consumer, corp_id, seq)
		VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE corp_id = ?))
		ON CONFLICT (consumer, corp_id) DO NOTHING`, consumer, corpID, corpID)
	return translate(err, "cursor")
}

// Subscription returns NotFound when id is unknown.
func (s *Store) Subscription(ctx context.Context, id string) (*ding.Subscription, error) {
	sub, err := scanSub(s.readRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE id = ?`, id))
	if err != nil {
		return nil, translate(err, "subscription")
	}
	return sub, nil
}

// Subscriptions lists every subscription by id.
func (s *Store) Subscriptions(ctx context.Context) ([]ding.Subscription, error) {
	rows, err := s.readRows(ctx, `SELECT `+subCols+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, translate(err, "subscriptions")
	}
	defer rows.Close()
	var out []ding.Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, translate(err, "subscriptions")
		}
		out = append(out, *sub)
	}
	return out, translate(rows.Err(), "subscriptions")
}

// DeleteSubscription removes the subscription with its cursors and failed results.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM subscriptions WHERE id = ?`, id)
		if err != nil {
			return translate(err, "subscription")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &ding.Error{Kind: ding.NotFound, Message: "subscription not found"}
		}
		if _, err := tx.Exec(`DELETE FROM event_cursors WHERE consumer = ?`, "http:"+id); err != nil {
			return translate(err, "cursor")
		}
		_, err = tx.Exec(`DELETE FROM failed_events WHERE sub_id = ?`, id)
		return translate(err, "failed events")
	})
}

// EnsureCursor creates the consumer's cursor at the corp's newest event.
func (s *Store) EnsureCursor(ctx context.Context, consumer, corpID string) error {
	return s.do(ctx, func(tx *sql.Tx) error { return ensureCursor(tx, consumer, corpID) })
}

const cursorCols = `consumer, corp_id, seq, attempts, next_at, lease_owner, lease_until`

func scanCursor(row interface{ Scan(...any) error }) (*ding.Cursor, error) {
	var c ding.Cursor
	if err := row.Scan(&c.Consumer, &c.CorpID, &c.Seq, &c.Attempts, &c.NextAt, &c.LeaseOwner, &c.LeaseUntil); err != nil {
		return nil, err
	}
	return &c, nil
}

// Cursors lists the cursors of consumers named with prefix.
func (s *Store) Cursors(ctx context.Context, prefix string) ([]ding.Cursor, error) {
	rows, err := s.readRows(ctx, `SELECT `+cursorCols+` FROM event_cursors WHERE substr(consumer, 1, length(?)) = ? ORDER BY consumer, corp_id`, prefix, prefix)
	if err != nil {
		return nil, translate(err, "cursors")
	}
	defer rows.Close()
	var out []ding.Cursor
	for rows.Next() {
		c, err := scanCursor(rows)
		if err != nil {
			return nil, translate(err, "cursors")
		}
		out = append(out, *c)
	}
	return out, translate(rows.Err(), "cursors")
}

// LeaseCursor takes the cursor for owner when nobody else holds it.
func (s *Store) LeaseCursor(ctx context.Context, consumer, corpID, owner string, now, until int64) (*ding.Cursor, bool, error) {
	var c *ding.Cursor
	var ok bool
	err := s.do(ctx, func(tx *sql.Tx) error {
		cur, err := scanCursor(tx.QueryRow(`SELECT `+cursorCols+` FROM event_cursors WHERE consumer = ? AND corp_id = ?`, consumer, corpID))
		if err != nil {
			return translate(err, "cursor")
		}
		c = cur
		if cur.LeaseOwner != "" && cur.LeaseOwner != owner && cur.LeaseUntil > now {
			return nil
		}
		if _, err := tx.Exec(`UPDATE event_cursors SET lease_owner = ?, lease_until = ? WHERE consumer = ? AND corp_id = ?`,
			owner, until, consumer, corpID); err != nil {
			return translate(err, "cursor")
		}
		c.LeaseOwner, c.LeaseUntil, ok = owner, until, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return c, ok, nil
}

// SaveProgress moves the cursor and records attempts while p.Owner holds the lease.
func (s *Store) SaveProgress(ctx context.Context, p *ding.Progress) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE event_cursors SET seq = ?, attempts = ?, next_at = ?, lease_until = ?
			WHERE consumer = ? AND corp_id = ? AND lease_owner = ?`,
			p.Seq, p.Attempts, p.NextAt, p.LeaseUntil, p.Consumer, p.CorpID, p.Owner)
		if err != nil {
			return translate(err, "cursor")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &ding.Error{Kind: ding.Conflict, Message: "cursor lease lost"}
		}
		if len(p.Deliveries) > 0 {
			// one statement for the batch: parsing SQL costs more than the insert
			st, err := tx.Prepare(`INSERT INTO event_deliveries (consumer, corp_id, seq, event_type, attempt, at, status, latency_ms, outcome, error, payload)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return translate(err, "delivery")
			}
			defer st.Close()
			for _, d := range p.Deliveries {
				if _, err := st.Exec(d.Consumer, d.CorpID, d.Seq, d.EventType, d.Attempt, d.At, d.Status, d.LatencyMs, d.Outcome, d.Error, d.Payload); err != nil {
					return translate(err, "delivery")
				}
			}
		}
		for _, f := range p.Failed {
			if _, err := tx.Exec(`INSERT INTO failed_events (sub_id, corp_id, seq, type, event_time, payload) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, f.SubID, f.CorpID, f.Seq, f.Type, f.EventTime, f.Payload); err != nil {
				return translate(err, "failed event")
			}
		}
		return nil
	})
}

// ReleaseCursor gives up owner's lease.
func (s *Store) ReleaseCursor(ctx context.Context, consumer, corpID, owner string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE event_cursors SET lease_owner = '', lease_until = 0 WHERE consumer = ? AND corp_id = ? AND lease_owner = ?`,
			consumer, corpID, owner)
		return translate(err, "cursor")
	})
}

// DeleteCursors removes a consumer's cursors.
func (s *Store) DeleteCursors(ctx context.Context, consumer string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM event_cursors WHERE consumer = ?`, consumer)
		return translate(err, "cursor")
	})
}

// LatestEventSeq is the corp's newest event sequence number.
func (s *Store) LatestEventSeq(ctx context.Context, corpID string) (int64, error) {
	var n int64
	err := s.readRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE corp_id = ?`, corpID).Scan(&n)
	return n, translate(err, "events")
}

// SuiteCorps lists the corps that authorised the suite.
func (s *Store) SuiteCorps(ctx context.Context, suiteKey string) ([]string, error) {
	rows, err := s.readRows(ctx, `SELECT corp_id FROM suite_auths WHERE suite_key = ? ORDER BY corp_id`, suiteKey)
	if err != nil {
		return nil, translate(err, "suite corps")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, translate(err, "suite corps")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "suite corps")
}

const deliveryCols = `id, consumer, corp_id, seq, event_type, attempt, at, status, latency_ms, outcome, error, payload`

// Deliveries lists delivery attempts, newest first.
func (s *Store) Deliveries(ctx context.Context, f ding.DeliveryFilter) ([]ding.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM event_deliveries WHERE 1 = 1`
	var args []any
	if f.Consumer != "" {
		q += ` AND consumer = ?`
		args = append(args, f.Consumer)
	}
	if f.CorpID != "" {
		q += ` AND corp_id = ?`
		args = append(args, f.CorpID)
	}
	if f.Seq > 0 {
		q += ` AND seq = ?`
		args = append(args, f.Seq)
	}
	if f.SeqFrom > 0 {
		q += ` AND seq >= ?`
		args = append(args, f.SeqFrom)
	}
	if f.SeqTo > 0 {
		q += ` AND seq <= ?`
		args = append(args, f.SeqTo)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.readRows(ctx, q, args...)
	if err != nil {
		return nil, translate(err, "deliveries")
	}
	defer rows.Close()
	var out []ding.Delivery
	for rows.Next() {
		var d ding.Delivery
		if err := rows.Scan(&d.ID, &d.Consumer, &d.CorpID, &d.Seq, &d.EventType, &d.Attempt, &d.At, &d.Status, &d.LatencyMs, &d.Outcome, &d.Error, &d.Payload); err != nil {
			return nil, translate(err, "deliveries")
		}
		out = append(out, d)
	}
	return out, translate(rows.Err(), "deliveries")
}

// PruneDeliveries deletes attempts older than before.
func (s *Store) PruneDeliveries(ctx context.Context, before int64) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM event_deliveries WHERE at < ?`, before)
		return translate(err, "deliveries")
	})
}

// TakeFailedEvents returns and deletes up to limit failed results, oldest first.
func (s *Store) TakeFailedEvents(ctx context.Context, subID string, limit int) ([]ding.FailedEvent, bool, error) {
	var out []ding.FailedEvent
	var more bool
	err := s.do(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.Query(`SELECT sub_id, corp_id, seq, type, event_time, payload FROM failed_events
			WHERE sub_id = ? ORDER BY event_time, corp_id, seq LIMIT ?`, subID, limit+1)
		if err != nil {
			return translate(err, "failed events")
		}
		for rows.Next() {
			var f ding.FailedEvent
			if err := rows.Scan(&f.SubID, &f.CorpID, &f.Seq, &f.Type, &f.EventTime, &f.Payload); err != nil {
				rows.Close()
				return translate(err, "failed events")
			}
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err, "failed events")
		}
		more = len(out) > limit
		if more {
			out = out[:limit]
		}
		for _, f := range out {
			if _, err := tx.Exec(`DELETE FROM failed_events WHERE sub_id = ? AND corp_id = ? AND seq = ?`, f.SubID, f.CorpID, f.Seq); err != nil {
				return translate(err, "failed events")
			}
		}
		return nil
	})
	return out, more, err
}

// SaveStreamTicket stores a Stream ticket.
func (s *Store) SaveStreamTicket(ctx context.Context, t *ding.StreamTicket) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		// expired tickets go as new ones come, so the table stays small
		if _, err := tx.Exec(`DELETE FROM stream_tickets WHERE expires_at < ?`, t.ExpiresAt-2*ding.StreamTicketTTL.Milliseconds()); err != nil {
			return translate(err, "stream ticket")
		}
		_, err := tx.Exec(`INSERT INTO stream_tickets (ticket, client_id, corp_id, info, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.Ticket, t.ClientID, t.CorpID, string(t.Info), t.ExpiresAt)
		return translate(err, "stream ticket")
	})
}

// TakeStreamTicket deletes and returns a ticket: each admits one connection.
func (s *Store) TakeStreamTicket(ctx context.Context, ticket string) (*ding.StreamTicket, error) {
	var t ding.StreamTicket
	err := s.do(ctx, func(tx *sql.Tx) error {
		var info string
		if err := tx.QueryRow(`DELETE FROM stream_tickets WHERE ticket = ? RETURNING ticket, client_id, corp_id, info, expires_at`, ticket).
			Scan(&t.Ticket, &t.ClientID, &t.CorpID, &info, &t.ExpiresAt); err != nil {
			return translate(err, "stream ticket")
		}
		t.Info = []byte(info)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}
