package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.HeadNotices = (*Store)(nil)

// maxNotice keeps an announcement under PostgreSQL's 8000-byte payload.
const maxNotice = 7000

// headsChannel is the NOTIFY channel of the store's schema: notifications
// reach the whole database, and schemas (nodes of other deployments,
// parallel tests) must not hear each other.
func (s *Store) headsChannel(ctx context.Context) (string, error) {
	if c := s.channel.Load(); c != nil {
		return *c, nil
	}
	var schema string
	if err := s.q().QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", translate(err, "schema")
	}
	c := NoticeChannel(schema)
	s.channel.Store(&c)
	return c, nil
}

// NoticeChannel is the channel of the head notices of a schema's nodes.
func NoticeChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "dingchat_heads_" + hex.EncodeToString(sum[:12])
}

// AnnounceHeads notifies the schema's channel: "chatid seq" lines, and
// the corps in payloads of their own that start with eventsLine, each
// split to fit a payload, one round trip for all of them. A node of an
// earlier version ignores the corps' payloads (they do not parse as heads)
// and finds those corps' events by polling, as it always did.
func (s *Store) AnnounceHeads(ctx context.Context, heads map[string]int64, corps []string) error {
	if len(heads) == 0 && len(corps) == 0 {
		return nil
	}
	ch, err := s.headsChannel(ctx)
	if err != nil {
		return err
	}
	n := &notice{channel: ch, done: make(chan bool, 1)}
	var sb strings.Builder
	add := func(line, first string) {
		if sb.Len()+len(line) > maxNotice {
			n.payloads = append(n.payloads, sb.String())
			sb.Reset()
		}
		if sb.Len() == 0 {
			sb.WriteString(first)
		}
		sb.WriteString(line)
	}
	for id, seq := range heads {
		add(id+" "+strconv.FormatInt(seq, 10)+"\n", "")
	}
	if sb.Len() > 0 {
		n.payloads = append(n.payloads, sb.String())
		sb.Reset()
	}
	for _, id := range corps {
		if id != "" && !strings.ContainsAny(id, " \n") { // ids are never so; such a corp is found at the sweep
			add(id+"\n", eventsLine)
		}
	}
	if sb.Len() > 0 {
		n.payloads = append(n.payloads, sb.String())
	}
	if len(n.payloads) == 0 {
		return nil
	}
	if s.closed.Load() {
		return errClosed
	}
	// while sends or creates are being written the notice rides in the
	// next batch's transaction, which commits anyway: a transaction of its
	// own costs the database a commit and a WAL flush, a few hundred times a
	// second on a busy node (performance.md, changes 30 and 59)
	if s.sends.notices.carry(n) || s.creates.notices.carry(n) {
		select {
		case ok := <-n.done:
			if ok {
				return nil
			}
		case <-ctx.Done():
			return translate(ctx.Err(), "announce heads")
		}
	}
	var b pgx.Batch
	n.queue(&b)
	return translate(s.pool.SendBatch(ctx, &b).Close(), "announce heads")
}

// notice is one announcement: its payloads, sent together. done says
// whether a send batch committed it (false: it was not sent).
type notice struct {
	channel  string
	payloads []string
	done     chan bool
}

func (n *notice) queue(b *pgx.Batch) {
	for _, p := range n.payloads {
		b.Queue(`SELECT pg_notify($1, $2)`, n.channel, p)
	}
}

// notices are the announcements waiting for the next batch of a commit
// queue (sends, creates).
type notices struct {
	mu      sync.Mutex
	busy    int  // the queue's writers in a batch
	next    bool // a writer ended with writes queued: the next batch takes what waits
	waiting []*notice
}

// carry hands n to the queue's writers if a batch will be written: true
// when n is then answered on n.done.
func (q *notices) carry(n *notice) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.busy == 0 && !q.next {
		return false
	}
	q.waiting = append(q.waiting, n)
	return true
}

// take gives a writer the notices waiting, for the transaction it is
// about to send; it answers them once that transaction ends (answer).
func (q *notices) take() []*notice {
	q.mu.Lock()
	defer q.mu.Unlock()
	ns := q.waiting
	q.waiting = nil
	return ns
}

// begin marks a writer busy from its batch's start.
func (q *notices) begin() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy++
	q.next = false
}

// end marks a writer's batch done. The notices still waiting stay for the
// next batch while another writer is busy or writes are queued (queued),
// or go back to their callers to be sent alone.
func (q *notices) end(queued bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy--
	if q.busy > 0 {
		return
	}
	if queued {
		q.next = true // the loop takes the next batch at once
		return
	}
	q.next = false
	for _, n := range q.waiting {
		n.done <- false
	}
	q.waiting = nil
}

// answer tells the notices whether the transaction that carried them
// committed.
func answer(ns []*notice, ok bool) {
	for _, n := range ns {
		n.done <- ok
	}
}

// ListenHeads listens on a connection of its own, outside the pool, which
// it would otherwise hold for good.
func (s *Store) ListenHeads(ctx context.Context, listening func(), heard func(heads map[string]int64, corps []string)) error {
	ch, err := s.headsChannel(ctx)
	if err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return translate(err, "listen")
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
		return translate(err, "listen")
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return translate(err, "listen")
		}
		if corps, ok := strings.CutPrefix(n.Payload, eventsLine); ok {
			heard(nil, strings.Fields(corps))
		} else if heads, err := parseHeads(n.Payload); err == nil {
			heard(heads, nil)
		}
	}
}

// eventsLine starts a payload that names corps whose event logs moved.
const eventsLine = "events\n"

func parseHeads(p string) (map[string]int64, error) {
	out := map[string]int64{}
	for line := range strings.SplitSeq(strings.TrimSuffix(p, "\n"), "\n") {
		id, v, ok := strings.Cut(line, " ")
		seq, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, fmt.Errorf("bad head %q", line)
		}
		out[id] = seq
	}
	return out, nil
}

// MemberHeads reads the member's groups with their counters and read
// marks in one statement.
func (s *Store) MemberHeads(ctx context.Context, corpID, userID string) ([]ding.GroupHead, error) {
	rows, err := s.q().Query(ctx, `SELECT c.chat_id, c.last_seq, COALESCE(r.seq, 0) FROM chat_members m
		JOIN chats c ON c.chat_id = m.chat_id
		LEFT JOIN read_marks r ON r.chat_id = m.chat_id AND r.userid = $1
		WHERE m.kind = 'emp' AND m.member_id = $1 AND c.corp_id = $2 ORDER BY c.created_at DESC, c.chat_id`, userID, corpID)
	return collect(rows, err, "groups", func(r pgx.Rows) (ding.GroupHead, error) {
		var h ding.GroupHead
		return h, r.Scan(&h.ChatID, &h.LastSeq, &h.ReadSeq)
	})
}
