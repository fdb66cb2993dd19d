package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

func keptMsg(chatID, id, body string) *ding.Message {
	return &ding.Message{ID: id, CorpID: dingtest.CorpID, ChatID: chatID, SenderType: ding.SenderApp, Sender: dingtest.AppKey,
		MsgType: ding.MsgText, Body: []byte(body), CreatedAt: 1767225600123}
}

// send appends a message and returns the group as the store's check saw it.
func send(t *testing.T, st *sqlite.Store, m *ding.Message, events ...ding.Event) (ding.Group, error) {
	t.Helper()
	var seen ding.Group
	err := st.AppendMessage(context.Background(), m, events, func(g *ding.Group) error { seen = *g; return nil })
	return seen, err
}

func wantSeq(t *testing.T, st *sqlite.Store, chatID, id string, want int64) {
	t.Helper()
	m := keptMsg(chatID, id, `{"content":"`+id+`"}`)
	if _, err := send(t, st, m); err != nil {
		t.Fatalf("send %s: %v", id, err)
	}
	if m.Seq != want {
		t.Fatalf("send %s got seq %d, want %d", id, m.Seq, want)
	}
	stored, err := st.Message(context.Background(), dingtest.CorpID, id)
	if err != nil || stored.Seq != want {
		t.Fatalf("message %s stored as %+v, %v; want seq %d", id, stored, err, want)
	}
}

// rawDB opens the store's file behind its back.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// A send judges the group as the last change left it, also when the writer
// kept the group's row from an earlier send.
func TestKeptGroupFollowsChanges(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatkeptchange01")
	if seen, err := send(t, st, keptMsg(g.ChatID, "kept-1", `{}`)); err != nil || seen.Name != g.Name {
		t.Fatalf("first send saw %q, %v", seen.Name, err)
	}
	if _, err := st.UpdateGroup(ctx, dingtest.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ch := &ding.GroupChange{Group: s.Group}
		ch.Group.Name = "改过的名字"
		ch.Add = []ding.Member{{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: 1}}
		return ch, nil
	}); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	seen, err := send(t, st, keptMsg(g.ChatID, "kept-2", `{}`))
	if err != nil || seen.Name != "改过的名字" || seen.MemberCount != 2 {
		t.Fatalf("send after a rename saw %q with %d members, %v; want the new name and 2", seen.Name, seen.MemberCount, err)
	}
	if err := st.UpdateChatApps(ctx, dingtest.CorpID, g.ChatID, func(*ding.ChatAppState) (*ding.ChatAppChange, error) {
		return &ding.ChatAppChange{Status: ding.StatusDisbanded, UpdatedAt: 2}, nil
	}); err != nil {
		t.Fatalf("UpdateChatApps: %v", err)
	}
	if seen, err := send(t, st, keptMsg(g.ChatID, "kept-3", `{}`)); err != nil || seen.Status != ding.StatusDisbanded {
		t.Fatalf("send after a disband saw status %d, %v; want %d", seen.Status, err, ding.StatusDisbanded)
	}
	// another corp's send finds no group, kept or not
	m := keptMsg(g.ChatID, "kept-4", `{}`)
	m.CorpID = dingtest.OtherCorpID
	if _, err := send(t, st, m); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("send from another corp = %v, want NotFound", err)
	}
	wantSeq(t, st, g.ChatID, "kept-5", 4)
}

// A deleted corp or a reset takes the groups' numbers with it: a group made
// again under the same chatid starts at 1.
func TestKeptSeqDroppedWithGroups(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	for _, drop := range []struct {
		name string
		do   func() error
	}{
		{"a deleted corp", func() error { return st.DeleteCorp(ctx, dingtest.CorpID) }},
		{"a reset", func() error { _, err := st.Reset(ctx, nil); return err }},
	} {
		dingtest.Seed(t, st)
		g := versionGroup(t, st, "chatkeptdrop01")
		for i := 1; i <= 3; i++ {
			wantSeq(t, st, g.ChatID, fmt.Sprintf("drop-%s-%d", drop.name, i), int64(i))
		}
		if err := drop.do(); err != nil {
			t.Fatalf("%s: %v", drop.name, err)
		}
		dingtest.Seed(t, st)
		if _, err := send(t, st, keptMsg(g.ChatID, "gone-"+drop.name, `{}`)); !ding.IsKind(err, ding.NotFound) {
			t.Fatalf("send to a group gone with %s = %v, want NotFound", drop.name, err)
		}
		versionGroup(t, st, g.ChatID)
		wantSeq(t, st, g.ChatID, "again-"+drop.name, 1)
		if err := drop.do(); err != nil {
			t.Fatalf("%s: %v", drop.name, err)
		}
	}
}

// A send that fails takes no number, whether its INSERT fails or a later
// statement of it (an event) does.
func TestKeptSeqAfterFailedSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatkeptfail01")
	wantSeq(t, st, g.ChatID, "fail-1", 1)
	if _, err := send(t, st, keptMsg(g.ChatID, "fail-1", `{}`)); !ding.IsKind(err, ding.Conflict) {
		t.Fatalf("send with a taken id = %v, want Conflict", err)
	}
	wantSeq(t, st, g.ChatID, "fail-2", 2)

	if _, err := rawDB(t, path).Exec(`CREATE TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.type = 'refused'
		BEGIN SELECT RAISE(ABORT, 'event refused'); END`); err != nil {
		t.Fatal(err)
	}
	ev := ding.Event{CorpID: dingtest.CorpID, Type: "refused", ChatID: g.ChatID, CreatedAt: 1}
	if _, err := send(t, st, keptMsg(g.ChatID, "fail-3", `{}`), ev); err == nil {
		t.Fatal("send with a refused event succeeded")
	}
	if _, err := st.Message(context.Background(), dingtest.CorpID, "fail-3"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("message of the failed send: %v, want NotFound", err)
	}
	wantSeq(t, st, g.ChatID, "fail-4", 3)

	// a number taken behind the store's back: the next send sees the file
	// changed and numbers after it
	if _, err := rawDB(t, path).Exec(`INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, created_at)
		VALUES (?, 4, 'by-hand', ?, 'app', 'x', 'text', '{}', 1)`, g.ChatID, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantSeq(t, st, g.ChatID, "fail-5", 5)
}

