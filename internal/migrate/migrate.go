// Package migrate moves a whole SQLite store into an empty PostgreSQL
// schema and proves the copy: row counts and order-independent checksums
// of every table, compared on both sides.
//
// It is driven by the two schemas, not by a list of tables: every table
// the SQLite store has is carried to the PostgreSQL table of the same name,
// column by column, converting by the PostgreSQL column's type (0/1 to
// boolean, JSON arrays to arrays, text to bytea). What it cannot carry it
// refuses before writing anything: a table or column that exists on one
// side only, unless it is one of the few PostgreSQL keeps for its own
// bookkeeping (derived below), or a type it does not know.
package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// skipped tables hold nothing worth moving: the migration record (each
// store has its own), the health check's scratch row, and PostgreSQL's
// stamp of the last removal of users (a copy removes none).
var skipped = map[string]bool{"schema_migrations": true, "health_probe": true, "users_removed": true}

// sqliteOnly tables serve SQLite's own indexing: a staff member's groups
// (migration 0014). PostgreSQL indexes chat_members itself.
var sqliteOnly = map[string]bool{"member_chats": true, "member_chats_pending": true}

// derivedTables exist on PostgreSQL alone and are computed from what was
// carried, after the copy.
var derivedTables = map[string]string{
	// the last event number handed out per corp
	"event_seqs": `INSERT INTO event_seqs (corp_id, seq) SELECT corp_id, MAX(seq) FROM events GROUP BY corp_id`,
}

// derivedColumns exist on PostgreSQL alone; a statement (or the column's
// default) fills them.
var derivedColumns = map[string]string{
	"chats.last_seq": `UPDATE chats c SET last_seq = m.last FROM (SELECT chat_id, MAX(seq) AS last FROM messages GROUP BY chat_id) m WHERE m.chat_id = c.chat_id`,
	// the group's version, drawn from one sequence: carried or defaulted, the
	// sequence goes on past every version a group has, so none repeats
	"chats.version": `SELECT setval('chat_versions', GREATEST((SELECT MAX(version) FROM chats), 1))`,
	"webhooks.n":    "", // creation order: an identity, generated in SQLite's insertion order
}

// TableReport is what happened to one table.
type TableReport struct {
	Name     string
	How      string // "copied", "derived" or "skipped"
	Rows     int64
	Checksum string // of the carried columns, equal on both sides
}

// Report is a whole migration.
type Report struct{ Tables []TableReport }

type column struct {
	name string
	udt  string // PostgreSQL's udt_name: text, int8, bool, _text, …
}

type table struct {
	name   string
	cols   []column // carried: in both stores
	rowid  bool     // SQLite keeps insertion order in rowid
	always []string // PostgreSQL identity columns GENERATED ALWAYS
}

