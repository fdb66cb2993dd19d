package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

const chatCols = `chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon,
	show_history_type, searchable, validation_type, mention_all_authority, management_type, chat_banned_type,
	status, creator_app, member_count, created_at, updated_at, friend_forbidden`

func scanGroup(row pgx.Row) (*ding.Group, error) {
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

// CreateGroup stores g, its members and its events through the node's
// group commit of creates (createbatch.go): one statement for the row, one
// for all members, two per corp for the events, in the batch's one round
// trip.
func (s *Store) CreateGroup(ctx context.Context, g *ding.Group, members []ding.Member, events []ding.Event) error {
	if s.closed.Load() {
		return errClosed
	}
	return s.create(ctx, &createReq{g: g, members: members, events: events, err: make(chan error, 1)})
}

// queueMembers inserts members in one statement, numbered in list order
// after the group's last position. The per-request writes (sends, creates,
// member changes, events) unnest their arrays in select lists: a set
// function in FROM fills a tuplestore of its own per array (16 KiB at
// least), which made each statement grow the backend's heap and give it
// back (performance.md, change 37). The org file's load and the binding of
// apps to a group (rare, a few rows) still use FROM.
func queueMembers(b *pgx.Batch, chatID string, members []ding.Member) {
	if len(members) == 0 {
		return
	}
	n := len(members)
	kinds, ids, nicks := make([]string, n), make([]string, n), make([]string, n)
	roles := make([]int32, n)
	joined := make([]int64, n)
	for i, m := range members {
		kinds[i], ids[i], roles[i], joined[i], nicks[i] = m.Kind, m.ID, int32(m.Role), m.JoinedAt, m.Nick
	}
	b.Queue(`INSERT INTO chat_members (chat_id, kind, member_id, role, pos, joined_at, nick)
		SELECT $1, m.kind, m.id, m.role, base.pos + m.ord - 1, m.joined_at, m.nick
		FROM (SELECT COALESCE(MAX(pos), -1) + 1 AS pos FROM chat_members WHERE chat_id = $1) AS base,
			(SELECT unnest($2::text[]) AS kind, unnest($3::text[]) AS id, unnest($4::int[]) AS role,
				unnest($5::bigint[]) AS joined_at, unnest($6::text[]) AS nick, generate_subscripts($2::text[], 1) AS ord) AS m`,
		chatID, kinds, ids, roles, joined, nicks)
}

// Group returns NotFound when the corp has no group chatID.
func (s *Store) Group(ctx context.Context, corpID, chatID string) (*ding.Group, error) {
	g, err := scanGroup(s.q().QueryRow(ctx, `SELECT `+chatCols+` FROM chats WHERE chat_id = $1 AND corp_id = $2`, chatID, corpID))
	if err != nil {
		return nil, translate(err, "group")
	}
	return g, nil
}

// GroupVersion changes with every UpdateGroup and UpdateChatApps of the group.
// It is answered from memory while the node hears every change's notice
// (versions.go): a change made through another node is seen once its
// notice arrives, and within versionTTL in any case.
func (s *Store) GroupVersion(ctx context.Context, corpID, chatID string) (int64, error) {
	s.listenVersions()
	if v, ok := s.versions.get(corpID, chatID); ok {
		return v, nil
	}
	r := s.versions.begin()
	s.versions.reads.Add(1)
	var v int64
	if err := s.q().QueryRow(ctx, `SELECT version FROM chats WHERE chat_id = $1 AND corp_id = $2`, chatID, corpID).Scan(&v); err != nil {
		return 0, translate(err, "group")
	}
	s.versions.put(corpID, chatID, v, r)
	return v, nil
}

// GroupByOpenID returns NotFound when the corp has no group with that openConversationId.
func (s *Store) GroupByOpenID(ctx context.Context, corpID, openID string) (*ding.Group, error) {
	g, err := scanGroup(s.q().QueryRow(ctx, `SELECT `+chatCols+` FROM chats WHERE open_conversation_id = $1 AND corp_id = $2`, openID, corpID))
	if err != nil {
		return nil, translate(err, "group")
	}
	return g, nil
}

const membersSQL = `SELECT member_id, kind, role, joined_at, nick FROM chat_members WHERE chat_id = $1 ORDER BY kind, pos`

func scanMember(r pgx.Rows) (ding.Member, error) {
	var m ding.Member
	err := r.Scan(&m.ID, &m.Kind, &m.Role, &m.JoinedAt, &m.Nick)
	return m, err
}

// Members lists a group's members, staff first, in joining order.
func (s *Store) Members(ctx context.Context, chatID string) ([]ding.Member, error) {
	rows, err := s.q().Query(ctx, membersSQL, chatID)
	return collect(rows, err, "members", scanMember)
}

// UpdateGroup locks the group's row, reads it and its members, lets decide
// judge them and applies the change, in one transaction of two round trips.
// The lock is what keeps the rules decide enforces (the member cap, the
// owner's membership) true when several nodes update one group at once: a
// second update waits for the first to commit and then sees its members.
func (s *Store) UpdateGroup(ctx context.Context, corpID, chatID string, decide func(*ding.GroupState) (*ding.GroupChange, error)) (*ding.Group, error) {
	defer s.versions.drop(chatID) // this node's next read sees the change
	var out *ding.Group
	var events []ding.Event
	err := s.tx(ctx, "group", func(t *txn) error {
		var g *ding.Group
		var ms []ding.Member
		b := &pgx.Batch{}
		// NO KEY UPDATE: strong enough to serialise updates and sends, and
		// it lets rows that merely reference the group (read marks) be
		// written meanwhile
		b.Queue(`SELECT `+chatCols+` FROM chats WHERE chat_id = $1 AND corp_id = $2 FOR NO KEY UPDATE`, chatID, corpID).
			QueryRow(func(row pgx.Row) (err error) {
				g, err = scanGroup(row)
				return err
			})
		b.Queue(membersSQL, chatID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				m, err := scanMember(rows)
				if err != nil {
					return err
				}
				ms = append(ms, m)
			}
			return nil
		})
		if err := t.read(ctx, b); err != nil {
			return err
		}
		ch, err := decide(&ding.GroupState{Group: *g, Members: ms})
		if err != nil {
			return verdict{err}
		}
		if ch == nil {
			out = g
			return nil
		}
		w := &pgx.Batch{}
		if len(ch.Remove) > 0 {
			kinds, ids := make([]string, len(ch.Remove)), make([]string, len(ch.Remove))
			for i, m := range ch.Remove {
				kinds[i], ids[i] = m.Kind, m.ID
			}
			w.Queue(`DELETE FROM chat_members m USING (SELECT unnest($2::text[]) AS kind, unnest($3::text[]) AS id) AS r
				WHERE m.chat_id = $1 AND m.kind = r.kind AND m.member_id = r.id`, chatID, kinds, ids)
		}
		queueMembers(w, chatID, ch.Add)
		if roles := lastPerMember(ch.Roles); len(roles) > 0 {
			n := len(roles)
			kinds, ids, nicks, rs := make([]string, n), make([]string, n), make([]string, n), make([]int32, n)
			for i, m := range roles {
				kinds[i], ids[i], nicks[i], rs[i] = m.Kind, m.ID, m.Nick, int32(m.Role)
			}
			w.Queue(`UPDATE chat_members m SET role = r.role, nick = r.nick
				FROM (SELECT unnest($2::text[]) AS kind, unnest($3::text[]) AS id, unnest($4::int[]) AS role, unnest($5::text[]) AS nick) AS r
				WHERE m.chat_id = $1 AND m.kind = r.kind AND m.member_id = r.id`, chatID, kinds, ids, rs, nicks)
		}
		row := ch.Group
		row.ChatID, row.CorpID, row.OpenConversationID = g.ChatID, g.CorpID, g.OpenConversationID
		args := groupArgs(&row)
		w.Queue(`UPDATE chats SET name = $2, owner = $3, owner_type = $4, conversation_tag = $5, icon = $6,
			show_history_type = $7, searchable = $8, validation_type = $9, mention_all_authority = $10, management_type = $11,
			chat_banned_type = $12, status = $13, creator_app = $14, created_at = $15, updated_at = $16, friend_forbidden = $17,
			member_count = (SELECT count(*) FROM chat_members WHERE chat_id = $1), version = nextval('chat_versions')
			WHERE chat_id = $1 RETURNING member_count`,
			append([]any{chatID}, append(args[3:16:16], args[17:]...)...)...).
			QueryRow(func(r pgx.Row) error { return r.Scan(&row.MemberCount) })
		queueEvents(w, ch.Events)
		if err := t.commit(ctx, w); err != nil {
			return err
		}
		out, events = &row, ch.Events
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.tellEvents(events)
	return out, nil
}

// lastPerMember keeps the last entry for each member, as applying the list
// one by one would.
func lastPerMember(ms []ding.Member) []ding.Member {
	type key struct{ kind, id string }
	at := make(map[key]int, len(ms))
	var out []ding.Member
	for _, m := range ms {
		k := key{m.Kind, m.ID}
		if i, ok := at[k]; ok {
			out[i] = m
			continue
		}
		at[k] = len(out)
		out = append(out, m)
	}
	return out
}
