package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

const mcCorp, mcNow = "dingmc0014", 1767225600000

// memberGroups checks that GroupsOf, GroupsOfPage and MemberHeads agree on
// user's groups and returns them sorted.
func memberGroups(t *testing.T, st *sqlite.Store, user string) []string {
	t.Helper()
	ctx := context.Background()
	gs, err := st.GroupsOf(ctx, mcCorp, user)
	if err != nil {
		t.Fatal(err)
	}
	heads, err := st.MemberHeads(ctx, mcCorp, user)
	if err != nil {
		t.Fatal(err)
	}
	var ids, headIDs, paged []string
	for _, g := range gs {
		ids = append(ids, g.ChatID)
	}
	for _, h := range heads {
		headIDs = append(headIDs, h.ChatID)
	}
	p := ding.GroupPage{Limit: 3}
	for {
		page, err := st.GroupsOfPage(ctx, mcCorp, user, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page {
			paged = append(paged, g.ChatID)
		}
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.After = ding.GroupCursor{CreatedAt: last.CreatedAt, ChatID: last.ChatID}
	}
	if !slices.Equal(ids, headIDs) || !slices.Equal(ids, paged) {
		t.Fatalf("groups of %s: GroupsOf %v, MemberHeads %v, pages %v", user, ids, headIDs, paged)
	}
	slices.Sort(ids)
	return ids
}

func wantGroups(t *testing.T, st *sqlite.Store, user string, ids ...string) {
	t.Helper()
	if ids == nil {
		ids = []string{}
	}
	got := memberGroups(t, st, user)
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("groups of %s = %v, want %v", user, got, ids)
	}
}