// Run copies the SQLite file at sqlitePath into the PostgreSQL database at
// pgURL (its search_path's first schema), which must hold no rows.
// Progress lines go to log.
func Run(ctx context.Context, sqlitePath, pgURL string, log io.Writer) (Report, error) {
	var rep Report
	// both schemas up to date, as dingchat serve would leave them
	st, err := sqlite.Open(sqlitePath)
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	st.Close()
	pst, err := postgres.Open(ctx, pgURL)
	if err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	pst.Close()

	src, err := sql.Open("sqlite", "file:"+sqlitePath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return rep, err
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	// one read transaction: every table from the same instant
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer stx.Rollback()

	// a pool, for it reads the pool settings a dingchat URL may carry
	pool, err := pgxpool.New(ctx, pgURL)
	if err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	defer pool.Close()
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	defer pc.Release()
	dst := pc.Conn()

	plan, err := makePlan(ctx, stx, dst, &rep)
	if err != nil {
		return rep, err
	}
	if err := refuseNonEmpty(ctx, dst); err != nil {
		return rep, err
	}

	ptx, err := dst.Begin(ctx)
	if err != nil {
		return rep, err
	}
	defer ptx.Rollback(context.Background())
	sums := map[string]string{}
	counts := map[string]int64{}
	for _, t := range plan {
		n, sum, err := copyTable(ctx, stx, ptx, t)
		if err != nil {
			return rep, fmt.Errorf("table %s: %w", t.name, err)
		}
		counts[t.name], sums[t.name] = n, sum
		fmt.Fprintf(log, "copied %-16s %8d rows\n", t.name, n)
	}
	for _, name := range sortedKeys(derivedColumns) {
		if q := derivedColumns[name]; q != "" {
			if _, err := ptx.Exec(ctx, q); err != nil {
				return rep, fmt.Errorf("derive %s: %w", name, err)
			}
		}
	}
	for _, name := range sortedKeys(derivedTables) {
		if _, err := ptx.Exec(ctx, derivedTables[name]); err != nil {
			return rep, fmt.Errorf("derive %s: %w", name, err)
		}
		rep.Tables = append(rep.Tables, TableReport{Name: name, How: "derived"})
	}
	if err := bumpSequences(ctx, ptx, plan); err != nil {
		return rep, err
	}
	if err := ptx.Commit(ctx); err != nil {
		return rep, err
	}

	// verify: read everything back
	for _, t := range plan {
		n, sum, err := targetChecksum(ctx, dst, t)
		if err != nil {
			return rep, fmt.Errorf("verify %s: %w", t.name, err)
		}
		if n != counts[t.name] || sum != sums[t.name] {
			return rep, fmt.Errorf("verify %s: PostgreSQL holds %d rows (checksum %s), SQLite %d (checksum %s)", t.name, n, sum, counts[t.name], sums[t.name])
		}
		rep.Tables = append(rep.Tables, TableReport{Name: t.name, How: "copied", Rows: n, Checksum: sum})
	}
	if err := verifyDerived(ctx, dst); err != nil {
		return rep, err
	}
	return rep, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// makePlan matches the two schemas and orders the tables so that every
// table comes after those it references.
func makePlan(ctx context.Context, stx *sql.Tx, dst *pgx.Conn, rep *Report) ([]table, error) {
	srcTables := map[string][]string{}
	rowid := map[string]bool{}
	rows, err := stx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			rows.Close()
			return nil, err
		}
		srcTables[name] = nil
		rowid[name] = !strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID")
	}
	rows.Close()
	for name := range srcTables {
		crows, err := stx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, name)
		if err != nil {
			return nil, err
		}
		for crows.Next() {
			var c string
			crows.Scan(&c)
			srcTables[name] = append(srcTables[name], c)
		}
		crows.Close()
	}

	type pgcol struct {
		udt    string
		always bool
	}
	dstTables := map[string]map[string]pgcol{}
	prows, err := dst.Query(ctx, `SELECT c.table_name, c.column_name, c.udt_name, COALESCE(c.identity_generation, '')
		FROM information_schema.columns c JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = current_schema()`)
	if err != nil {
		return nil, err
	}
	for prows.Next() {
		var tn, cn, udt, gen string
		if err := prows.Scan(&tn, &cn, &udt, &gen); err != nil {
			prows.Close()
			return nil, err
		}
		if dstTables[tn] == nil {
			dstTables[tn] = map[string]pgcol{}
		}
		dstTables[tn][cn] = pgcol{udt, gen == "ALWAYS"}
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, err
	}

	var problems []string
	byName := map[string]table{}
	for _, name := range sortedKeys(srcTables) {
		if skipped[name] || sqliteOnly[name] {
			rep.Tables = append(rep.Tables, TableReport{Name: name, How: "skipped"})
			continue
		}
		dcols, ok := dstTables[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown table %s: the SQLite store has it, the PostgreSQL schema does not", name))
			continue
		}
		t := table{name: name, rowid: rowid[name]}
		for _, c := range srcTables[name] {
			dc, ok := dcols[c]
			if !ok {
				problems = append(problems, fmt.Sprintf("unknown column %s.%s: the SQLite store has it, the PostgreSQL schema does not", name, c))
				continue
			}
			if _, err := convert(dc.udt, nil); err != nil {
				problems = append(problems, fmt.Sprintf("column %s.%s: %v", name, c, err))
			}
			if dc.always {
				t.always = append(t.always, c)
			}
			t.cols = append(t.cols, column{c, dc.udt})
		}
		for _, c := range sortedKeys(dcols) {
			if !slices.Contains(srcTables[name], c) {
				if _, ok := derivedColumns[name+"."+c]; !ok {
					problems = append(problems, fmt.Sprintf("unknown column %s.%s: the PostgreSQL schema has it, the SQLite store does not, and migrate does not know how to fill it", name, c))
				}
			}
		}
		byName[name] = t
	}
	for _, name := range sortedKeys(dstTables) {
		if _, ok := srcTables[name]; ok || skipped[name] {
			continue
		}
		if _, ok := derivedTables[name]; !ok {
			problems = append(problems, fmt.Sprintf("unknown table %s: the PostgreSQL schema has it, the SQLite store does not, and migrate does not know how to fill it", name))
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("cannot carry the store:\n  " + strings.Join(problems, "\n  "))
	}

	// references, from PostgreSQL's catalog
	deps := map[string][]string{}
	frows, err := dst.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
		JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, err
	}
	for frows.Next() {
		var from, to string
		if err := frows.Scan(&from, &to); err != nil {
			frows.Close()
			return nil, err
		}
		from, to = unqualify(from), unqualify(to)
		if from != to {
			deps[from] = append(deps[from], to)
		}
	}
	frows.Close()
	var plan []table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("tables reference each other in a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, d := range deps[n] {
			if _, ok := byName[d]; ok {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		plan = append(plan, byName[n])
		return nil
	}
	for _, n := range sortedKeys(byName) {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

func unqualify(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Trim(s, `"`)
}

// refuseNonEmpty fails when any table of the target holds a row (the
// migration record and the health row aside).
func refuseNonEmpty(ctx context.Context, dst *pgx.Conn) error {
	rows, err := dst.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if skipped[n] {
			continue
		}
		var any bool
		if err := dst.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{n}.Sanitize()+`)`).Scan(&any); err != nil {
			return err
		}
		if any {
			return fmt.Errorf("the target is not empty (table %s has rows): migrate only into an empty schema", n)
		}
	}
	return nil
}

