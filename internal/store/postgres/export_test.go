package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ShowSetting reads a run-time setting on one of the pool's connections.
func ShowSetting(s *Store, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// MigrateBefore applies the migrations numbered below n to the schema of
// url: the database as a release before migration n left it.
func MigrateBefore(ctx context.Context, url string, n int) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := migrationVersion(name)
		if err != nil {
			return err
		}
		if v >= n {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, 0)`, v); err != nil {
			return err
		}
	}
	return nil
}

// SetVersionTTL sets how long s answers a group's version from memory.
func SetVersionTTL(s *Store, d time.Duration) {
	s.versions.mu.Lock()
	s.versions.ttl = d
	s.versions.mu.Unlock()
}

// VersionReads counts the versions s read from the database.
func VersionReads(s *Store) int64 { return s.versions.reads.Load() }

// VersionsListening reports whether s hears the version notices, and the
// listening connection's backend.
func VersionsListening(s *Store) (bool, uint32) {
	s.versions.mu.Lock()
	defer s.versions.mu.Unlock()
	return s.versions.live, s.versions.pid.Load()
}

// Exec runs sql on one of s's pooled connections.
func Exec(s *Store, sql string, args ...any) error {
	_, err := s.pool.Exec(context.Background(), sql, args...)
	return err
}

// QueryInt reads one number on one of s's pooled connections.
func QueryInt(s *Store, sql string, out *int64) error {
	return s.pool.QueryRow(context.Background(), sql).Scan(out)
}

// QueuedSends counts the sends waiting for a batch of s's group commit.
func QueuedSends(s *Store) int { return len(s.sends.reqs) }

// PlanCounts reports how often the statements on one of the pool's
// connections that start with prefix were run on a generic and on a
// custom plan (pg_prepared_statements; a pool of one connection makes it
// the connection that ran them).
func PlanCounts(s *Store, prefix string) (generic, custom int64, err error) {
	err = s.pool.QueryRow(context.Background(), `SELECT COALESCE(SUM(generic_plans), 0)::bigint, COALESCE(SUM(custom_plans), 0)::bigint
		FROM pg_prepared_statements WHERE starts_with(statement, $1)`, prefix).Scan(&generic, &custom)
	return generic, custom, err
}

func RegisterArrays(m *pgtype.Map) { registerArrays(m) }

var ArrayValues = arrayValues

// UserReads counts the committed creates whose check read every staff member.
func UserReads(s *Store) int64 { return s.userReads.Load() }

// QueuedCreates counts the creates waiting for a batch of s's group commit.
func QueuedCreates(s *Store) int { return len(s.creates.reqs) }

// CarryBadNotice hands the next create batch, as if it had been announced
// while creates were being written, a notice that PostgreSQL refuses (a
// payload over its 8000 bytes); done tells whether a transaction carried it.
func CarryBadNotice(s *Store) (done chan bool) {
	n := &notice{channel: "dingchat_heads_bad", payloads: []string{strings.Repeat("x", 9000)}, done: make(chan bool, 1)}
	s.creates.notices.begin()
	s.creates.notices.carry(n)
	s.creates.notices.end(true) // as if creates were queued: the next batch takes it
	return n.done
}

// PageRead is one page of ReadPages.
type PageRead struct {
	ChatID string
	Q      ding.MessageQuery
	Out    []ding.Message
	Err    error
}

// ReadPages reads pages as one of the page queue's batches.
func ReadPages(s *Store, reads []*PageRead) {
	reqs := make([]*pageReq, len(reads))
	for i, r := range reads {
		reqs[i] = &pageReq{chatID: r.ChatID, q: r.Q, done: make(chan error, 1)}
	}
	s.readPages(reqs)
	for i, r := range reqs {
		reads[i].Err = <-r.done
		reads[i].Out = r.out
	}
}
