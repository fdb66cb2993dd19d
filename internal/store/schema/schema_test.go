package schema

import (
	"slices"
	"strings"
	"testing"
)

func graph() Graph {
	return Graph{
		Tables: []string{"apps", "chat_members", "chats", "corps", "events", "suites", "tokens"},
		Cols: map[string][]string{
			"apps": {"app_key", "corp_id"}, "chats": {"chat_id", "corp_id"}, "chat_members": {"chat_id", "member_id"},
			"corps": {"id"}, "events": {"corp_id", "seq"}, "tokens": {"token", "app_key", "corp_id"}, "suites": {"suite_key"},
		},
		FKs: []FK{
			{"apps", []string{"corp_id"}, "corps", []string{"id"}},
			{"chats", []string{"corp_id"}, "corps", []string{"id"}},
			{"chat_members", []string{"chat_id"}, "chats", []string{"chat_id"}},
			{"tokens", []string{"app_key"}, "apps", []string{"app_key"}},
		},
	}
}

func TestChildrenFirst(t *testing.T) {
	g := graph()
	order := g.ChildrenFirst()
	if len(order) != len(g.Tables) {
		t.Fatalf("order %v lost tables", order)
	}
	pos := map[string]int{}
	for i, tb := range order {
		pos[tb] = i
	}
	for _, fk := range g.FKs {
		if pos[fk.Child] > pos[fk.Parent] {
			t.Errorf("%s comes after %s, which it references: %v", fk.Child, fk.Parent, order)
		}
	}
}

func TestChildrenFirstCycle(t *testing.T) {
	g := Graph{Tables: []string{"a", "b", "c"}, FKs: []FK{{"a", []string{"x"}, "b", []string{"y"}}, {"b", []string{"y"}, "a", []string{"x"}}}}
	if order := g.ChildrenFirst(); len(order) != 3 || order[0] != "c" {
		t.Fatalf("order %v", order)
	}
}

func TestCorpDeletes(t *testing.T) {
	stmts := graph().CorpDeletes("?1")
	idx := func(prefix string) int {
		return slices.IndexFunc(stmts, func(s string) bool { return strings.HasPrefix(s, prefix) })
	}
	for _, tb := range []string{"apps", "chat_members", "chats", "corps", "events", "tokens"} {
		if idx(`DELETE FROM "`+tb+`"`) < 0 {
			t.Errorf("no delete of %s in %q", tb, stmts)
		}
	}
	if idx(`DELETE FROM "suites"`) >= 0 {
		t.Errorf("suites belong to no corp: %q", stmts)
	}
	if idx(`DELETE FROM "tokens"`) > idx(`DELETE FROM "apps"`) || idx(`DELETE FROM "chat_members"`) > idx(`DELETE FROM "chats"`) ||
		idx(`DELETE FROM "corps"`) != len(stmts)-1 {
		t.Errorf("children must go first: %q", stmts)
	}
}
