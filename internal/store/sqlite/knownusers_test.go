package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

// A create reads its users from the file once; later creates naming the
// same users skip the read, until users may have left: a deleted corp, a
// reset, or another connection's write. A create after any of them that
// names a user who left fails with that user unknown.
func TestKnownUsersFollowRemovals(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	n := 0
	create := func(users ...string) error {
		n++
		id := fmt.Sprintf("chatknown%04d", n)
		g := &ding.Group{ChatID: id, OpenConversationID: "cid" + id, CorpID: dingtest.CorpID, Name: "已知群",
			Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
			CreatorApp: dingtest.AppKey, CreatedAt: 1767225600000, UpdatedAt: 1767225600000}
		ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: 1}}
		for _, u := range users {
			ms = append(ms, ding.Member{ID: u, Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: 1})
		}
		return st.CreateGroup(ctx, g, ms, nil)
	}
	// warm: the first create reads, the second finds its users known
	warm := func(step string) {
		t.Helper()
		dingtest.Seed(t, st)
		before := st.UserReads()
		for i := range 2 {
			if err := create("zhangsan"); err != nil {
				t.Fatalf("%s: create %d: %v", step, i, err)
			}
		}
		if got := st.UserReads() - before; got != 1 {
			t.Fatalf("%s: two creates read their users %d times, want once", step, got)
		}
	}
	without := dingtest.OrgWithout("zhangsan")
	wantGone := func(step string) {
		t.Helper()
		if err := st.ApplyOrg(ctx, without); err != nil {
			t.Fatalf("%s: ApplyOrg: %v", step, err)
		}
		if err := create("zhangsan"); !unknownZhangsan(err) {
			t.Fatalf("%s: create naming a user who left = %v, want zhangsan unknown", step, err)
		}
	}

	warm("before a deleted corp")
	if err := st.DeleteCorp(ctx, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantGone("after a deleted corp")

	warm("before a reset")
	if _, err := st.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	wantGone("after a reset")

	warm("before another connection's delete")
	raw := rawDB(t, path)
	if _, err := raw.Exec(`DELETE FROM users WHERE corp_id = ? AND userid = 'zhangsan'`, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	if err := create("zhangsan"); !unknownZhangsan(err) {
		t.Fatalf("create after another connection deleted the user = %v, want zhangsan unknown", err)
	}
	if err := create(); err != nil {
		t.Fatalf("create naming known users only: %v", err)
	}
}

func unknownZhangsan(err error) bool {
	want := ding.UnknownUser("zhangsan")
	return ding.IsKind(err, ding.Invalid) && err != nil && err.Error() == want.Error()
}
