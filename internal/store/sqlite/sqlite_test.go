package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
	"github.com/dingchat/dingchat/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) ding.Store { return dingtest.OpenSQLite(t) })
}

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestDurableAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	const now = 1767225600123
	tok, err := st.IssueToken(ctx, ding.Token{Hash: "durable-token", AppKey: dingtest.AppKey, CorpID: dingtest.CorpID,
		CreatedAt: now, ExpiresAt: now + ding.TokenTTL*1000}, now)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	g := &ding.Group{ChatID: "chatdurable", OpenConversationID: "ciddurable", CorpID: dingtest.CorpID, Name: "持久群🎉",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: now, UpdatedAt: now}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}
	ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatCreate, ChatID: g.ChatID, OpenConversationID: g.OpenConversationID,
		Operator: "manager4220", Data: []byte(`{"title":"持久群🎉"}`), CreatedAt: now}
	if err := st.CreateGroup(ctx, g, ms, []ding.Event{ev}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if _, err := st.UpdateGroup(ctx, dingtest.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		return &ding.GroupChange{Group: s.Group, Add: []ding.Member{{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now + 1}},
			Events: []ding.Event{{CorpID: dingtest.CorpID, Type: ding.EventChatAddMember, ChatID: g.ChatID, Data: []byte(`{}`), CreatedAt: now + 1}}}, nil
	}); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st = open(t, path)
	n, err := st.CountCorps(ctx)
	if err != nil {
		t.Fatalf("CountCorps: %v", err)
	}
	if got, want := n, 2; got != want {
		t.Fatalf("CountCorps = %d, want %d", got, want)
	}
	users, err := st.UsersByCorp(ctx, dingtest.CorpID, 10000)
	if err != nil {
		t.Fatalf("UsersByCorp: %v", err)
	}
	if got, want := len(users), dingtest.Users+len(dingtest.Named); got != want {
		t.Fatalf("len(UsersByCorp) = %d, want %d", got, want)
	}
	got, err := st.Token(ctx, tok.Hash)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if *got != *tok {
		t.Fatalf("Token = %+v, want %+v", *got, *tok)
	}
	gg, err := st.Group(ctx, dingtest.CorpID, g.ChatID)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	if got, want := gg.Name, g.Name; got != want {
		t.Fatalf("Name = %q, want %q", got, want)
	}
	if got, want := gg.MemberCount, 2; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	mems, err := st.Members(ctx, g.ChatID)
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	if got, want := len(mems), 2; got != want {
		t.Fatalf("len(Members) = %d, want %d", got, want)
	}
	// the event sequence continues where it stopped
	if _, err := st.UpdateGroup(ctx, dingtest.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		return &ding.GroupChange{Group: s.Group, Events: []ding.Event{{CorpID: dingtest.CorpID, Type: ding.EventChatUpdateSettings, ChatID: g.ChatID, Data: []byte(`{}`)}}}, nil
	}); err != nil {
		t.Fatalf("UpdateGroup after reopen: %v", err)
	}
	evs, err := st.Events(ctx, dingtest.CorpID, 0, 100)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if got, want := len(evs), 3; got != want {
		t.Fatalf("len(Events) = %d, want %d", got, want)
	}
	for i, e := range evs {
		if got, want := e.Seq, int64(i+1); got != want {
			t.Fatalf("Events[%d].Seq = %d, want %d", i, got, want)
		}
	}
	if got, want := string(evs[0].Data), `{"title":"持久群🎉"}`; got != want {
		t.Fatalf("Events[0].Data = %s, want %s", got, want)
	}
}

func TestPragmas(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"temp_store", "2"}, // MEMORY
	} {
		got, err := st.WriterPragma(tc.pragma)
		if err != nil {
			t.Fatalf("writer PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Fatalf("writer PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
		// every reader connection, not only the first one, is configured
		reads, err := st.ReaderPragmas(tc.pragma, 4)
		if err != nil {
			t.Fatalf("reader PRAGMA %s: %v", tc.pragma, err)
		}
		for i, got := range reads {
			if got != tc.want {
				t.Fatalf("reader %d PRAGMA %s = %q, want %q", i, tc.pragma, got, tc.want)
			}
		}
	}
	reads, err := st.ReaderPragmas("query_only", 4)
	if err != nil {
		t.Fatalf("reader PRAGMA query_only: %v", err)
	}
	for i, got := range reads {
		if got != "1" {
			t.Fatalf("reader %d PRAGMA query_only = %q, want %q", i, got, "1")
		}
	}
	if got, err := st.WriterPragma("query_only"); err != nil || got != "0" {
		t.Fatalf("writer PRAGMA query_only = %q, %v; want \"0\"", got, err)
	}
}

func TestReopenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingchat.db")
	files, err := sqlite.MigrationFiles()
	if err != nil {
		t.Fatalf("MigrationFiles: %v", err)
	}
	st := open(t, path)
	first, err := st.AppliedMigrations()
	if err != nil {
		t.Fatalf("AppliedMigrations: %v", err)
	}
	if got, want := len(first), files; got != want {
		t.Fatalf("applied migrations = %d, want %d", got, want)
	}
	dingtest.Seed(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := 0; i < 2; i++ {
		st := open(t, path) // would fail if a CREATE TABLE ran again
		again, err := st.AppliedMigrations()
		if err != nil {
			t.Fatalf("AppliedMigrations after reopen: %v", err)
		}
		if got, want := len(again), files; got != want {
			t.Fatalf("applied migrations after reopen = %d, want %d", got, want)
		}
		for v, at := range first {
			if got, want := again[v], at; got != want {
				t.Fatalf("migration %d applied_at = %d after reopen, want %d (applied again)", v, got, want)
			}
		}
		if _, err := st.App(context.Background(), dingtest.AppKey); err != nil {
			t.Fatalf("App after reopen: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// The log is synced on every commit unless the operator chose NORMAL,
// which every connection then uses (SQLite's values: FULL 2, NORMAL 1).
func TestSyncMode(t *testing.T) {
	for _, tc := range []struct {
		opts sqlite.Options
		want string
	}{{sqlite.Options{}, "2"}, {sqlite.Options{SyncNormal: true}, "1"}} {
		st, err := sqlite.OpenOptions(filepath.Join(t.TempDir(), "dingchat.db"), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.WriterPragma("synchronous")
		if err != nil {
			t.Fatal(err)
		}
		reads, err := st.ReaderPragmas("synchronous", 4)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if got != tc.want {
			t.Errorf("%+v: synchronous = %s on the writer, want %s", tc.opts, got, tc.want)
		}
		for _, r := range reads {
			if r != tc.want {
				t.Errorf("%+v: synchronous = %s on a reader, want %s", tc.opts, r, tc.want)
			}
		}
	}
}
