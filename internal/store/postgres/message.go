package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.MessageStore = (*Store)(nil)

// optimisticSends is how often a send re-reads a group that an update
// changed between the send's check and its write before it locks the row
// instead, so that a send never starves behind a stream of updates.
const optimisticSends = 3

// insertMessageSQL numbers the message from the group's counter and inserts
// it in one statement. The counter's UPDATE locks the group's row until the
// commit, so sends to one group are numbered in commit order, across nodes,
// without gaps; $3 is the row version the caller's check judged, or NULL
// when the row is locked already.
const insertMessageSQL = `WITH s AS (
		UPDATE chats SET last_seq = last_seq + 1
		WHERE chat_id = $1 AND corp_id = $2 AND ($3::bigint IS NULL OR version = $3) RETURNING last_seq)
	INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at)
	SELECT $1, s.last_seq, $4, $2, $5, $6, $7, $8, 0, $9 FROM s RETURNING seq`

func messageArgs(m *ding.Message, version *int64) []any {
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	return []any{m.ChatID, m.CorpID, version, m.ID, m.SenderType, m.Sender, m.MsgType, body, m.CreatedAt}
}

// AppendMessage gives m its group's next Seq and stores it with events.
// Without events (every chat/send) it goes through the node's group commit
// (sendbatch.go); with events it locks the group's row and writes in the
// same transaction.
func (s *Store) AppendMessage(ctx context.Context, m *ding.Message, events []ding.Event, check func(*ding.Group) error) error {
	if len(events) > 0 {
		return s.appendLocked(ctx, m, events, check)
	}
	if s.closed.Load() {
		return errClosed
	}
	return s.send(ctx, m, check)
}

// appendOne stores one send on its own, for a batch that failed as a whole.
// It reads the group, runs check, and then writes in one statement that
// succeeds only if the group's row still has the version check saw; if an
// update came between, it reads again, and when updates keep winning the
// race it locks the row first.
func (s *Store) appendOne(ctx context.Context, m *ding.Message, check func(*ding.Group) error) error {
	for attempt := 0; attempt < optimisticSends; attempt++ {
		var g *ding.Group
		var version int64
		err := s.q().QueryRow(ctx, `SELECT `+chatCols+`, version FROM chats WHERE chat_id = $1 AND corp_id = $2`, m.ChatID, m.CorpID).
			Scan(scanInto(&g, &version)...)
		if err != nil {
			return translate(err, "group")
		}
		if check != nil {
			if err := check(g); err != nil {
				return err
			}
		}
		var seq int64
		err = s.batch(ctx, "message", func(b *pgx.Batch) {
			seq = 0
			b.Queue(insertMessageSQL, messageArgs(m, &version)...).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&seq); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		if seq != 0 {
			m.Seq = seq
			return nil
		}
		// the group changed after check saw it: judge it again
	}
	return s.appendLocked(ctx, m, nil, check)
}

// scanInto lays out the destinations of chatCols followed by version.
func scanInto(g **ding.Group, version *int64) []any {
	*g = &ding.Group{}
	x, o := *g, &(*g).Options
	return []any{&x.ChatID, &x.OpenConversationID, &x.CorpID, &x.Name, &x.Owner, &x.OwnerType, &x.ConversationTag, &x.Icon,
		&o.ShowHistoryType, &o.Searchable, &o.ValidationType, &o.MentionAllAuthority, &o.ManagementType, &o.ChatBannedType,
		&x.Status, &x.CreatorApp, &x.MemberCount, &x.CreatedAt, &x.UpdatedAt, &x.FriendForbidden, version}
}

func (s *Store) appendLocked(ctx context.Context, m *ding.Message, events []ding.Event, check func(*ding.Group) error) error {
	var seq int64
	err := s.tx(ctx, "message", func(t *txn) error {
		var g *ding.Group
		b := &pgx.Batch{}
		b.Queue(`SELECT `+chatCols+` FROM chats WHERE chat_id = $1 AND corp_id = $2 FOR NO KEY UPDATE`, m.ChatID, m.CorpID).
			QueryRow(func(row pgx.Row) (err error) {
				g, err = scanGroup(row)
				return err
			})
		if err := t.read(ctx, b); err != nil {
			return translateGroup(err)
		}
		if check != nil {
			if err := check(g); err != nil {
				return verdict{err}
			}
		}
		w := &pgx.Batch{}
		w.Queue(insertMessageSQL, messageArgs(m, nil)...).QueryRow(func(r pgx.Row) error { return r.Scan(&seq) })
		queueEvents(w, events)
		return t.commit(ctx, w)
	})
	if err != nil {
		return err
	}
	s.tellEvents(events)
	m.Seq = seq
	return nil
}

// translateGroup names a missing row a missing group.
func translateGroup(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return translate(err, "group")
	}
	return err
}

