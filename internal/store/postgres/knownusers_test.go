package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// A node checks a create's staff members in full once; its later creates
// naming them skip the check until users may have left, whichever node or
// client removed them: a deleted corp, a reset, a plain DELETE. A create
// after any of them that names a user who left fails with that user
// unknown and writes nothing.
func TestKnownUsersFollowRemovals(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	n := 0
	group := func(users ...string) (*ding.Group, []ding.Member) {
		n++
		return staffGroup(fmt.Sprintf("chatknown%04d", n), users...)
	}
	create := func(users ...string) error {
		g, ms := group(users...)
		return a.CreateGroup(ctx, g, ms, nil)
	}
	warm := func(step string) {
		t.Helper()
		dingtest.Seed(t, b)
		before := postgres.UserReads(a)
		for i := range 3 {
			if err := create("zhangsan"); err != nil {
				t.Fatalf("%s: create %d: %v", step, i, err)
			}
		}
		if got := postgres.UserReads(a) - before; got != 1 {
			t.Fatalf("%s: three creates checked all their users %d times, want once", step, got)
		}
	}
	without := dingtest.OrgWithout("zhangsan")
	wantGone := func(step string, reapply bool) {
		t.Helper()
		if reapply {
			if err := b.ApplyOrg(ctx, without); err != nil {
				t.Fatalf("%s: ApplyOrg: %v", step, err)
			}
		}
		g, ms := group("zhangsan")
		if err := a.CreateGroup(ctx, g, ms, nil); !unknownZhangsan(err) {
			t.Fatalf("%s: create naming a user who left = %v, want zhangsan unknown", step, err)
		}
		if _, err := a.Group(ctx, dingtest.CorpID, g.ChatID); !ding.IsKind(err, ding.NotFound) {
			t.Fatalf("%s: the refused create left its group: %v", step, err)
		}
		before := postgres.UserReads(a)
		for i := range 2 {
			if err := create(); err != nil {
				t.Fatalf("%s: create %d naming users who stayed: %v", step, i, err)
			}
		}
		if got := postgres.UserReads(a) - before; got != 1 {
			t.Fatalf("%s: after the removal two creates checked all their users %d times, want once", step, got)
		}
	}

	warm("before a deleted corp")
	if err := b.DeleteCorp(ctx, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantGone("after a deleted corp", true)

	warm("before a reset")
	if _, err := b.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	wantGone("after a reset", true)

	warm("before another client's delete")
	if err := postgres.Exec(b, `DELETE FROM users WHERE corp_id = $1 AND userid = 'zhangsan'`, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantGone("after another client's delete", false)

	warm("before a user renamed")
	if err := postgres.Exec(b, `UPDATE users SET userid = 'zhangsan2' WHERE corp_id = $1 AND userid = 'zhangsan'`, dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	wantGone("after a user renamed", false)
}

// Creates committed together learn their users too, and a batch holding a
// create that names an unknown user still answers each create on its own.
func TestKnownUsersInBatches(t *testing.T) {
	ctx := context.Background()
	st, _ := oneNode(t)
	run := func(round int, users func(i int) []string) []error {
		errs := make([]error, 16)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g, ms := staffGroup(fmt.Sprintf("chatbatch%02d%02d", round, i), users(i)...)
				errs[i] = st.CreateGroup(ctx, g, ms, nil)
			}()
		}
		wg.Wait()
		return errs
	}
	for i, err := range run(0, func(int) []string { return []string{"zhangsan"} }) {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	before := postgres.UserReads(st)
	errs := run(1, func(i int) []string {
		if i%4 == 3 {
			return []string{"zhangsan", "nobody"}
		}
		return []string{"zhangsan"}
	})
	for i, err := range errs {
		if i%4 == 3 {
			if want := ding.UnknownUser("nobody"); err == nil || err.Error() != want.Error() {
				t.Fatalf("create %d naming nobody = %v, want %v", i, err, want)
			}
		} else if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if got := postgres.UserReads(st) - before; got != 0 {
		t.Fatalf("%d creates read users they knew", got)
	}
}

func unknownZhangsan(err error) bool {
	want := ding.UnknownUser("zhangsan")
	return ding.IsKind(err, ding.Invalid) && err != nil && err.Error() == want.Error()
}

// staffGroup is a group of chatID owned by manager4220 with users as its
// other staff members.
func staffGroup(chatID string, users ...string) (*ding.Group, []ding.Member) {
	g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: dingtest.CorpID, Name: "已知群",
		Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0}}
	for _, u := range users {
		ms = append(ms, ding.Member{ID: u, Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0})
	}
	return g, ms
}