func count(t *testing.T, st *sqlite.Store, table string) int {
	t.Helper()
	var n int
	if err := st.ReadRowForTest(`SELECT COUNT(*) FROM `+table, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantMerged waits for the writes queued so far, a merge among them, and
// checks that nothing is pending and member_chats holds n rows.
func wantMerged(t *testing.T, st *sqlite.Store, n int) {
	t.Helper()
	if err := st.Ping(context.Background()); err != nil { // a write queued behind the merge
		t.Fatal(err)
	}
	if p, m := count(t, st, "member_chats_pending"), count(t, st, "member_chats"); p != 0 || m != n {
		t.Fatalf("after the merge: %d pending, %d in member_chats; want 0 and %d", p, m, n)
	}
}

func emp(ids ...string) []ding.Member {
	var out []ding.Member
	for _, id := range ids {
		out = append(out, ding.Member{ID: id, Kind: ding.MemberEmp, JoinedAt: mcNow})
	}
	return out
}

func createMC(t *testing.T, st *sqlite.Store, chatID string, at int64, members ...string) {
	t.Helper()
	g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: mcCorp, Name: chatID, Owner: members[0],
		OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal, CreatedAt: at, UpdatedAt: at}
	if err := st.CreateGroup(context.Background(), g, emp(members...), nil); err != nil {
		t.Fatal(err)
	}
}

func changeMembers(t *testing.T, st *sqlite.Store, chatID string, add, remove []string) {
	t.Helper()
	if _, err := st.UpdateGroup(context.Background(), mcCorp, chatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		return &ding.GroupChange{Group: s.Group, Add: emp(add...), Remove: emp(remove...)}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// seedMC writes the corp and its users u1…u4 with SQL, as a store of any
// version has them.
func seedMC(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO corps (id, name, created_at) VALUES (?, '企业', ?)`, mcCorp, mcNow); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		if _, err := db.Exec(`INSERT INTO users (corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at)
			VALUES (?, ?, ?, ?, '', '', '', '', 1, 0, '[]', ?)`, mcCorp, u, "union-"+u, u, mcNow); err != nil {
			t.Fatal(err)
		}
	}
}

// openSeededMC opens a new store that merges at mergeAt pending groups,
// with the corp and its users, and returns it and its file.
func openSeededMC(t *testing.T, mergeAt int) (*sqlite.Store, string) {
	t.Helper()
	t.Cleanup(sqlite.SetMergeAt(mergeAt))
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedMC(t, db)
	return st, path
}

// A store written before migration 0014 answers a staff member's groups
// from member_chats after it.
func TestMemberChatsFilledByMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingchat.db")
	if err := sqlite.MigrateBefore(path, 14); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	seedMC(t, db)
	for i, g := range []struct {
		id      string
		members []string
	}{{"chatold1", []string{"u1", "u2"}}, {"chatold2", []string{"u1"}}} {
		if _, err := db.Exec(`INSERT INTO chats (chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon,
			show_history_type, searchable, validation_type, mention_all_authority, management_type, chat_banned_type, status, creator_app,
			member_count, created_at, updated_at) VALUES (?, ?, ?, '旧群', 'u1', 'emp', 2, '', 0, 0, 0, 0, 0, 0, 1, '', ?, ?, ?)`,
			g.id, "cid"+g.id, mcCorp, len(g.members), mcNow+i, mcNow+i); err != nil {
			t.Fatal(err)
		}
		for pos, m := range g.members {
			if _, err := db.Exec(`INSERT INTO chat_members (chat_id, kind, member_id, role, pos, joined_at, nick) VALUES (?, 'emp', ?, 0, ?, ?, '')`,
				g.id, m, pos, mcNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Close()

	st := open(t, path)
	wantGroups(t, st, "u1", "chatold1", "chatold2")
	wantGroups(t, st, "u2", "chatold1")
	wantGroups(t, st, "u3")
	if n := count(t, st, "member_chats"); n != 3 {
		t.Fatalf("member_chats holds %d rows after the migration, want 3", n)
	}
	// a migrated group is merged: its member changes go to member_chats
	changeMembers(t, st, "chatold1", []string{"u3"}, []string{"u1"})
	wantGroups(t, st, "u1", "chatold2")
	wantGroups(t, st, "u3", "chatold1")
}

// Groups are found while pending, after their merge, and after member
// changes on either side of it; a corp's deletion and a reset leave nothing
// of them behind.
func TestMemberChatsPendingAndMerged(t *testing.T) {
	st, path := openSeededMC(t, 4)

	createMC(t, st, "chat01", mcNow+1, "u1", "u2")
	createMC(t, st, "chat02", mcNow+2, "u1", "u3")
	createMC(t, st, "chat03", mcNow+3, "u2")
	if n := count(t, st, "member_chats_pending"); n != 3 {
		t.Fatalf("%d groups pending, want 3", n)
	}
	wantGroups(t, st, "u1", "chat01", "chat02")
	// a pending group's member changes need chat_members alone
	changeMembers(t, st, "chat02", []string{"u4"}, []string{"u1"})
	wantGroups(t, st, "u1", "chat01")
	wantGroups(t, st, "u4", "chat02")

	// the fourth queues the merge, which commits after it
	createMC(t, st, "chat04", mcNow+4, "u1", "u4")
	wantMerged(t, st, 7)
	wantGroups(t, st, "u1", "chat01", "chat04")
	wantGroups(t, st, "u2", "chat01", "chat03")
	wantGroups(t, st, "u3", "chat02")
	wantGroups(t, st, "u4", "chat02", "chat04")

	// merged groups' member changes go to member_chats
	changeMembers(t, st, "chat01", []string{"u3"}, []string{"u1", "u2"})
	wantGroups(t, st, "u1", "chat04")
	wantGroups(t, st, "u2", "chat03")
	wantGroups(t, st, "u3", "chat01", "chat02")

	// pending and merged side by side
	for i := 5; i <= 6; i++ {
		createMC(t, st, fmt.Sprintf("chat%02d", i), mcNow+int64(i), "u2")
	}
	wantGroups(t, st, "u2", "chat03", "chat05", "chat06")

	if err := st.DeleteCorp(context.Background(), mcCorp); err != nil {
		t.Fatal(err)
	}
	if p, m, c := count(t, st, "member_chats_pending"), count(t, st, "member_chats"), count(t, st, "chat_members"); p+m+c != 0 {
		t.Fatalf("after the corp's deletion: %d pending, %d member_chats, %d chat_members rows left", p, m, c)
	}

	// a reset empties both as well
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedMC(t, db)
	createMC(t, st, "chat07", mcNow+7, "u1")
	if _, err := st.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if p, m := count(t, st, "member_chats_pending"), count(t, st, "member_chats"); p+m != 0 {
		t.Fatalf("after a reset: %d pending, %d member_chats rows left", p, m)
	}
}

// A merge request lost with a rolled-back batch is asked for again once
// a multiple of mergeAt groups are pending.
func TestMemberChatsMergeAskedAgain(t *testing.T) {
	st, _ := openSeededMC(t, 2)
	if err := st.LoseMergeRequest(); err != nil {
		t.Fatal(err)
	}
	createMC(t, st, "chat01", mcNow+1, "u1")
	createMC(t, st, "chat02", mcNow+2, "u1", "u2")
	wantMerged(t, st, 3) // though the merge was thought queued
	wantGroups(t, st, "u1", "chat01", "chat02")
	wantGroups(t, st, "u2", "chat02")
}
