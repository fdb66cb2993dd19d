package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

func versionGroup(t *testing.T, st *sqlite.Store, chatID string) *ding.Group {
	t.Helper()
	const now = 1767225600123
	g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: dingtest.CorpID, Name: "版本群",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: now, UpdatedAt: now}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}
	if err := st.CreateGroup(context.Background(), g, ms, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

// wantKept checks that the version the writer kept is the file's, and that
// GroupVersion answers it.
func wantKept(t *testing.T, st *sqlite.Store, chatID, what string) int64 {
	t.Helper()
	file, err := st.FileVersion(chatID)
	if err != nil {
		t.Fatalf("%s: FileVersion: %v", what, err)
	}
	corp, kept, ok := st.KeptVersion(chatID)
	if !ok || corp != dingtest.CorpID || kept != file {
		t.Fatalf("%s: kept version %q %d (kept %v), want %q %d as in the file", what, corp, kept, ok, dingtest.CorpID, file)
	}
	v, err := st.GroupVersion(context.Background(), dingtest.CorpID, chatID)
	if err != nil || v != file {
		t.Fatalf("%s: GroupVersion = %d, %v; want %d", what, v, err, file)
	}
	return v
}

// Every kind of change publishes the group's new version when it commits, so
// GroupVersion sees it at once without reading the file.
func TestVersionPublishedOnCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatversionmem01")
	last := wantKept(t, st, g.ChatID, "created")

	moved := func(what string) {
		t.Helper()
		v := wantKept(t, st, g.ChatID, what)
		if v <= last {
			t.Fatalf("after %s the version is %d, was %d", what, v, last)
		}
		last = v
	}
	update := func(what string, change func(ch *ding.GroupChange)) {
		t.Helper()
		_, err := st.UpdateGroup(ctx, dingtest.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
			ch := &ding.GroupChange{Group: s.Group}
			change(ch)
			return ch, nil
		})
		if err != nil {
			t.Fatalf("UpdateGroup(%s): %v", what, err)
		}
		moved(what)
	}
	const now = 1767225700000
	update("a rename", func(ch *ding.GroupChange) { ch.Group.Name = "新名字" })
	update("a member added", func(ch *ding.GroupChange) {
		ch.Add = []ding.Member{{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now}}
	})
	update("a nickname", func(ch *ding.GroupChange) {
		ch.Roles = []ding.Member{{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now, Nick: "小张"}}
	})
	update("a new owner", func(ch *ding.GroupChange) {
		ch.Group.Owner = "zhangsan"
		ch.Roles = []ding.Member{
			{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now},
			{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now},
		}
	})
	update("a member removed", func(ch *ding.GroupChange) {
		ch.Remove = []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp}}
	})
	apps := func(what string, ch ding.ChatAppChange) {
		t.Helper()
		if err := st.UpdateChatApps(ctx, dingtest.CorpID, g.ChatID, func(*ding.ChatAppState) (*ding.ChatAppChange, error) { return &ch, nil }); err != nil {
			t.Fatalf("UpdateChatApps(%s): %v", what, err)
		}
		moved(what)
	}
	bound := ding.ChatApp{ChatID: g.ChatID, CorpID: dingtest.CorpID, AgentID: 7001, SuiteKey: "suiteversion", BoundAt: now}
	apps("an app bound", ding.ChatAppChange{Bind: []ding.ChatApp{bound}})
	apps("an app unbound", ding.ChatAppChange{Unbind: []ding.ChatApp{bound}})
	apps("a disband", ding.ChatAppChange{Status: ding.StatusDisbanded, UpdatedAt: now + 1})

	// another corp never gets the group's version from memory
	if _, err := st.GroupVersion(ctx, dingtest.OtherCorpID, g.ChatID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("GroupVersion(another corp) = %v, want NotFound", err)
	}

	// the answer comes from memory: a change behind the store's back is not
	// seen by it (the service's group cache bounds that by CacheTTL)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE chats SET version = version + 100 WHERE chat_id = ?`, g.ChatID); err != nil {
		t.Fatal(err)
	}
	if v, err := st.GroupVersion(ctx, dingtest.CorpID, g.ChatID); err != nil || v != last {
		t.Fatalf("GroupVersion after a change by hand = %d, %v; want the kept %d", v, err, last)
	}
	// the store's next change publishes what the file holds
	update("a rename after the change by hand", func(ch *ding.GroupChange) { ch.Group.Name = "又改名" })
}

// A write rolled back to its savepoint publishes nothing, while the writes
// of its batch that commit do.
func TestVersionRolledBackNotPublished(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatversionmem02")
	other := versionGroup(t, st, "chatversionmem03")
	before := wantKept(t, st, g.ChatID, "created")
	otherBefore := wantKept(t, st, other.ChatID, "created")

	rename := func() {
		if _, err := st.UpdateGroup(ctx, dingtest.CorpID, other.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
			ch := &ding.GroupChange{Group: s.Group}
			ch.Group.Name = "同批改名"
			return ch, nil
		}); err != nil {
			t.Errorf("UpdateGroup in the same batch: %v", err)
		}
	}
	if err := st.BumpVersionThenFail(dingtest.CorpID, g.ChatID, rename); err == nil {
		t.Fatal("the failing write succeeded")
	}
	if v := wantKept(t, st, g.ChatID, "a rolled-back write"); v != before {
		t.Fatalf("a rolled-back write moved the version %d → %d", before, v)
	}
	if v := wantKept(t, st, other.ChatID, "a write in the same batch"); v <= otherBefore {
		t.Fatalf("the write that committed beside it left the version at %d", v)
	}
}

// A commit whose outcome is unknown drops what was kept: versions are read
// from the file again.
func TestVersionAfterFailedCommit(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatversionmem04")
	wantKept(t, st, g.ChatID, "created")
	st.InjectCommitFault(func() error { return syscall.EIO })
	_, err := st.UpdateGroup(ctx, dingtest.CorpID, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ch := &ding.GroupChange{Group: s.Group}
		ch.Group.Name = "提交失败"
		return ch, nil
	})
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("UpdateGroup at the fault = %v, want EIO", err)
	}
	if _, _, ok := st.KeptVersion(g.ChatID); ok {
		t.Fatal("a version is still kept after a commit whose outcome is unknown")
	}
	if _, err := st.GroupVersion(ctx, dingtest.CorpID, g.ChatID); err != nil {
		t.Fatalf("GroupVersion after the fault: %v", err)
	}
	wantKept(t, st, g.ChatID, "read again from the file")
}

// A reset or a deleted corp drops every kept version with the groups.
func TestVersionDroppedWithGroups(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "dingchat.db"))
	dingtest.Seed(t, st)
	g := versionGroup(t, st, "chatversionmem05")
	wantKept(t, st, g.ChatID, "created")
	if _, err := st.Reset(ctx, nil); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if _, err := st.GroupVersion(ctx, dingtest.CorpID, g.ChatID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("GroupVersion after a reset = %v, want NotFound", err)
	}
	dingtest.Seed(t, st)
	versionGroup(t, st, g.ChatID)
	wantKept(t, st, g.ChatID, "created again")
	if err := st.DeleteCorp(ctx, dingtest.CorpID); err != nil {
		t.Fatalf("DeleteCorp: %v", err)
	}
	if _, err := st.GroupVersion(ctx, dingtest.CorpID, g.ChatID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("GroupVersion after the corp was deleted = %v, want NotFound", err)
	}
}
