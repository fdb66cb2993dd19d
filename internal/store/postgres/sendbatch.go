package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

// Sends without events are written by this node's group commit: the sends
// queued while a batch commits travel together in the next one. A batch is
// one statement in one round trip: it judges each send against the group's
// header as this node keeps it (headers.go), then locks each group's row
// once (in chat_id order, so that batches of two nodes never deadlock),
// moves the row's counter by the group's sends only where the row's version
// is still the one judged, and inserts the messages numbered from the
// returned counter. The order stays gap-free across nodes because every
// batch that numbers a group's messages holds its row until it commits.
// Sends of groups whose version moved are judged again on a fresh read and
// go in the next round; when their groups keep changing, they are written
// under row locks read first (writeLocked).
//
// A node has one send batch in flight: the sends that arrive while it
// commits wait and form the next. A second writer halved the batches (4-5
// sends instead of 8 at 16 connections) and nearly every cost of a batch is
// paid per batch: the commit's WAL flush, the statement's start, the round
// trip's system calls on both sides (performance.md, change 29).
const (
	maxSendBatch = 256
	sendWriters  = 1
)

type sendReq struct {
	m     *ding.Message
	check func(*ding.Group) error
	err   chan error
}

type sendQueue struct {
	commitQueue[*sendReq]
	headers headers
	notices notices // head announcements riding with the next batch (heads.go)
}

func (s *Store) startSenders() {
	s.sends.write, s.sends.maxBatch = s.writeSends, maxSendBatch
	s.sends.start(sendWriters)
}

// send queues m for the group commit and waits for its outcome.
func (s *Store) send(ctx context.Context, m *ding.Message, check func(*ding.Group) error) error {
	r := &sendReq{m: m, check: check, err: make(chan error, 1)}
	return s.sends.submit(ctx, r, r.err)
}

// judge runs a caller's check, turning a panic into an error of its own.
func judge(check func(*ding.Group) error, g *ding.Group) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ding.Error{Kind: ding.Internal, Err: fmt.Errorf("panic in check: %v", p)}
		}
	}()
	return check(g)
}

// sendBatchSQL writes one round of a batch. $1…$3 are the groups (sorted),
// the versions their sends were judged against and how many sends each
// has; $4… are the messages, $5 a message's place among its group's sends
// (1…n). It answers each group whose version held with the counter before
// its sends; a group left out was changed and nothing of it was written.
// The update takes each group's row lock as it reaches the row, so the
// rows must be reached in chat_id order, or two nodes' batches could lock
// two groups in opposite orders and deadlock: sendPlan allows the planner
// nothing but a nested loop from the sorted arrays into chats' primary key
// (TestSendBatchLocksInOrder holds it to that). Locking the rows first in
// a sorted CTE of their own, as this did before, cost a lock record per
// group and a second join, about a tenth of each batch's round trip. The
// arrays are unnested in select lists, not in FROM: a function in FROM
// fills a tuplestore of its own (16 KiB at least), and twelve of them made
// every batch grow the backend's heap by ~300 KiB and give it back, an
// munmap and its TLB shootdown per batch (performance.md, change 37).
const sendBatchSQL = `WITH u AS (
		UPDATE chats SET last_seq = chats.last_seq + g.n
		FROM (SELECT unnest($1::text[]) AS id, unnest($2::int8[]) AS v, unnest($3::int8[]) AS n) AS g
		WHERE chats.chat_id = g.id AND chats.version = g.v
		RETURNING chats.chat_id, chats.last_seq - g.n AS base),
	i AS (
		INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at)
		SELECT m.c, u.base + m.p, m.i, m.co, m.st, m.se, m.mt, m.bo, 0, m.ca
		FROM (SELECT unnest($4::text[]) AS c, unnest($5::int8[]) AS p, unnest($6::text[]) AS i,
			unnest($7::text[]) AS co, unnest($8::text[]) AS st, unnest($9::text[]) AS se,
			unnest($10::text[]) AS mt, unnest($11::bytea[]) AS bo, unnest($12::int8[]) AS ca) AS m
		JOIN u ON u.chat_id = m.c)
	SELECT chat_id, base FROM u`