func quoteSQLite(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func copyTable(ctx context.Context, stx *sql.Tx, ptx pgx.Tx, t table) (int64, string, error) {
	// an identity GENERATED ALWAYS refuses given values (and COPY has no
	// OVERRIDING): relax it for the copy, inside the transaction
	for _, c := range t.always {
		if _, err := ptx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t.name}.Sanitize()+` ALTER COLUMN `+pgx.Identifier{c}.Sanitize()+` SET GENERATED BY DEFAULT`); err != nil {
			return 0, "", err
		}
		defer ptx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t.name}.Sanitize()+` ALTER COLUMN `+pgx.Identifier{c}.Sanitize()+` SET GENERATED ALWAYS`)
	}
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = quoteSQLite(c.name)
	}
	q := `SELECT ` + strings.Join(names, ", ") + ` FROM ` + quoteSQLite(t.name)
	if t.rowid {
		q += ` ORDER BY rowid`
	}
	rows, err := stx.QueryContext(ctx, q)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	var sum multiset
	var n int64
	var convErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		raw := make([]any, len(t.cols))
		ptrs := make([]any, len(t.cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(t.cols))
		for i, c := range t.cols {
			v, err := convert(c.udt, raw[i])
			if err != nil {
				convErr = fmt.Errorf("column %s: %w", c.name, err)
				return nil, convErr
			}
			out[i] = v
		}
		sum.add(canonRow(t.cols, out))
		n++
		return out, nil
	})
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = c.name
	}
	if _, err := ptx.CopyFrom(ctx, pgx.Identifier{t.name}, cols, src); err != nil {
		if convErr != nil {
			return 0, "", convErr
		}
		return 0, "", err
	}
	return n, sum.String(), nil
}