const msgCols = `chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at`

func scanMessage(row pgx.Row) (*ding.Message, error) {
	var m ding.Message
	if err := row.Scan(&m.ChatID, &m.Seq, &m.ID, &m.CorpID, &m.SenderType, &m.Sender, &m.MsgType, &m.Body, &m.RecalledAt, &m.CreatedAt); err != nil {
		return nil, err
	}
	return &m, nil
}

// Message returns NotFound when the corp has no message id.
func (s *Store) Message(ctx context.Context, corpID, id string) (*ding.Message, error) {
	m, err := scanMessage(s.q().QueryRow(ctx, `SELECT `+msgCols+` FROM messages WHERE id = $1 AND corp_id = $2`, id, corpID))
	if err != nil {
		return nil, translate(err, "message")
	}
	return m, nil
}

// Messages pages a group's timeline by sequence number, through the
// node's page queue (pages.go).
func (s *Store) Messages(ctx context.Context, chatID string, q ding.MessageQuery) ([]ding.Message, error) {
	if s.closed.Load() {
		return nil, translate(errClosed, "messages")
	}
	r := &pageReq{chatID: chatID, q: q, done: make(chan error, 1)}
	if err := s.pages.ask(ctx, r, r.done); err != nil {
		return nil, translate(err, "messages")
	}
	return r.out, nil
}

// pageCols are msgCols without chat_id, the page's own.
const pageCols = `seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at`

// scanPage reads a page's rows straight from their wire values when the
// numbers and the body come in binary (as pgx asks for them): one string
// for a row's five text columns and one copy of its body, instead of a scan
// plan run per column and a string each.
func scanPage(rows pgx.Rows, chatID string, limit int) ([]ding.Message, error) {
	if err := rows.Err(); err != nil {
		return nil, err // a failed statement of a pipeline has no fields
	}
	fds := rows.FieldDescriptions()
	raw := len(fds) == 9
	for _, i := range []int{0, 6, 7, 8} {
		raw = raw && fds[i].Format == pgx.BinaryFormatCode
	}
	var out []ding.Message
	var text []byte
	for rows.Next() {
		if out == nil {
			out = make([]ding.Message, 0, min(limit, 128))
		}
		m := ding.Message{ChatID: chatID}
		if !raw {
			if err := rows.Scan(&m.Seq, &m.ID, &m.CorpID, &m.SenderType, &m.Sender, &m.MsgType, &m.Body, &m.RecalledAt, &m.CreatedAt); err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		v := rows.RawValues()
		if len(v) != 9 || len(v[0]) != 8 || len(v[7]) != 8 || len(v[8]) != 8 || v[6] == nil {
			return nil, errors.New("postgres: unexpected message row")
		}
		text = text[:0]
		var cut [6]int
		for k := range 5 {
			text = append(text, v[1+k]...)
			cut[k+1] = len(text)
		}
		t := string(text)
		m.Seq = int64(binary.BigEndian.Uint64(v[0]))
		m.ID, m.CorpID, m.SenderType, m.Sender, m.MsgType = t[:cut[1]], t[cut[1]:cut[2]], t[cut[2]:cut[3]], t[cut[3]:cut[4]], t[cut[4]:cut[5]]
		m.Body = append([]byte{}, v[6]...)
		m.RecalledAt = int64(binary.BigEndian.Uint64(v[7]))
		m.CreatedAt = int64(binary.BigEndian.Uint64(v[8]))
		out = append(out, m)
	}
	return out, rows.Err()
}

// LastSeq is the Seq of the group's newest message, 0 when none.
func (s *Store) LastSeq(ctx context.Context, chatID string) (int64, error) {
	var n int64
	err := s.q().QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = $1`, chatID).Scan(&n)
	return n, translate(err, "messages")
}

// RecallMessage marks a message recalled, locking its row so that two
// recalls of one message cannot both succeed.
func (s *Store) RecallMessage(ctx context.Context, corpID, id string, at int64, events []ding.Event) error {
	err := s.tx(ctx, "message", func(t *txn) error {
		var recalled int64
		b := &pgx.Batch{}
		b.Queue(`SELECT recalled_at FROM messages WHERE id = $1 AND corp_id = $2 FOR UPDATE`, id, corpID).
			QueryRow(func(r pgx.Row) error { return r.Scan(&recalled) })
		if err := t.read(ctx, b); err != nil {
			return err
		}
		if recalled != 0 {
			return ding.Errorf(ding.Conflict, ding.ReasonNone, "message already recalled")
		}
		w := &pgx.Batch{}
		w.Queue(`UPDATE messages SET recalled_at = $1 WHERE id = $2 AND corp_id = $3`, at, id, corpID)
		queueEvents(w, events)
		return t.commit(ctx, w)
	})
	if err == nil {
		s.tellEvents(events)
	}
	return err
}

// MarkRead moves a member's read mark up to seq, never down, and never past
// the newest message, in one statement.
func (s *Store) MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error) {
	var mark int64
	err := s.batch(ctx, "read mark", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO read_marks (chat_id, userid, seq)
			VALUES ($1, $2, LEAST($3::bigint, (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = $1)))
			ON CONFLICT (chat_id, userid) DO UPDATE SET seq = GREATEST(read_marks.seq, excluded.seq) RETURNING seq`, chatID, userID, seq).
			QueryRow(func(r pgx.Row) error { return r.Scan(&mark) })
	})
	return mark, err
}

