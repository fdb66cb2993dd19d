package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.MessageStore = (*Store)(nil)

// AppendMessage numbers m after the group's newest message. The writer is
// the only one that inserts, so the number it keeps for the group (kept.go)
// is the commit order and never shared or skipped. Without events the send
// changes the file with its INSERT alone and needs no savepoint.
func (s *Store) AppendMessage(ctx context.Context, m *ding.Message, events []ding.Event, check func(*ding.Group) error) error {
	fn := func(tx *sql.Tx) error {
		k, err := s.keptGroup(tx, m.CorpID, m.ChatID)
		if err != nil {
			return err
		}
		if check != nil {
			g := k.g // check gets a copy: what is kept stays as read
			if err := check(&g); err != nil {
				return err
			}
		}
		seq := k.next
		if _, err := tx.Exec(`INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`, m.ChatID, seq, m.ID, m.CorpID, m.SenderType, m.Sender, m.MsgType, string(m.Body), m.CreatedAt); err != nil {
			// a number taken behind the store's back is read again next time
			s.kept.forget(m.ChatID)
			return translate(err, "message")
		}
		if err := s.appendEvents(tx, events); err != nil {
			return err
		}
		k.next = seq + 1 // last: a send that failed took no number
		m.Seq = seq
		return nil
	}
	if len(events) == 0 {
		return s.doSingle(ctx, fn)
	}
	return s.do(ctx, fn)
}

const msgCols = `chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, recalled_at, created_at`

func scanMessage(row interface{ Scan(...any) error }) (*ding.Message, error) {
	var m ding.Message
	var body string
	if err := row.Scan(&m.ChatID, &m.Seq, &m.ID, &m.CorpID, &m.SenderType, &m.Sender, &m.MsgType, &body, &m.RecalledAt, &m.CreatedAt); err != nil {
		return nil, err
	}
	m.Body = []byte(body)
	return &m, nil
}

// Message returns NotFound when the corp has no message id.
func (s *Store) Message(ctx context.Context, corpID, id string) (*ding.Message, error) {
	m, err := scanMessage(s.readRow(ctx, `SELECT `+msgCols+` FROM messages WHERE id = ? AND corp_id = ?`, id, corpID))
	if err != nil {
		return nil, translate(err, "message")
	}
	return m, nil
}

// Messages pages a group's timeline by sequence number.
//
// The page comes back as one text value that SQLite builds (pageDesc,
// pageAsc), its runs in the order the subquery yields them: an ORDER BY
// inside group_concat sorted them again (a fifth of the page's time), and
// SQLite does not promise that order, so unpackMessages puts them in order
// when they are not.
// the driver locks the connection for every column of every row it reads
// (two or three calls per column), which for ten columns and twenty rows
// was most of a page's CPU; one value is three such calls and one step.
func (s *Store) Messages(ctx context.Context, chatID string, q ding.MessageQuery) ([]ding.Message, error) {
	var page sql.NullString
	var err error
	if q.Desc {
		before := q.Before
		if before <= 0 {
			before = 1<<63 - 1
		}
		err = s.readRow(ctx, pageDesc, chatID, before, q.Limit).Scan(&page)
	} else {
		err = s.readRow(ctx, pageAsc, chatID, q.After, q.Limit).Scan(&page)
	}
	if err != nil {
		return nil, translate(err, "messages")
	}
	if !page.Valid { // no row matched: group_concat of nothing is NULL
		return nil, nil
	}
	out, err := unpackMessages(chatID, page.String, q.Limit, q.Desc)
	if err != nil {
		return nil, translate(err, "messages")
	}
	return out, nil
}

// packedMessage is one message as a run of bytes: its three numbers and
// the byte lengths of its text columns, each followed by a comma, then the
// text columns one after the other (chat_id is the page's own). Lengths
// make the run unambiguous whatever the columns hold.
const packedMessage = `concat(printf('%d,%d,%d,%d,%d,%d,%d,%d,%d,', seq, recalled_at, created_at, octet_length(id), octet_length(corp_id),
	octet_length(sender_type), octet_length(sender), octet_length(msgtype), octet_length(body)),
	id, corp_id, sender_type, sender, msgtype, body)`

const (
	pageDesc = `SELECT group_concat(m, '') FROM (SELECT seq, ` + packedMessage + ` AS m
		FROM messages WHERE chat_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?)`
	pageAsc = `SELECT group_concat(m, '') FROM (SELECT seq, ` + packedMessage + ` AS m
		FROM messages WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?)`
)

var errPacked = errors.New("sqlite: malformed message page")

