// Package schema plans statements over a database's tables as the database
// itself describes them (tables, columns, foreign keys), so that emptying
// the store or deleting a corp covers tables added after it was written.
// Both stores read their catalog and share these plans.
package schema

import (
	"slices"
	"strings"
)

// FK is one foreign key: Child(ChildCols) references Parent(ParentCols).
type FK struct {
	Child      string
	ChildCols  []string
	Parent     string
	ParentCols []string
}

// Graph is a schema's tables, their columns and foreign keys.
type Graph struct {
	Tables []string
	Cols   map[string][]string
	FKs    []FK
}

// Quote quotes an identifier for SQLite and PostgreSQL alike.
func Quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// ChildrenFirst orders the tables so that each comes before every table it
// references: deleting in this order never breaks a foreign key. Tables on
// a cycle (none today) come last, in name order.
func (g Graph) ChildrenFirst() []string {
	refs := map[string]int{} // table → how many other tables reference it and are not yet placed
	for _, fk := range g.FKs {
		if fk.Child != fk.Parent && slices.Contains(g.Tables, fk.Child) {
			refs[fk.Parent]++
		}
	}
	placed := map[string]bool{}
	var out []string
	for len(out) < len(g.Tables) {
		progressed := false
		for _, t := range g.Tables {
			if placed[t] || refs[t] > 0 {
				continue
			}
			placed[t] = true
			out = append(out, t)
			progressed = true
			for _, fk := range g.FKs {
				if fk.Child == t && fk.Parent != t {
					refs[fk.Parent]--
				}
			}
		}
		if !progressed {
			rest := []string{}
			for _, t := range g.Tables {
				if !placed[t] {
					rest = append(rest, t)
				}
			}
			slices.Sort(rest)
			return append(out, rest...)
		}
	}
	return out
}

// CorpColumn is the column that names a row's corp.
const CorpColumn = "corp_id"

// CorpDeletes plans the DELETE statements, in a foreign-key-safe order, that
// remove a corp and everything that belongs to it: rows of any table with a
// corp_id column equal to the corp, the corp's row in corps, and, before
// each of those, the rows that refer to them through foreign keys. p is the
// placeholder of the corp id ("?1" or "$1"); every statement takes only it.
func (g Graph) CorpDeletes(p string) []string {
	var out []string
	seen := map[string]bool{}
	var del func(table, where string, depth int)
	del = func(table, where string, depth int) {
		if depth > 8 { // a cycle: the database refuses what is left, nothing is torn
			return
		}
		for _, fk := range g.FKs {
			if fk.Parent != table || fk.Child == table {
				continue
			}
			sub := "(" + quoteAll(fk.ChildCols) + ") IN (SELECT " + quoteAll(fk.ParentCols) + " FROM " + Quote(table) + " WHERE " + where + ")"
			del(fk.Child, sub, depth+1)
		}
		stmt := "DELETE FROM " + Quote(table) + " WHERE " + where
		if !seen[stmt] {
			seen[stmt] = true
			out = append(out, stmt)
		}
	}
	for _, t := range g.Tables {
		if t != "corps" && slices.Contains(g.Cols[t], CorpColumn) {
			del(t, Quote(CorpColumn)+" = "+p, 0)
		}
	}
	del("corps", `"id" = `+p, 0)
	return out
}

func quoteAll(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = Quote(id)
	}
	return strings.Join(q, ", ")
}
