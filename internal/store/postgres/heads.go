package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

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
	sum := sha256.Sum256([]byte(schema))
	c := "dingchat_heads_" + hex.EncodeToString(sum[:12])
	s.channel.Store(&c)
	return c, nil
}

// AnnounceHeads notifies the schema's channel: "chatid seq" lines, split
// to fit a payload, one round trip for all of them.
func (s *Store) AnnounceHeads(ctx context.Context, heads map[string]int64) error {
	if len(heads) == 0 {
		return nil
	}
	ch, err := s.headsChannel(ctx)
	if err != nil {
		return err
	}
	var b pgx.Batch
	var sb strings.Builder
	for id, seq := range heads {
		line := id + " " + strconv.FormatInt(seq, 10) + "\n"
		if sb.Len()+len(line) > maxNotice {
			b.Queue(`SELECT pg_notify($1, $2)`, ch, sb.String())
			sb.Reset()
		}
		sb.WriteString(line)
	}
	b.Queue(`SELECT pg_notify($1, $2)`, ch, sb.String())
	if s.closed.Load() {
		return errClosed
	}
	return translate(s.pool.SendBatch(ctx, &b).Close(), "announce heads")
}

// ListenHeads listens on a connection of its own, outside the pool, which
// it would otherwise hold for good.
func (s *Store) ListenHeads(ctx context.Context, listening func(), heard func(map[string]int64)) error {
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
		if heads, err := parseHeads(n.Payload); err == nil {
			heard(heads)
		}
	}
}

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