// unpackMessages reads the runs of packedMessage, and returns them by seq,
// newest first when desc. The strings share the page's memory; the bodies
// share one copy of it.
func unpackMessages(chatID, page string, limit int, desc bool) ([]ding.Message, error) {
	out := make([]ding.Message, 0, min(limit, 128))
	bodies := []byte(page)
	var n [9]int64
	for i := 0; i < len(page); {
		for k := range n {
			j := strings.IndexByte(page[i:], ',')
			if j < 0 {
				return nil, errPacked
			}
			v, err := strconv.ParseInt(page[i:i+j], 10, 64)
			if err != nil {
				return nil, errPacked
			}
			n[k], i = v, i+j+1
		}
		// the text columns, then the body, by their byte lengths
		var cut [6]int
		cut[0] = i
		for k := range 6 {
			l := n[3+k]
			if l < 0 || int64(len(page)-cut[k]) < l {
				return nil, errPacked
			}
			if k < 5 {
				cut[k+1] = cut[k] + int(l)
			} else {
				i = cut[k] + int(l)
			}
		}
		m := ding.Message{ID: page[cut[0]:cut[1]], CorpID: page[cut[1]:cut[2]], ChatID: chatID, Seq: n[0],
			SenderType: page[cut[2]:cut[3]], Sender: page[cut[3]:cut[4]], MsgType: page[cut[4]:cut[5]],
			Body: bodies[cut[5]:i:i], RecalledAt: n[1], CreatedAt: n[2]}
		out = append(out, m)
	}
	bySeq := func(a, b ding.Message) int { return cmp.Compare(a.Seq, b.Seq) }
	if desc {
		bySeq = func(a, b ding.Message) int { return cmp.Compare(b.Seq, a.Seq) }
	}
	if !slices.IsSortedFunc(out, bySeq) {
		slices.SortFunc(out, bySeq)
	}
	return out, nil
}

// LastSeq is the Seq of the group's newest message, 0 when none.
func (s *Store) LastSeq(ctx context.Context, chatID string) (int64, error) {
	var n int64
	err := s.readRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = ?`, chatID).Scan(&n)
	return n, translate(err, "messages")
}

// RecallMessage marks a message recalled.
func (s *Store) RecallMessage(ctx context.Context, corpID, id string, at int64, events []ding.Event) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		var recalled int64
		if err := tx.QueryRow(`SELECT recalled_at FROM messages WHERE id = ? AND corp_id = ?`, id, corpID).Scan(&recalled); err != nil {
			return translate(err, "message")
		}
		if recalled != 0 {
			return ding.Errorf(ding.Conflict, ding.ReasonNone, "message already recalled")
		}
		if _, err := tx.Exec(`UPDATE messages SET recalled_at = ? WHERE id = ? AND corp_id = ?`, at, id, corpID); err != nil {
			return translate(err, "message")
		}
		return s.appendEvents(tx, events)
	})
}

// MarkRead moves a member's read mark up to seq, never down, and never past
// the newest message.
func (s *Store) MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error) {
	var mark int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id = ?`, chatID).Scan(&last); err != nil {
			return translate(err, "messages")
		}
		if seq > last {
			seq = last
		}
		if _, err := tx.Exec(`INSERT INTO read_marks (chat_id, userid, seq) VALUES (?, ?, ?)
			ON CONFLICT (chat_id, userid) DO UPDATE SET seq = MAX(seq, excluded.seq)`, chatID, userID, seq); err != nil {
			return translate(err, "read mark")
		}
		return translate(tx.QueryRow(`SELECT seq FROM read_marks WHERE chat_id = ? AND userid = ?`, chatID, userID).Scan(&mark), "read mark")
	})
	return mark, err
}

// ReadMark is a member's read mark, 0 when none.
func (s *Store) ReadMark(ctx context.Context, chatID, userID string) (int64, error) {
	var mark int64
	err := s.readRow(ctx, `SELECT seq FROM read_marks WHERE chat_id = ? AND userid = ?`, chatID, userID).Scan(&mark)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return mark, translate(err, "read mark")
}

// Readers lists staff members whose read mark reaches seq, in member order.
func (s *Store) Readers(ctx context.Context, chatID string, seq int64, except string, cursor int64, limit int) ([]string, int64, error) {
	rows, err := s.readRows(ctx, `SELECT m.member_id, m.pos FROM chat_members m
		JOIN read_marks r ON r.chat_id = m.chat_id AND r.userid = m.member_id
		WHERE m.chat_id = ? AND m.kind = 'emp' AND r.seq >= ? AND m.member_id <> ? AND m.pos >= ?
		ORDER BY m.pos LIMIT ?`, chatID, seq, except, cursor, limit+1)
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
	err := s.readRow(ctx, `SELECT role, joined_at, nick FROM chat_members WHERE chat_id = ? AND kind = ? AND member_id = ?`, chatID, kind, id).
		Scan(&m.Role, &m.JoinedAt, &m.Nick)
	if err != nil {
		return nil, translate(err, "member")
	}
	return &m, nil
}

