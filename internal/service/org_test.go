package service_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// Nodes starting together on one empty database agree on one demo corp.
func TestEnsureDemoOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	st := dingtest.OpenStore(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := service.New(st, dingtest.NewClock(), nil)
			if _, err := node.EnsureDemo(bg); err != nil {
				t.Errorf("EnsureDemo: %v", err)
			}
		}()
	}
	wg.Wait()
	corps, err := st.Corps(bg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(corps), 1; got != want {
		t.Fatalf("corps = %d, want %d", got, want)
	}
	apps, err := st.AppsByCorp(bg, corps[0].ID)
	if err != nil || len(apps) != 1 {
		t.Fatalf("demo apps = %v, %v; want one", apps, err)
	}
	users, err := st.UsersByCorp(bg, corps[0].ID, 1000)
	if err != nil || len(users) != 53 {
		t.Fatalf("demo users = %d, %v; want 53", len(users), err)
	}
	// the ids DingTalk's own examples use, so they work as written
	for _, id := range []string{"manager4220", "zhangsan", "lisi", "wangwu", "manager1122", "userid1", "userid2"} {
		if !slices.ContainsFunc(users, func(u ding.User) bool { return u.UserID == id }) {
			t.Errorf("the demo organisation has no user %s", id)
		}
	}
	// a later start finds the corp and adds nothing
	created, err := service.New(st, dingtest.NewClock(), nil).EnsureDemo(bg)
	if err != nil || created != "" {
		t.Fatalf("EnsureDemo on a populated store = %q, %v; want no corp", created, err)
	}
}
