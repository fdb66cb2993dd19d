package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

// Sends without events are written by this node's group commit: the sends
// queued while a batch commits travel together in the next one, which locks
// each group's row once (in chat_id order, so that batches of two nodes
// never deadlock), numbers its messages from the row's counter in queue
// order, and writes them all with two set-based statements. A group's row
// is thus locked once per batch instead of once per send, and the order
// stays gap-free across nodes because every batch that numbers a group's
// messages holds its row until it commits.
const (
	maxSendBatch = 256
	sendWriters  = 2 // batches in flight at once: one commits while the next forms
)

type sendReq struct {
	m     *ding.Message
	check func(*ding.Group) error
	err   chan error
}

type sendQueue struct {
	reqs chan *sendReq
	stop chan struct{}
	done chan struct{}
}

func (s *Store) startSenders() {
	s.sends = sendQueue{reqs: make(chan *sendReq, 4*maxSendBatch), stop: make(chan struct{}), done: make(chan struct{})}
	finished := make(chan struct{}, sendWriters)
	for range sendWriters {
		go func() {
			s.sendLoop()
			finished <- struct{}{}
		}()
	}
	go func() {
		for range sendWriters {
			<-finished
		}
		close(s.sends.done)
	}()
}

// stopSenders writes what is queued and stops the writers.
func (s *Store) stopSenders() {
	close(s.sends.stop)
	<-s.sends.done
}

// send queues m for the group commit and waits for its outcome. Once
// queued, the outcome is awaited even if ctx ends, so a caller never reports
// failure for a write that committed.
func (s *Store) send(ctx context.Context, m *ding.Message, check func(*ding.Group) error) error {
	r := &sendReq{m: m, check: check, err: make(chan error, 1)}
	select {
	case s.sends.reqs <- r:
	case <-ctx.Done():
		return &ding.Error{Kind: ding.Unavailable, Message: "request cancelled", Err: ctx.Err()}
	case <-s.sends.stop:
		return errClosed
	}
	select {
	case err := <-r.err:
		return err
	case <-s.sends.done:
		select {
		case err := <-r.err:
			return err
		default:
			return errClosed // queued after the final drain
		}
	}
}

func (s *Store) sendLoop() {
	batch := make([]*sendReq, 0, maxSendBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-s.sends.reqs:
			batch = append(batch, r)
		case <-s.sends.stop:
			for {
				select {
				case r := <-s.sends.reqs:
					s.writeSends([]*sendReq{r})
				default:
					return
				}
			}
		}
	drain:
		for len(batch) < maxSendBatch {
			select {
			case r := <-s.sends.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.writeSends(batch)
	}
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

// writeSends commits one batch and answers every request in it.
func (s *Store) writeSends(batch []*sendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	n := len(batch)
	errs := make([]error, n)
	seqs := make([]int64, n)
	err := s.tx(ctx, "message", func(t *txn) error {
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
		w.Queue(`UPDATE chats SET last_seq = u.seq FROM unnest($1::text[], $2::int8[]) AS u(chat_id, seq)
			WHERE chats.chat_id = u.chat_id`, tops, counters)
		w.Queue(`INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at)
			SELECT c, q, i, co, st, se, mt, bo, 0, ca
			FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::int8[])
				AS u(c, q, i, co, st, se, mt, bo, ca)`,
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