// When SQLite rolls the whole transaction back in the middle of a batch
// (here RAISE(ROLLBACK) in a trigger, as an I/O error or a full disk can),
// every write of the batch fails, none is in the file, the store goes on
// taking writes and the groups' numbers stay without a gap. The failing send
// runs without a savepoint (no events) in one case and with one in the other.
func TestWholeTransactionRolledBack(t *testing.T) {
	ctx := context.Background()
	for _, withEvent := range []bool{false, true} {
		t.Run(fmt.Sprintf("event=%v", withEvent), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dingchat.db")
			st := open(t, path)
			dingtest.Seed(t, st)
			a := versionGroup(t, st, "chatkeptrollba")
			b := versionGroup(t, st, "chatkeptrollbb")
			wantSeq(t, st, a.ChatID, "a-1", 1)
			wantSeq(t, st, b.ChatID, "b-1", 1)
			if _, err := rawDB(t, path).Exec(`CREATE TRIGGER roll_back BEFORE INSERT ON messages WHEN NEW.body = 'rollback'
				BEGIN SELECT RAISE(ROLLBACK, 'rolled back'); END`); err != nil {
				t.Fatal(err)
			}
			var errs [5]error
			var evs []ding.Event
			if withEvent {
				evs = []ding.Event{{CorpID: dingtest.CorpID, Type: "chat_send", ChatID: a.ChatID, CreatedAt: 1}}
			}
			ms := []*ding.Message{keptMsg(a.ChatID, "a-2", `{}`), keptMsg(b.ChatID, "b-2", `{}`),
				keptMsg(a.ChatID, "a-rollback", "rollback"), keptMsg(b.ChatID, "b-3", `{}`)}
			if err := st.InOneBatch(
				func() { errs[0] = st.AppendMessage(ctx, ms[0], nil, nil) },
				func() { errs[1] = st.AppendMessage(ctx, ms[1], nil, nil) },
				func() { errs[2] = st.AppendMessage(ctx, ms[2], evs, nil) },
				func() { _, errs[3] = st.UpdateGroup(ctx, dingtest.CorpID, b.ChatID, rename("同批")) },
				func() { errs[4] = st.AppendMessage(ctx, ms[3], nil, nil) },
			); err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err == nil {
					t.Errorf("write %d of the rolled-back batch succeeded", i)
				}
			}
			for _, m := range ms {
				if _, err := st.Message(ctx, dingtest.CorpID, m.ID); !ding.IsKind(err, ding.NotFound) {
					t.Errorf("message %s of the rolled-back batch: %v, want NotFound", m.ID, err)
				}
			}
			if got, err := st.Group(ctx, dingtest.CorpID, b.ChatID); err != nil || got.Name != b.Name {
				t.Errorf("group b after the rolled-back batch: %+v, %v; want its name unchanged", got, err)
			}
			if err := st.WriteFailure(); err != nil {
				t.Fatalf("the store refuses writes after a rolled-back batch: %v", err)
			}
			wantSeq(t, st, a.ChatID, "a-3", 2)
			wantSeq(t, st, b.ChatID, "b-4", 2)
		})
	}
}

func rename(name string) func(*ding.GroupState) (*ding.GroupChange, error) {
	return func(s *ding.GroupState) (*ding.GroupChange, error) {
		ch := &ding.GroupChange{Group: s.Group}
		ch.Group.Name = name
		return ch, nil
	}
}

// A kept row is read once however long the group is quiet, and a change
// made behind the store's back (another connection) is seen by the very
// next write.
func TestKeptGroupFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatkeptbound01")
	reads := func() int64 {
		t.Helper()
		n, err := st.KeptReads()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	wantSeq(t, st, g.ChatID, "bound-1", 1)
	before := reads()
	time.Sleep(1100 * time.Millisecond) // longer than rows were once kept
	wantSeq(t, st, g.ChatID, "bound-2", 2)
	if n := reads() - before; n != 0 {
		t.Errorf("a send after a quiet second read the group's row %d times; want it kept", n)
	}

	if _, err := rawDB(t, path).Exec(`UPDATE chats SET name = 'by hand' WHERE chat_id = ?`, g.ChatID); err != nil {
		t.Fatal(err)
	}
	seen, err := send(t, st, keptMsg(g.ChatID, "bound-3", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if seen.Name != "by hand" {
		t.Errorf("the next send saw the group named %q; want the change made by hand", seen.Name)
	}
	// a message inserted by hand moves the next number too
	if _, err := rawDB(t, path).Exec(`INSERT INTO messages (chat_id, seq, id, corp_id, sender_type, sender, msgtype, body, created_at)
		VALUES (?, 4, 'bound-by-hand', ?, 'app', 'x', 'text', '{}', 1)`, g.ChatID, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantSeq(t, st, g.ChatID, "bound-5", 5)
}
