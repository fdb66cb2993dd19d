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