// GroupsOf lists the groups a staff member belongs to, newest first.
func (s *Store) GroupsOf(ctx context.Context, corpID, userID string) ([]ding.Group, error) {
	rows, err := s.readRows(ctx, `SELECT `+prefixed("c.", chatCols)+` FROM (`+memberChatIDs+`) AS mc
		CROSS JOIN chats c ON c.chat_id = mc.chat_id WHERE c.corp_id = ? ORDER BY c.created_at DESC, c.chat_id`, userID, userID, corpID)
	if err != nil {
		return nil, translate(err, "groups")
	}
	defer rows.Close()
	var out []ding.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, translate(err, "groups")
		}
		out = append(out, *g)
	}
	return out, translate(rows.Err(), "groups")
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// LastSeqs reads the newest Seq of each group.
func (s *Store) LastSeqs(ctx context.Context, chatIDs []string) (map[string]int64, error) {
	// one indexed MAX per group: a GROUP BY would read every message
	return s.perChat(ctx, `SELECT id, seq FROM (SELECT value AS id, (SELECT MAX(seq) FROM messages WHERE chat_id = value) AS seq
		FROM json_each(?)) WHERE seq IS NOT NULL`, chatIDs)
}

// ReadMarks reads one member's read mark in each group.
func (s *Store) ReadMarks(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error) {
	return s.perChat(ctx, `SELECT chat_id, seq FROM read_marks WHERE chat_id IN (SELECT value FROM json_each(?)) AND userid = ?`, chatIDs, userID)
}

// perChat runs a (chat_id, number) query whose first parameter is the
// list of chat ids, as one JSON array: one statement for any number.
func (s *Store) perChat(ctx context.Context, query string, chatIDs []string, args ...any) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	if len(chatIDs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(chatIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.readRows(ctx, query, append([]any{string(list)}, args...)...)
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

// CorpGroups is one page of a corp's groups, newest first: a range of the
// chats_corp index, never the whole corp.
func (s *Store) CorpGroups(ctx context.Context, corpID string, p ding.GroupPage) ([]ding.Group, error) {
	where, args := groupPageWhere("", p)
	return s.groups(ctx, `SELECT `+chatCols+` FROM chats WHERE corp_id = ?`+where+` ORDER BY created_at DESC, chat_id LIMIT ?`,
		append(append([]any{corpID}, args...), p.Limit)...)
}

// GroupsOfPage is one page of GroupsOf.
func (s *Store) GroupsOfPage(ctx context.Context, corpID, userID string, p ding.GroupPage) ([]ding.Group, error) {
	where, args := groupPageWhere("c.", p)
	return s.groups(ctx, `SELECT `+prefixed("c.", chatCols)+` FROM (`+memberChatIDs+`) AS mc
		CROSS JOIN chats c ON c.chat_id = mc.chat_id WHERE c.corp_id = ?`+where+` ORDER BY c.created_at DESC, c.chat_id LIMIT ?`,
		append(append([]any{userID, userID, corpID}, args...), p.Limit)...)
}

// groupPageWhere is the cursor and search of p as SQL conditions on the
// chats columns prefixed with t.
func groupPageWhere(t string, p ding.GroupPage) (string, []any) {
	var where string
	var args []any
	if p.After.ChatID != "" {
		where += ` AND (` + t + `created_at < ? OR (` + t + `created_at = ? AND ` + t + `chat_id > ?))`
		args = append(args, p.After.CreatedAt, p.After.CreatedAt, p.After.ChatID)
	}
	if p.Search != "" {
		where += ` AND (instr(lower(` + t + `name), ?) > 0 OR instr(lower(` + t + `chat_id), ?) > 0)`
		args = append(args, p.Search, p.Search)
	}
	return where, args
}

func (s *Store) groups(ctx context.Context, query string, args ...any) ([]ding.Group, error) {
	rows, err := s.readRows(ctx, query, args...)
	if err != nil {
		return nil, translate(err, "groups")
	}
	defer rows.Close()
	var out []ding.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, translate(err, "groups")
		}
		out = append(out, *g)
	}
	return out, translate(rows.Err(), "groups")
}
