package service_test

import (
	"fmt"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

func declaredOrg() *ding.Org {
	const corp = "dingdeclared0001"
	return &ding.Org{
		Corp:   ding.Corp{ID: corp, Name: "声明的企业"},
		Users:  []ding.User{{CorpID: corp, UserID: "u1", UnionID: "n1"}, {CorpID: corp, UserID: "u2", UnionID: "n2"}},
		Robots: []ding.Robot{{Code: "r1", CorpID: corp, Name: "通知"}},
		Groups: []ding.OrgGroup{{Name: "告警群", Owner: "u1", Members: []string{"u2"}, Robots: []string{"r1"},
			Webhooks: []ding.Webhook{{Token: "fixed-token", Name: "ci", Keywords: []string{"告警"}}}}},
	}
}

// Declared groups get a stable chatid, their robots and fixed webhook
// tokens; applying the file again leaves the group as it has become.
func TestApplyOrgDeclaredGroups(t *testing.T) {
	t.Parallel()
	st := dingtest.OpenStore(t)
	svc := service.New(st, dingtest.NewClock(), &service.SequentialIDs{})
	org := declaredOrg()
	if err := svc.ApplyOrg(bg, org); err != nil {
		t.Fatal(err)
	}
	chatID := service.OrgChatID(org.Corp.ID, "告警群")
	g, err := st.Group(bg, org.Corp.ID, chatID)
	if err != nil {
		t.Fatalf("declared group: %v", err)
	}
	if g.Owner != "u1" || g.MemberCount != 2 || g.ConversationTag != ding.TagInternal {
		t.Fatalf("group = %+v", g)
	}
	if in, err := st.InGroup(bg, chatID, "r1"); err != nil || !in {
		t.Fatalf("robot r1 in group = %v, %v", in, err)
	}
	if _, err := svc.SendWebhook(bg, service.WebhookSendInput{Token: "fixed-token", Body: []byte(`{"msgtype":"text","text":{"content":"告警: disk full"}}`)}); err != nil {
		t.Fatalf("send through the declared webhook: %v", err)
	}

	// the group changes at run time; a restart applies the file again
	events, _ := st.Events(bg, org.Corp.ID, 0, 1000)
	if _, err := st.UpdateGroup(bg, org.Corp.ID, chatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ng := s.Group
		return &ding.GroupChange{Group: ng, Remove: []ding.Member{{ID: "u2", Kind: ding.MemberEmp}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyOrg(bg, declaredOrg()); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	g, _ = st.Group(bg, org.Corp.ID, chatID)
	if g.MemberCount != 1 {
		t.Fatalf("members after re-applying = %d, want the run-time state (1)", g.MemberCount)
	}
	after, _ := st.Events(bg, org.Corp.ID, 0, 1000)
	if len(after) != len(events) {
		t.Fatalf("re-applying wrote %d events, want none", len(after)-len(events))
	}
	hooks, err := st.Webhooks(bg, chatID)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks = %v, %v; want the one declared", hooks, err)
	}
}

func TestApplyOrgDeclaredGroupRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*ding.OrgGroup)
	}{
		{"name too long", func(g *ding.OrgGroup) { g.Name = "一二三四五六七八九十一二三四五六七八九十一" }},
		{"bad chatid", func(g *ding.OrgGroup) { g.ChatID = "chatNOTHEX" }},
		{"unknown member", func(g *ding.OrgGroup) { g.Members = []string{"ghost"} }},
		{"unknown robot", func(g *ding.OrgGroup) { g.Robots = []string{"nobody"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := dingtest.OpenStore(t)
			svc := service.New(st, dingtest.NewClock(), &service.SequentialIDs{})
			org := declaredOrg()
			tc.change(&org.Groups[0])
			if err := svc.ApplyOrg(bg, org); err == nil {
				t.Fatal("ApplyOrg succeeded, want an error")
			}
		})
	}
}

// Nodes starting together apply the same file at once: every apply
// succeeds and the group, its robot and its custom robot exist once.
func TestApplyOrgDeclaredGroupsConcurrently(t *testing.T) {
	t.Parallel()
	st := dingtest.OpenStore(t)
	const nodes = 4
	for round := range 5 {
		org := declaredOrg()
		org.Groups[0].Name = fmt.Sprintf("告警群%d", round)
		org.Groups[0].Webhooks[0].Token = fmt.Sprintf("fixed-token-%d", round)
		errs := make(chan error, nodes)
		start := make(chan struct{})
		for range nodes {
			// one service per node, as separate processes would have
			svc := service.New(st, dingtest.NewClock(), &service.SequentialIDs{})
			go func() {
				<-start
				errs <- svc.ApplyOrg(bg, org)
			}()
		}
		close(start)
		for range nodes {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent apply: %v", round, err)
			}
		}
		chatID := service.OrgChatID(org.Corp.ID, org.Groups[0].Name)
		if robots, err := st.GroupRobots(bg, chatID); err != nil || len(robots) != 1 {
			t.Fatalf("round %d: group robots = %v, %v; want r1 once", round, robots, err)
		}
		if ws, err := st.Webhooks(bg, chatID); err != nil || len(ws) != 1 {
			t.Fatalf("round %d: webhooks = %v, %v; want one", round, ws, err)
		}
	}
}