// sendPlan sets, for the batch's transaction alone, one generic plan for
// every batch (planning it anew cost as much as running it) and the join
// the update's lock order rests on: with hash, merge, bitmap and
// sequential scans off, chats is reached only through its primary key,
// row by row in the order of the sorted groups, or in that key's own order.
const sendPlan = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
	set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`

// writeSends commits one batch and answers every request in it.
func (s *Store) writeSends(batch []*sendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	s.sends.notices.begin()
	defer func() { s.sends.notices.end(len(s.sends.reqs) > 0) }()
	pending := batch
	for round := 0; round < optimisticSends && len(pending) > 0; round++ {
		var err error
		if pending, err = s.writeRound(ctx, pending); err != nil {
			// the round as a whole failed (a duplicate id, the database
			// gone): each send is tried alone so that each gets its own answer
			for _, r := range pending {
				r.err <- s.appendOne(ctx, r.m, r.check)
			}
			return
		}
	}
	if len(pending) > 0 {
		s.writeLocked(ctx, pending)
	}
}

// writeRound judges reqs against the kept headers (reading those it lacks
// in one query), writes the sends that pass in one statement, answers what
// it settled and returns the rest: sends whose group changed since its
// header was read, or was refused on a header kept from before. On error
// nothing was written and the returned requests are unanswered.
func (s *Store) writeRound(ctx context.Context, reqs []*sendReq) ([]*sendReq, error) {
	type group struct {
		h     header
		g     ding.Group // the copy the checks see
		fresh bool       // read in this round
		n     int64
	}
	groups := make(map[string]*group, len(reqs))
	var missing []string
	for _, r := range reqs {
		id := r.m.ChatID
		if _, ok := groups[id]; ok {
			continue
		}
		gr := &group{}
		groups[id] = gr
		if h, ok := s.sends.headers.get(id); ok {
			gr.h = h
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		rows, err := s.q().Query(ctx, `SELECT `+chatCols+`, version FROM chats WHERE chat_id = ANY($1)`, missing)
		if err != nil {
			return reqs, err
		}
		for rows.Next() {
			var h header
			if err := rows.Scan(scanInto(&h.g, &h.version)...); err != nil {
				rows.Close()
				return reqs, err
			}
			s.sends.headers.put(h)
			groups[h.g.ChatID].h = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return reqs, err
		}
		for _, id := range missing {
			groups[id].fresh = true // not found is as fresh as found
		}
	}
	for _, gr := range groups {
		if gr.h.g != nil {
			gr.g = *gr.h.g
		}
	}

	var (
		rest, written                                     []*sendReq
		pos                                               []int64
		chats, msgIDs, corps, senderTypes, senders, types []string
		created                                           []int64
		bodies                                            [][]byte
	)
	for _, r := range reqs {
		m := r.m
		gr := groups[m.ChatID]
		var err error
		if gr.h.g == nil || gr.g.CorpID != m.CorpID {
			err = translateGroup(pgx.ErrNoRows)
		} else if r.check != nil {
			err = judge(r.check, &gr.g)
		}
		if err != nil {
			if gr.fresh {
				r.err <- err
			} else {
				// judged on a header kept from before: read it again
				s.sends.headers.drop(m.ChatID, gr.h.version)
				rest = append(rest, r)
			}
			continue
		}
		gr.n++
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		written, pos = append(written, r), append(pos, gr.n)
		chats, msgIDs, corps = append(chats, m.ChatID), append(msgIDs, m.ID), append(corps, m.CorpID)
		senderTypes, senders, types = append(senderTypes, m.SenderType), append(senders, m.Sender), append(types, m.MsgType)
		bodies, created = append(bodies, body), append(created, m.CreatedAt)
	}
	if len(written) == 0 {
		return rest, nil
	}
	ids := make([]string, 0, len(groups))
	for id, gr := range groups {
		if gr.n > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	versions, counts := make([]int64, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		versions[i], counts[i] = groups[id].h.version, groups[id].n
	}
	base := make(map[string]int64, len(ids))
	ns := s.sends.notices.take()
	err := s.txOf(ctx, "message", len(written), func(t *txn) error {
		clear(base)
		b := &pgx.Batch{}
		b.Queue(sendPlan)
		b.Queue(sendBatchSQL, ids, versions, counts, chats, pos, msgIDs, corps, senderTypes, senders, types, bodies, created).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id string
					var n int64
					if err := rows.Scan(&id, &n); err != nil {
						return err
					}
					base[id] = n
				}
				return rows.Err()
			})
		for _, n := range ns {
			n.queue(b) // announced when the batch commits
		}
		return t.commit(ctx, b)
	})
	answer(ns, err == nil)
	if err != nil {
		return append(rest, written...), err
	}
	for i, r := range written {
		id := r.m.ChatID
		n, ok := base[id]
		if !ok {
			// the group changed after its header was read: judge it again
			s.sends.headers.drop(id, groups[id].h.version)
			rest = append(rest, r)
			continue
		}
		r.m.Seq = n + pos[i]
		r.err <- nil
	}
	return rest, nil
}

// writeLocked commits a batch under its groups' row locks, read first, and
// answers every request in it: two round trips, for the sends whose groups
// kept changing under the optimistic write.
func (s *Store) writeLocked(ctx context.Context, batch []*sendReq) {
	n := len(batch)
	errs := make([]error, n)
	seqs := make([]int64, n)
	err := s.txOf(ctx, "message", n, func(t *txn) error {
		clear(errs)
		ids := make([]string, 0, n)
		for _, r := range batch {
			ids = append(ids, r.m.ChatID)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		groups := make(map[string]*ding.Group, len(ids))
		last := make(map[string]int64, len(ids))
		b := &pgx.Batch{}
		b.Queue(`SELECT `+chatCols+`, last_seq FROM chats WHERE chat_id = ANY($1) ORDER BY chat_id FOR NO KEY UPDATE`, ids).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var g *ding.Group
					var seq int64
					if err := rows.Scan(scanInto(&g, &seq)...); err != nil {
						return err
					}
					groups[g.ChatID], last[g.ChatID] = g, seq
				}
				return rows.Err()
			})
		if err := t.read(ctx, b); err != nil {
			return err
		}
		var (
			chats, msgIDs, corps, senderTypes, senders, types []string
			nums, created                                     []int64
			bodies                                            [][]byte
		)
		for i, r := range batch {
			m := r.m
			g := groups[m.ChatID]
			if g == nil || g.CorpID != m.CorpID {
				errs[i] = translateGroup(pgx.ErrNoRows)
				continue
			}
			if r.check != nil {
				if errs[i] = judge(r.check, g); errs[i] != nil {
					continue
				}
			}
			last[m.ChatID]++
			seqs[i] = last[m.ChatID]
			body := m.Body
			if body == nil {
				body = []byte{}
			}
			chats, nums, msgIDs, corps = append(chats, m.ChatID), append(nums, seqs[i]), append(msgIDs, m.ID), append(corps, m.CorpID)
			senderTypes, senders, types = append(senderTypes, m.SenderType), append(senders, m.Sender), append(types, m.MsgType)
			bodies, created = append(bodies, body), append(created, m.CreatedAt)
		}
		if len(chats) == 0 {
			return nil // nothing to write; the transaction is rolled back
		}
		tops, counters := make([]string, 0, len(last)), make([]int64, 0, len(last))
		for _, id := range ids {
			if _, ok := groups[id]; ok {
				tops, counters = append(tops, id), append(counters, last[id])
			}
		}
		w := &pgx.Batch{}
		w.Queue(`UPDATE chats SET last_seq = u.seq FROM (SELECT unnest($1::text[]) AS chat_id, unnest($2::int8[]) AS seq) AS u
			WHERE chats.chat_id = u.chat_id`, tops, counters)
		w.Queue(`INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at)
			SELECT c, q, i, co, st, se, mt, bo, 0, ca
			FROM (SELECT unnest($1::text[]) AS c, unnest($2::int8[]) AS q, unnest($3::text[]) AS i,
				unnest($4::text[]) AS co, unnest($5::text[]) AS st, unnest($6::text[]) AS se,
				unnest($7::text[]) AS mt, unnest($8::bytea[]) AS bo, unnest($9::int8[]) AS ca) AS u`,
			chats, nums, msgIDs, corps, senderTypes, senders, types, bodies, created)
		return t.commit(ctx, w)
	})
	if err != nil {
		// the batch as a whole failed (a duplicate id, the database gone):
		// each send is tried alone so that each gets its own answer
		for i, r := range batch {
			if errs[i] == nil {
				errs[i] = s.appendOne(ctx, r.m, r.check)
			}
			r.err <- errs[i]
		}
		return
	}
	for i, r := range batch {
		if errs[i] == nil {
			r.m.Seq = seqs[i]
		}
		r.err <- errs[i]
	}
}
