package service_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/service"
)

// TestConcurrentAddsRespectCap: 32 callers add 34 different users each to
// one group at once, 1088 in all. The cap is checked inside the store's
// transaction, so exactly the calls that fit succeed, whole.
func TestConcurrentAddsRespectCap(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	c := e.app()
	g := e.group("zhangsan")
	const (
		callers = 32
		batch   = 34
	)
	before := len(e.events())
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(i*batch+1, (i+1)*batch)})
		}()
	}
	wg.Wait()

	ms := e.members(g.ChatID)
	has := map[string]bool{}
	for _, m := range ms {
		if has[m.ID] {
			t.Fatalf("member %s listed twice", m.ID)
		}
		has[m.ID] = true
	}
	var ok []int
	for i, err := range errs {
		batchIDs := userIDs(i*batch+1, (i+1)*batch)
		present := 0
		for _, id := range batchIDs {
			if has[id] {
				present++
			}
		}
		switch {
		case err == nil:
			ok = append(ok, i)
			if present != batch {
				t.Errorf("call %d succeeded but %d of its %d users are members", i, present, batch)
			}
		case ding.ErrorKind(err) == ding.Invalid && ding.ErrorReason(err) == ding.ReasonMemberLimit:
			if present != 0 {
				t.Errorf("call %d failed but %d of its users are members", i, present)
			}
		default:
			t.Errorf("call %d: %v, want success or %s", i, err, ding.ReasonMemberLimit)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// equal batches: a call fails only when the group cannot take it whole
	if got, want := len(ok), (ding.MaxMembers-2)/batch; got != want {
		t.Fatalf("%d calls succeeded, want %d", got, want)
	}
	if got, want := len(ms), 2+batch*len(ok); got != want {
		t.Fatalf("len(Members) = %d, want %d", got, want)
	}
	if len(ms) > ding.MaxMembers {
		t.Fatalf("len(Members) = %d, past the cap %d", len(ms), ding.MaxMembers)
	}
	stored := e.stored(g.ChatID)
	if got, want := stored.MemberCount, len(ms); got != want {
		t.Fatalf("MemberCount = %d, want len(Members) %d", got, want)
	}
	if got, want := e.roles(g.ChatID)["manager4220"], ding.RoleOwner; got != want || stored.Owner != "manager4220" {
		t.Fatalf("owner manager4220 role = %d (group owner %q), want %d", got, stored.Owner, want)
	}

	// one chat_add_member event per successful call, naming exactly its users
	var added []int
	for _, ev := range e.events()[before:] {
		if ev.Type != ding.EventChatAddMember {
			t.Fatalf("unexpected event %s", ev.Type)
		}
		var first int
		d := eventData(t, ev)
		users, _ := d["userId"].([]any)
		if len(users) != batch {
			t.Fatalf("event %d names %d users, want %d", ev.Seq, len(users), batch)
		}
		if _, err := fmt.Sscanf(users[0].(string), "user%d", &first); err != nil {
			t.Fatalf("event %d: %v", ev.Seq, err)
		}
		i := (first - 1) / batch
		for k, u := range users {
			if got, want := u, userIDs(i*batch+1, (i+1)*batch)[k]; got != want {
				t.Fatalf("event %d userId[%d] = %v, want %v", ev.Seq, k, got, want)
			}
		}
		added = append(added, i)
	}
	slices.Sort(added)
	if !slices.Equal(added, ok) {
		t.Fatalf("add events for calls %v, want %v", added, ok)
	}
}

// TestConcurrentOwnerChanges: transfers and deletions racing each other never
// leave the group without its owner or with two.
func TestConcurrentOwnerChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	named := []string{"manager4220", "zhangsan", "lisi", "wangwu"}
	g := e.group(named[1:]...)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := service.UpdateGroupInput{ChatID: g.ChatID}
			switch i % 3 {
			case 0:
				in.Owner = &named[i%4]
			case 1:
				in.DelUserIDs = []string{named[i%4]}
			default:
				in.AddUserIDs = []string{named[i%4]}
			}
			_, err := e.svc.UpdateGroup(bg, c, in)
			if err != nil && ding.ErrorReason(err) != ding.ReasonOwnerNotMember {
				errs <- fmt.Errorf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stored := e.stored(g.ChatID)
	ms := e.members(g.ChatID)
	if got, want := stored.MemberCount, len(ms); got != want {
		t.Fatalf("MemberCount = %d, want len(Members) %d", got, want)
	}
	owners := 0
	for _, m := range ms {
		if m.Role == ding.RoleOwner {
			owners++
			if m.ID != stored.Owner {
				t.Fatalf("member %s has the owner role, group owner is %s", m.ID, stored.Owner)
			}
		}
	}
	if owners != 1 {
		t.Fatalf("%d members have the owner role, want 1 (members %s, owner %s)", owners, ids(ms), stored.Owner)
	}
}
