package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// Messages have no foreign key to their group (migration 0008): a corp
// deleted while both nodes send to its groups leaves no message behind.
func TestDeleteCorpWhileSending(t *testing.T) {
	a, b := twoNodes(t)
	chats := []string{"chatdelete000001", "chatdelete000002"}
	for _, c := range chats {
		newGroup(t, a, c, ding.TagInternal)
	}
	var wg sync.WaitGroup
	for n, st := range []*postgres.Store{a, b} {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var seenName string
				for i := 0; ; i++ {
					if _, err := send(st, chats[(w+i)%2], fmt.Sprintf("del-%d-%d-%d", n, w, i), sendCheck(&seenName)); err != nil {
						return // the group is gone
					}
				}
			}()
		}
	}
	time.Sleep(50 * time.Millisecond)
	if err := b.DeleteCorp(context.Background(), dingtest.CorpID); err != nil {
		t.Fatalf("DeleteCorp: %v", err)
	}
	wg.Wait()
	var left int64
	if err := postgres.QueryInt(a, `SELECT count(*) FROM messages`, &left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d messages left after their corp was deleted", left)
	}
}

// Members have no foreign key to their group either (migration 0010): a
// corp deleted while both nodes add members to its groups leaves no member
// row behind, and another corp's members stay.
func TestDeleteCorpWhileAddingMembers(t *testing.T) {
	a, b := twoNodes(t)
	chats := []string{"chatdelmembers01", "chatdelmembers02"}
	for _, c := range chats {
		newGroup(t, a, c, ding.TagInternal)
	}
	other := &ding.Group{ChatID: "chatdelmembersother", OpenConversationID: "cidchatdelmembersother", CorpID: dingtest.OtherCorpID, Name: "他司群",
		Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.OtherAppKey, CreatedAt: at0, UpdatedAt: at0}
	if err := a.CreateGroup(context.Background(), other, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0},
		{ID: "zhaoliu", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0}}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for n, st := range []*postgres.Store{a, b} {
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					_, err := st.UpdateGroup(context.Background(), dingtest.CorpID, chats[(w+i)%2], func(s *ding.GroupState) (*ding.GroupChange, error) {
						return &ding.GroupChange{Group: s.Group, Add: []ding.Member{{ID: fmt.Sprintf("added-%d-%d-%d", n, w, i), Kind: ding.MemberEmp, JoinedAt: at0}}}, nil
					})
					if err != nil {
						return // the group is gone
					}
				}
			}()
		}
	}
	time.Sleep(50 * time.Millisecond)
	if err := b.DeleteCorp(context.Background(), dingtest.CorpID); err != nil {
		t.Fatalf("DeleteCorp: %v", err)
	}
	wg.Wait()
	var left, kept int64
	if err := postgres.QueryInt(a, `SELECT count(*) FROM chat_members WHERE chat_id <> 'chatdelmembersother'`, &left); err != nil {
		t.Fatal(err)
	}
	if err := postgres.QueryInt(a, `SELECT count(*) FROM chat_members WHERE chat_id = 'chatdelmembersother'`, &kept); err != nil {
		t.Fatal(err)
	}
	if left != 0 || kept != 2 {
		t.Fatalf("after the corp's delete: %d of its member rows left, %d of the other corp's kept (want 0 and 2)", left, kept)
	}
}
