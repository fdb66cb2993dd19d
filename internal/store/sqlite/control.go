package sqlite

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/schema"
)

var _ ding.ControlStore = (*Store)(nil)

// catalog reads the schema's tables (without SQLite's own, the migration
// record and settings), their columns and foreign keys.
func catalog(tx *sql.Tx) (schema.Graph, error) {
	g := schema.Graph{Cols: map[string][]string{}}
	rows, err := tx.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		AND name NOT IN ('schema_migrations', 'settings') ORDER BY name`)
	if err != nil {
		return g, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return g, err
		}
		g.Tables = append(g.Tables, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}
	for _, t := range g.Tables {
		crows, err := tx.Query(`SELECT name FROM pragma_table_info(?)`, t)
		if err != nil {
			return g, err
		}
		for crows.Next() {
			var c string
			if err := crows.Scan(&c); err != nil {
				crows.Close()
				return g, err
			}
			g.Cols[t] = append(g.Cols[t], c)
		}
		crows.Close()
		frows, err := tx.Query(`SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t)
		if err != nil {
			return g, err
		}
		byID := map[int]*schema.FK{}
		var ids []int
		for frows.Next() {
			var id int
			var parent, from string
			var to sql.NullString
			if err := frows.Scan(&id, &parent, &from, &to); err != nil {
				frows.Close()
				return g, err
			}
			fk := byID[id]
			if fk == nil {
				fk = &schema.FK{Child: t, Parent: parent}
				byID[id] = fk
				ids = append(ids, id)
			}
			fk.ChildCols = append(fk.ChildCols, from)
			fk.ParentCols = append(fk.ParentCols, to.String) // a bare REFERENCES names the parent's key; none here does
		}
		frows.Close()
		for _, id := range ids {
			g.FKs = append(g.FKs, *byID[id])
		}
	}
	g.FKs = append(g.FKs, looseFKs...)
	return g, nil
}

// looseFKs, as PostgreSQL's store names its own, are references SQLite is
// not asked to check: only the writer's own statements fill these tables,
// from a group's row, and a check per member row would cost what
// member_chats saves (migration 0014).
// The plans over the catalog (a corp's deletion, a reset) follow them as if
// they were declared.
var looseFKs = []schema.FK{
	{Child: "member_chats", ChildCols: []string{"chat_id"}, Parent: "chats", ParentCols: []string{"chat_id"}},
	{Child: "member_chats_pending", ChildCols: []string{"chat_id"}, Parent: "chats", ParentCols: []string{"chat_id"}},
}

// Reset empties every table but the migration record and settings, drops
// the named settings, in one transaction, and counts the reset generation up.
func (s *Store) Reset(ctx context.Context, drop []string) (int64, error) {
	var gen int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		s.movedAll()
		g, err := catalog(tx)
		if err != nil {
			return translate(err, "schema")
		}
		for _, t := range g.ChildrenFirst() {
			if _, err := tx.Exec(`DELETE FROM ` + schema.Quote(t)); err != nil {
				return translate(err, t)
			}
		}
		// AUTOINCREMENT counters start again too
		var seqs int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'`).Scan(&seqs); err != nil {
			return translate(err, "schema")
		}
		if seqs > 0 {
			if _, err := tx.Exec(`DELETE FROM sqlite_sequence`); err != nil {
				return translate(err, "sqlite_sequence")
			}
		}
		var cur string
		err = tx.QueryRow(`SELECT value FROM settings WHERE key = ?`, ding.SettingResetGeneration).Scan(&cur)
		if err != nil && err != sql.ErrNoRows {
			return translate(err, "setting")
		}
		gen, _ = strconv.ParseInt(cur, 10, 64)
		gen++
		for _, k := range drop {
			if _, err := tx.Exec(`DELETE FROM settings WHERE key = ?`, k); err != nil {
				return translate(err, "setting")
			}
		}
		_, err = tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			ding.SettingResetGeneration, strconv.FormatInt(gen, 10))
		return translate(err, "setting")
	})
	return gen, err
}

// DeleteCorp deletes the corp and everything that belongs to it, in one
// transaction.
func (s *Store) DeleteCorp(ctx context.Context, corpID string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM corps WHERE id = ?`, corpID).Scan(&one); err != nil {
			return translate(err, "corp")
		}
		g, err := catalog(tx)
		if err != nil {
			return translate(err, "schema")
		}
		s.movedAll()
		for _, stmt := range g.CorpDeletes("?1") {
			if _, err := tx.Exec(stmt, corpID); err != nil {
				return translate(err, "corp")
			}
		}
		return nil
	})
}

// PutSetting stores value under key.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return translate(err, "setting")
	})
}

// GetSetting reads a setting without storing anything.
func (s *Store) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.readRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, translate(err, "setting")
	}
	return v, true, nil
}