// ReadMark is a member's read mark, 0 when none.
func (s *Store) ReadMark(ctx context.Context, chatID, userID string) (int64, error) {
	var mark int64
	err := s.q().QueryRow(ctx, `SELECT seq FROM read_marks WHERE chat_id = $1 AND userid = $2`, chatID, userID).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return mark, translate(err, "read mark")
}

// Readers lists staff members whose read mark reaches seq, in member order.
func (s *Store) Readers(ctx context.Context, chatID string, seq int64, except string, cursor int64, limit int) ([]string, int64, error) {
	rows, err := s.q().Query(ctx, `SELECT m.member_id, m.pos FROM chat_members m
		JOIN read_marks r ON r.chat_id = m.chat_id AND r.userid = m.member_id
		WHERE m.chat_id = $1 AND m.kind = 'emp' AND r.seq >= $2 AND m.member_id <> $3 AND m.pos >= $4
		ORDER BY m.pos LIMIT $5`, chatID, seq, except, cursor, limit+1)
	if err != nil {
		return nil, 0, translate(err, "readers")
	}
	defer rows.Close()
	ids := []string{}
	var next int64
	for rows.Next() {
		var id string
		var pos int64
		if err := rows.Scan(&id, &pos); err != nil {
			return nil, 0, translate(err, "readers")
		}
		if len(ids) == limit {
			next = pos
			break
		}
		ids = append(ids, id)
	}
	return ids, next, translate(rows.Err(), "readers")
}

// Member returns NotFound when id of kind is not a member of chatID.
func (s *Store) Member(ctx context.Context, chatID, kind, id string) (*ding.Member, error) {
	m := ding.Member{ID: id, Kind: kind}
	err := s.q().QueryRow(ctx, `SELECT role, joined_at, nick FROM chat_members WHERE chat_id = $1 AND kind = $2 AND member_id = $3`, chatID, kind, id).
		Scan(&m.Role, &m.JoinedAt, &m.Nick)
	if err != nil {
		return nil, translate(err, "member")
	}
	return &m, nil
}

