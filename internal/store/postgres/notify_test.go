package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/dingtest/told"
)

// Every write that appends events tells the corps once it committed, each
// corp once; a write refused, or one without events, tells nothing. The
// live hub announces what it is told to the other nodes.
func TestOnEventsTellsCommittedCorps(t *testing.T) {
	ctx := context.Background()
	st, _ := twoNodes(t)
	var a, b told.Recorder
	st.OnEvents(a.Add)
	st.OnEvents(b.Add)
	ev := func(corps ...string) []ding.Event {
		out := make([]ding.Event, len(corps))
		for i, c := range corps {
			out[i] = ding.Event{CorpID: c, Type: ding.EventChatUpdateTitle, ChatID: "chattold", CreatedAt: at0}
		}
		return out
	}
	expect := func(what string, want ...string) {
		t.Helper()
		if got := a.Take(); !slices.Equal(got, want) {
			t.Errorf("%s: told %q, want %q", what, got, want)
		}
		if got := b.Take(); !slices.Equal(got, want) {
			t.Errorf("%s: second listener told %q, want %q", what, got, want)
		}
	}

	g := &ding.Group{ChatID: "chattold", OpenConversationID: "cidchattold", CorpID: dingtest.CorpID, Name: "告知群",
		Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0}}
	if err := st.CreateGroup(ctx, g, ms, ev(dingtest.CorpID, dingtest.CorpID)); err != nil {
		t.Fatal(err)
	}
	expect("create", dingtest.CorpID)

	// creates that queue together commit in one batch
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			id := "chattold" + string(rune('a'+i))
			g := &ding.Group{ChatID: id, OpenConversationID: "cid" + id, CorpID: dingtest.CorpID, Name: "告知群",
				Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
				CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
			if err := st.CreateGroup(ctx, g, ms, ev(dingtest.CorpID)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, got := range a.Take() {
		if got != dingtest.CorpID {
			t.Errorf("concurrent creates: told %q", got)
		}
	}
	b.Take()

	if _, err := st.UpdateGroup(ctx, dingtest.CorpID, "chattold", func(s *ding.GroupState) (*ding.GroupChange, error) {
		g := s.Group
		g.Name = "改名"
		return &ding.GroupChange{Group: g, Events: ev(dingtest.CorpID)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	expect("update", dingtest.CorpID)

	refused := errors.New("refused")
	if _, err := st.UpdateGroup(ctx, dingtest.CorpID, "chattold", func(*ding.GroupState) (*ding.GroupChange, error) {
		return nil, refused
	}); !errors.Is(err, refused) {
		t.Fatalf("refused update: %v", err)
	}
	expect("refused update")

	m, err := send(st, "chattold", "msgtold", nil)
	if err != nil {
		t.Fatal(err)
	}
	expect("a send without events")
	m2 := &ding.Message{ID: "msgtold2", CorpID: dingtest.CorpID, ChatID: "chattold", SenderType: ding.SenderApp, Sender: dingtest.AppKey,
		MsgType: ding.MsgText, Body: []byte(`{"content":"hi"}`), CreatedAt: at0}
	if err := st.AppendMessage(ctx, m2, ev(dingtest.OtherCorpID, dingtest.CorpID), nil); err != nil {
		t.Fatal(err)
	}
	expect("a send with events", dingtest.OtherCorpID+","+dingtest.CorpID)

	if err := st.RecallMessage(ctx, dingtest.CorpID, m.ID, at0+1, ev(dingtest.CorpID)); err != nil {
		t.Fatal(err)
	}
	expect("recall", dingtest.CorpID)
	if err := st.RecallMessage(ctx, dingtest.CorpID, m.ID, at0+2, ev(dingtest.CorpID)); err == nil {
		t.Fatal("second recall succeeded")
	}
	expect("refused recall")

	if err := st.SaveRobot(ctx, &ding.Robot{Code: "dingtoldrobot", CorpID: dingtest.CorpID, Name: "告知", CreatedAt: at0}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGroupRobot(ctx, "chattold", "dingtoldrobot", at0, ev(dingtest.CorpID)); err != nil {
		t.Fatal(err)
	}
	expect("robot added", dingtest.CorpID)
	if err := st.RemoveGroupRobot(ctx, "chattold", "dingtoldrobot", ev(dingtest.CorpID)); err != nil {
		t.Fatal(err)
	}
	expect("robot removed", dingtest.CorpID)
	if err := st.RemoveGroupRobot(ctx, "chattold", "dingtoldrobot", ev(dingtest.CorpID)); err == nil {
		t.Fatal("removed a robot that is not in the group")
	}
	expect("refused robot removal")

	if err := st.UpdateChatApps(ctx, dingtest.CorpID, "chattold", func(*ding.ChatAppState) (*ding.ChatAppChange, error) {
		return &ding.ChatAppChange{Events: ev(dingtest.CorpID)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	expect("bound apps", dingtest.CorpID)
}
