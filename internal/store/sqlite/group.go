package sqlite

import (
	"context"
	"database/sql"
	"math/bits"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
)

const chatCols = `chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon,
	show_history_type, searchable, validation_type, mention_all_authority, management_type, chat_banned_type,
	status, creator_app, member_count, created_at, updated_at, friend_forbidden`

func scanGroup(row interface{ Scan(...any) error }) (*ding.Group, error) {
	var g ding.Group
	o := &g.Options
	err := row.Scan(&g.ChatID, &g.OpenConversationID, &g.CorpID, &g.Name, &g.Owner, &g.OwnerType, &g.ConversationTag, &g.Icon,
		&o.ShowHistoryType, &o.Searchable, &o.ValidationType, &o.MentionAllAuthority, &o.ManagementType, &o.ChatBannedType,
		&g.Status, &g.CreatorApp, &g.MemberCount, &g.CreatedAt, &g.UpdatedAt, &g.FriendForbidden)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func groupArgs(g *ding.Group) []any {
	o := g.Options
	return []any{g.ChatID, g.OpenConversationID, g.CorpID, g.Name, g.Owner, g.OwnerType, g.ConversationTag, g.Icon,
		o.ShowHistoryType, o.Searchable, o.ValidationType, o.MentionAllAuthority, o.ManagementType, o.ChatBannedType,
		g.Status, g.CreatorApp, g.MemberCount, g.CreatedAt, g.UpdatedAt, g.FriendForbidden}
}

// CreateGroup stores g, its members and its events in one transaction.
func (s *Store) CreateGroup(ctx context.Context, g *ding.Group, members []ding.Member, events []ding.Event) error {
	// checked on a reader, not in the writer's transaction: the writer is
	// what a create waits for, and users change only with the organisation;
	// ids found before are not read again (knownusers.go)
	staff := ding.StaffIDs(members)
	known, gen := s.users.All(g.CorpID, staff)
	if !known {
		s.userReads.Add(1)
		if err := checkUsers(ctx, s.read, g.CorpID, staff); err != nil {
			return err
		}
		s.users.Add(gen, g.CorpID, staff)
	}
	return s.do(ctx, func(tx *sql.Tx) error {
		if known && s.users.Generation() != gen {
			// users may have left since they were known: ask the file
			s.userReads.Add(1)
			if err := checkUsers(ctx, tx, g.CorpID, staff); err != nil {
				return err
			}
		}
		row := *g
		row.MemberCount = len(members)
		if _, err := tx.Exec(`INSERT INTO chats (`+chatCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, groupArgs(&row)...); err != nil {
			return translate(err, "group")
		}
		if err := insertMembers(tx, g.ChatID, members, 0); err != nil {
			return err
		}
		if err := s.markPending(tx, g.ChatID); err != nil {
			return err
		}
		if err := s.appendEvents(tx, events); err != nil {
			return err
		}
		g.MemberCount = row.MemberCount
		s.moved(g.CorpID, g.ChatID, 0) // the column's default
		return nil
	})
}

// checkUsers fails with the first of ids, in list order, that is no user
// of the corp.
func checkUsers(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, corpID string, ids []string) error {
	found, err := existing(ctx, q, "users", "userid", corpID, ids)
	if err != nil {
		return err
	}
	return ding.FirstUnknownUser(found, ids)
}

// memberChunk is the most rows one INSERT of members carries (7 variables
// a row, far under SQLite's limit of 32766).
const memberChunk = 128

// insertMembers writes members in a few multi-row INSERTs: chunks of
// memberChunk, then the rest in powers of two, so that at most 8 statement
// texts exist and each stays prepared in the connection's cache.
func insertMembers(tx *sql.Tx, chatID string, members []ding.Member, pos int) error {
	args := make([]any, 0, 7*min(len(members), memberChunk))
	for len(members) > 0 {
		n := memberChunk
		for n > len(members) {
			n /= 2
		}
		args = args[:0]
		for i, m := range members[:n] {
			args = append(args, chatID, m.Kind, m.ID, m.Role, pos+i, m.JoinedAt, m.Nick)
		}
		if _, err := tx.Exec(insertMembersSQL[bits.TrailingZeros(uint(n))], args...); err != nil {
			return translate(err, "member")
		}
		members, pos = members[n:], pos+n
	}
	return nil
}

// insertMembersSQL[k] inserts 1<<k member rows.
var insertMembersSQL = func() []string {
	var out []string
	for n := 1; n <= memberChunk; n *= 2 {
		out = append(out, `INSERT INTO chat_members (chat_id, kind, member_id, role, pos, joined_at, nick) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", "))
	}
	return out
}()

func (s *Store) appendEvents(tx *sql.Tx, events []ding.Event) error {
	for i := range events {
		e := &events[i]
		var next int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE corp_id = ?`, e.CorpID).Scan(&next); err != nil {
			return translate(err, "event")
		}
		data := e.Data
		if len(data) == 0 {
			data = []byte("{}")
		}
		if _, err := tx.Exec(`INSERT INTO events (corp_id, seq, type, chat_id, open_conversation_id, operator, data, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.CorpID, next, e.Type, e.ChatID, e.OpenConversationID, e.Operator, string(data), e.CreatedAt); err != nil {
			return translate(err, "event")
		}
		e.Seq = next
		s.evCorps = append(s.evCorps, e.CorpID)
	}
	return nil
}

// Group returns NotFound when the corp has no group chatID.
func (s *Store) Group(ctx context.Context, corpID, chatID string) (*ding.Group, error) {
	g, err := scanGroup(s.readRow(ctx, `SELECT `+chatCols+` FROM chats WHERE chat_id = ? AND corp_id = ?`, chatID, corpID))
	if err != nil {
		return nil, translate(err, "group")
	}
	return g, nil
}

// GroupByOpenID returns NotFound when the corp has no group with that openConversationId.
func (s *Store) GroupByOpenID(ctx context.Context, corpID, openID string) (*ding.Group, error) {
	g, err := scanGroup(s.readRow(ctx, `SELECT `+chatCols+` FROM chats WHERE open_conversation_id = ? AND corp_id = ?`, openID, corpID))
	if err != nil {
		return nil, translate(err, "group")
	}
	return g, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func members(ctx context.Context, q querier, chatID string) ([]ding.Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT member_id, kind, role, joined_at, nick FROM chat_members WHERE chat_id = ? ORDER BY kind, pos`, chatID)
	if err != nil {
		return nil, translate(err, "members")
	}
	defer rows.Close()
	var out []ding.Member
	for rows.Next() {
		var m ding.Member
		if err := rows.Scan(&m.ID, &m.Kind, &m.Role, &m.JoinedAt, &m.Nick); err != nil {
			return nil, translate(err, "members")
		}
		out = append(out, m)
	}
	return out, translate(rows.Err(), "members")
}

// Members lists a group's members, staff first, in joining order.
func (s *Store) Members(ctx context.Context, chatID string) ([]ding.Member, error) {
	return members(ctx, s.read, chatID)
}

// UpdateGroup runs decide on the current state inside the writer's transaction.
func (s *Store) UpdateGroup(ctx context.Context, corpID, chatID string, decide func(*ding.GroupState) (*ding.GroupChange, error)) (*ding.Group, error) {
	var out *ding.Group
	err := s.do(ctx, func(tx *sql.Tx) error {
		g, err := scanGroup(tx.QueryRow(`SELECT `+chatCols+` FROM chats WHERE chat_id = ? AND corp_id = ?`, chatID, corpID))
		if err != nil {
			return translate(err, "group")
		}
		// not the caller's ctx: the transaction is shared with the rest of the batch
		ms, err := members(context.Background(), tx, chatID)
		if err != nil {
			return err
		}
		ch, err := decide(&ding.GroupState{Group: *g, Members: ms})
		if err != nil {
			return err
		}
		if ch == nil {
			out = g
			return nil
		}
		for _, m := range ch.Remove {
			if _, err := tx.Exec(`DELETE FROM chat_members WHERE chat_id = ? AND kind = ? AND member_id = ?`, chatID, m.Kind, m.ID); err != nil {
				return translate(err, "member")
			}
		}
		var pos int
		if err := tx.QueryRow(`SELECT COALESCE(MAX(pos), -1) + 1 FROM chat_members WHERE chat_id = ?`, chatID).Scan(&pos); err != nil {
			return translate(err, "member")
		}
		if err := insertMembers(tx, chatID, ch.Add, pos); err != nil {
			return err
		}
		if err := indexMembers(tx, chatID, ch.Add, ch.Remove); err != nil {
			return err
		}
		for _, m := range ch.Roles {
			if _, err := tx.Exec(`UPDATE chat_members SET role = ?, nick = ? WHERE chat_id = ? AND kind = ? AND member_id = ?`, m.Role, m.Nick, chatID, m.Kind, m.ID); err != nil {
				return translate(err, "member")
			}
		}
		row := ch.Group
		row.ChatID, row.CorpID, row.OpenConversationID = g.ChatID, g.CorpID, g.OpenConversationID
		if err := tx.QueryRow(`SELECT COUNT(*) FROM chat_members WHERE chat_id = ?`, chatID).Scan(&row.MemberCount); err != nil {
			return translate(err, "member")
		}
		args := groupArgs(&row)
		var version int64
		if err := tx.QueryRow(`UPDATE chats SET name = ?, owner = ?, owner_type = ?, conversation_tag = ?, icon = ?,
			show_history_type = ?, searchable = ?, validation_type = ?, mention_all_authority = ?, management_type = ?, chat_banned_type = ?,
			status = ?, creator_app = ?, member_count = ?, created_at = ?, updated_at = ?, friend_forbidden = ?, version = version + 1
			WHERE chat_id = ? RETURNING version`,
			append(args[3:], chatID)...).Scan(&version); err != nil {
			return translate(err, "group")
		}
		s.moved(g.CorpID, chatID, version)
		if err := s.appendEvents(tx, ch.Events); err != nil {
			return err
		}
		out = &row
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