// GroupsOf lists the groups a staff member belongs to, newest first.
func (s *Store) GroupsOf(ctx context.Context, corpID, userID string) ([]ding.Group, error) {
	rows, err := s.q().Query(ctx, `SELECT `+prefixed("c.", chatCols)+` FROM chat_members m JOIN chats c ON c.chat_id = m.chat_id
		WHERE m.kind = 'emp' AND m.member_id = $1 AND c.corp_id = $2 ORDER BY c.created_at DESC, c.chat_id`, userID, corpID)
	return collect(rows, err, "groups", func(r pgx.Rows) (ding.Group, error) {
		g, err := scanGroup(r)
		if err != nil {
			return ding.Group{}, err
		}
		return *g, nil
	})
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// LastSeqs reads each group's message counter: one indexed read for any
// number of groups, which is what live delivery polls.
func (s *Store) LastSeqs(ctx context.Context, chatIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	if len(chatIDs) == 0 {
		return out, nil
	}
	rows, err := s.q().Query(ctx, `SELECT chat_id, last_seq FROM chats WHERE chat_id = ANY($1) AND last_seq > 0`, chatIDs)
	if err != nil {
		return nil, translate(err, "messages")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, translate(err, "messages")
		}
		out[id] = seq
	}
	return out, translate(rows.Err(), "messages")
}

// ReadMarks reads one member's read mark in each group.
func (s *Store) ReadMarks(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	if len(chatIDs) == 0 {
		return out, nil
	}
	rows, err := s.q().Query(ctx, `SELECT chat_id, seq FROM read_marks WHERE userid = $1 AND chat_id = ANY($2)`, userID, chatIDs)
	if err != nil {
		return nil, translate(err, "read mark")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, translate(err, "read mark")
		}
		out[id] = seq
	}
	return out, translate(rows.Err(), "read mark")
}

// CorpGroups is one page of a corp's groups, newest first: a range of the
// chats_corp index, never the whole corp.
func (s *Store) CorpGroups(ctx context.Context, corpID string, p ding.GroupPage) ([]ding.Group, error) {
	where, args := groupPageWhere("", p, 3)
	return s.groups(ctx, `SELECT `+chatCols+` FROM chats WHERE corp_id = $1`+where+` ORDER BY created_at DESC, chat_id LIMIT $2`,
		append([]any{corpID, p.Limit}, args...)...)
}

// GroupsOfPage is one page of GroupsOf.
func (s *Store) GroupsOfPage(ctx context.Context, corpID, userID string, p ding.GroupPage) ([]ding.Group, error) {
	where, args := groupPageWhere("c.", p, 4)
	return s.groups(ctx, `SELECT `+prefixed("c.", chatCols)+` FROM chat_members m JOIN chats c ON c.chat_id = m.chat_id
		WHERE m.kind = 'emp' AND m.member_id = $1 AND c.corp_id = $2`+where+` ORDER BY c.created_at DESC, c.chat_id LIMIT $3`,
		append([]any{userID, corpID, p.Limit}, args...)...)
}

// groupPageWhere is the cursor and search of p as SQL conditions on the
// chats columns prefixed with t, numbering parameters from n.
func groupPageWhere(t string, p ding.GroupPage, n int) (string, []any) {
	var where string
	var args []any
	if p.After.ChatID != "" {
		where += fmt.Sprintf(` AND (%[1]screated_at < $%[2]d OR (%[1]screated_at = $%[2]d AND %[1]schat_id > $%[3]d))`, t, n, n+1)
		args = append(args, p.After.CreatedAt, p.After.ChatID)
		n += 2
	}
	if p.Search != "" {
		// lower() of ASCII only, as SQLite's, so both stores match alike
		where += fmt.Sprintf(` AND (strpos(translate(%[1]sname, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $%[2]d) > 0
			OR strpos(translate(%[1]schat_id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $%[2]d) > 0)`, t, n)
		args = append(args, p.Search)
	}
	return where, args
}

func (s *Store) groups(ctx context.Context, query string, args ...any) ([]ding.Group, error) {
	rows, err := s.q().Query(ctx, query, args...)
	return collect(rows, err, "groups", func(r pgx.Rows) (ding.Group, error) {
		g, err := scanGroup(r)
		if err != nil {
			return ding.Group{}, err
		}
		return *g, nil
	})
}