// bumpSequences moves the sequence behind any carried serial or identity
// column past the largest value copied.
func bumpSequences(ctx context.Context, ptx pgx.Tx, plan []table) error {
	for _, t := range plan {
		for _, c := range t.cols {
			var seq *string
			if err := ptx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, $2)`, pgx.Identifier{t.name}.Sanitize(), c.name).Scan(&seq); err != nil {
				return err
			}
			if seq == nil {
				continue
			}
			q := fmt.Sprintf(`SELECT setval($1, GREATEST(COALESCE(MAX(%s), 0), 1)) FROM %s`, pgx.Identifier{c.name}.Sanitize(), pgx.Identifier{t.name}.Sanitize())
			if _, err := ptx.Exec(ctx, q, *seq); err != nil {
				return err
			}
		}
	}
	return nil
}

func targetChecksum(ctx context.Context, dst *pgx.Conn, t table) (int64, string, error) {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
	}
	rows, err := dst.Query(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+pgx.Identifier{t.name}.Sanitize())
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	var sum multiset
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, "", err
		}
		sum.add(canonRow(t.cols, vals))
		n++
	}
	return n, sum.String(), rows.Err()
}

// verifyDerived checks what PostgreSQL computed against what was carried.
func verifyDerived(ctx context.Context, dst *pgx.Conn) error {
	checks := map[string]string{
		"chats.last_seq": `SELECT COUNT(*) FROM chats c WHERE c.last_seq <> COALESCE((SELECT MAX(seq) FROM messages m WHERE m.chat_id = c.chat_id), 0)`,
		"event_seqs": `SELECT COUNT(*) FROM (SELECT corp_id, MAX(seq) AS seq FROM events GROUP BY corp_id) e
			FULL JOIN event_seqs s USING (corp_id) WHERE s.seq IS DISTINCT FROM e.seq`,
	}
	for _, name := range sortedKeys(checks) {
		var bad int64
		if err := dst.QueryRow(ctx, checks[name]).Scan(&bad); err != nil {
			return fmt.Errorf("verify %s: %w", name, err)
		}
		if bad != 0 {
			return fmt.Errorf("verify %s: %d rows disagree with the copied data", name, bad)
		}
	}
	return nil
}

// convert turns a SQLite value into what the PostgreSQL column of type udt
// takes. With v nil it only reports whether udt is known.
func convert(udt string, v any) (any, error) {
	switch udt {
	case "text", "varchar", "bpchar", "json", "jsonb", "bytea", "int2", "int4", "int8", "bool", "float4", "float8", "_text", "_int8", "_int4":
	default:
		return nil, fmt.Errorf("PostgreSQL type %s is not one migrate carries", udt)
	}
	if v == nil {
		return nil, nil
	}
	switch udt {
	case "text", "varchar", "bpchar", "json", "jsonb":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	case "bytea":
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		case []byte:
			return x, nil
		}
	case "int2", "int4", "int8":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "bool":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "float4", "float8":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "_text":
		var out []string
		if err := jsonArray(v, &out); err != nil {
			return nil, err
		}
		return out, nil
	case "_int8", "_int4":
		var out []int64
		if err := jsonArray(v, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("a SQLite %T cannot become PostgreSQL %s", v, udt)
}

func jsonArray(v any, out any) error {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("want a JSON array as text, have %T", v)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("want a JSON array: %w", err)
	}
	return nil
}

// canonRow encodes a row's values, as converted or as read back from
// PostgreSQL, the same way whichever side they come from.
func canonRow(cols []column, vals []any) []byte {
	var b []byte
	for i, c := range cols {
		b = append(b, c.name...)
		b = append(b, '=')
		b = append(b, canon(vals[i])...)
		b = append(b, 0)
	}
	return b
}

func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "N"
	case string:
		return "s" + strconv.Itoa(len(x)) + ":" + x
	case []byte:
		return "s" + strconv.Itoa(len(x)) + ":" + string(x)
	case int64:
		return "i" + strconv.FormatInt(x, 10)
	case int32:
		return "i" + strconv.FormatInt(int64(x), 10)
	case int16:
		return "i" + strconv.FormatInt(int64(x), 10)
	case bool:
		if x {
			return "b1"
		}
		return "b0"
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return "f" + strconv.FormatFloat(float64(x), 'g', -1, 32)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = canon(s)
		}
		return "a[" + strings.Join(parts, ",") + "]"
	case []int64:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = canon(s)
		}
		return "a[" + strings.Join(parts, ",") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = canon(s)
		}
		return "a[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("?%T:%v", v, v)
}

// multiset is an order-independent hash of rows: the lane-wise sum of their
// sha256 digests (the two databases return rows in different orders).
type multiset [4]uint64

func (m *multiset) add(row []byte) {
	h := sha256.Sum256(row)
	for i := range m {
		m[i] += binary.BigEndian.Uint64(h[i*8:])
	}
}

func (m multiset) String() string {
	var b [32]byte
	for i, v := range m {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return hex.EncodeToString(b[:16])
}
