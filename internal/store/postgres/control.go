package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/schema"
	"github.com/jackc/pgx/v5"
)

var _ ding.ControlStore = (*Store)(nil)

// catalog reads the current schema's tables (without the migration record
// and settings), their columns and foreign keys.
func catalog(ctx context.Context, tx pgx.Tx) (schema.Graph, error) {
	g := schema.Graph{Cols: map[string][]string{}}
	rows, err := tx.Query(ctx, `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('schema_migrations', 'settings') ORDER BY table_name`)
	if err != nil {
		return g, err
	}
	if g.Tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return g, err
	}
	rows, err = tx.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		return g, err
	}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return g, err
		}
		g.Cols[t] = append(g.Cols[t], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}
	rows, err = tx.Query(ctx, `SELECT ch.relname::text, p.relname::text,
		ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
		ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
			JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_constraint c
		JOIN pg_class ch ON ch.oid = c.conrelid
		JOIN pg_class p ON p.oid = c.confrelid
		JOIN pg_namespace n ON n.oid = ch.relnamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema()
		ORDER BY ch.relname, c.conname`)
	if err != nil {
		return g, err
	}
	for rows.Next() {
		var fk schema.FK
		if err := rows.Scan(&fk.Child, &fk.Parent, &fk.ChildCols, &fk.ParentCols); err != nil {
			rows.Close()
			return g, err
		}
		g.FKs = append(g.FKs, fk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}
	for _, fk := range looseFKs {
		if slices.Contains(g.Tables, fk.Child) && slices.Contains(g.Tables, fk.Parent) &&
			!slices.ContainsFunc(g.FKs, func(k schema.FK) bool { return k.Child == fk.Child && k.Parent == fk.Parent }) {
			g.FKs = append(g.FKs, fk)
		}
	}
	return g, nil
}

// looseFKs are references the schema no longer declares (their checks cost
// more than they proved, see the migrations that dropped them) but whose
// rows still belong to their parent's: the plans over the catalog
// (DeleteCorp's deletes) follow them as if they were declared. A table
// with a corp_id column (messages) needs none.
var looseFKs = []schema.FK{
	{Child: "chat_members", ChildCols: []string{"chat_id"}, Parent: "chats", ParentCols: []string{"chat_id"}}, // 0010
}

// inTx runs fn in one transaction, retried when PostgreSQL aborts it for a
// deadlock (TRUNCATE's table locks can meet a running write's row locks).
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		if s.closed.Load() {
			return errClosed
		}
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil {
			return nil
		}
		var de *ding.Error
		if errors.As(err, &de) {
			return err
		}
		if attempt < maxAttempts && retryable(err) && ctx.Err() == nil {
			time.Sleep(time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(4)))
			continue
		}
		return translate(err, what)
	}
}

// Reset empties every table but the migration record and settings, drops
// the named settings, in one transaction, and counts the reset generation up. TRUNCATE
// holds its tables until the commit, so no write of another node slips in
// between two tables.
func (s *Store) Reset(ctx context.Context, drop []string) (int64, error) {
	defer s.versions.dropAll()
	var gen int64
	err := s.inTx(ctx, "reset", func(tx pgx.Tx) error {
		g, err := catalog(ctx, tx)
		if err != nil {
			return err
		}
		if len(g.Tables) > 0 {
			q := make([]string, len(g.Tables))
			for i, t := range g.Tables {
				q[i] = schema.Quote(t)
			}
			if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(q, ", ")+` RESTART IDENTITY`); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM settings WHERE key = ANY($1)`, drop); err != nil {
			return err
		}
		var v string
		if err := tx.QueryRow(ctx, `INSERT INTO settings (key, value) VALUES ($1, '1')
			ON CONFLICT (key) DO UPDATE SET value = (settings.value::bigint + 1)::text RETURNING value`,
			ding.SettingResetGeneration).Scan(&v); err != nil {
			return err
		}
		gen, _ = strconv.ParseInt(v, 10, 64)
		return nil
	})
	return gen, err
}

// DeleteCorp deletes the corp and everything that belongs to it, in one
// transaction.
func (s *Store) DeleteCorp(ctx context.Context, corpID string) error {
	defer s.versions.dropAll()
	return s.inTx(ctx, "corp", func(tx pgx.Tx) error {
		var one int
		// the corp's row lock keeps a concurrent ApplyOrg of it waiting
		if err := tx.QueryRow(ctx, `SELECT 1 FROM corps WHERE id = $1 FOR UPDATE`, corpID).Scan(&one); err != nil {
			return translate(err, "corp")
		}
		// messages and members have no foreign key to chats (migrations
		// 0008, 0010): the groups' rows are locked first, in the order sends
		// lock them, so that no send or update is still writing to them when
		// their messages and members go
		if _, err := tx.Exec(ctx, `SELECT 1 FROM chats WHERE corp_id = $1 ORDER BY chat_id FOR UPDATE`, corpID); err != nil {
			return err
		}
		g, err := catalog(ctx, tx)
		if err != nil {
			return err
		}
		for _, stmt := range g.CorpDeletes("$1") {
			if _, err := tx.Exec(ctx, stmt, corpID); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutSetting stores value under key.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.batch(ctx, "setting", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	})
}

// GetSetting reads a setting without storing anything.
func (s *Store) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.q().QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, translate(err, "setting")
	}
	return v, true, nil
}
