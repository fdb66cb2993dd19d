package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

func robotGroup(t *testing.T, st ding.Store) *ding.Group {
	t.Helper()
	const now = 1767225600000
	g := &ding.Group{ChatID: "chatrobots", OpenConversationID: "cidrobots", CorpID: dingtest.CorpID, Name: "机器人群",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: now, UpdatedAt: now}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}
	if err := st.CreateGroup(context.Background(), g, ms, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func wantKind(t *testing.T, err error, kind ding.Kind, what string) {
	t.Helper()
	if got := ding.ErrorKind(err); err == nil || got != kind {
		t.Fatalf("%s: err = %v, want kind %v", what, err, kind)
	}
}

func TestRobots(t *testing.T) {
	ctx := context.Background()
	st := dingtest.OpenStore(t)
	dingtest.Seed(t, st)
	g := robotGroup(t, st)

	if _, err := st.Robot(ctx, "dingrobot01"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("Robot(unknown) err = %v, want NotFound", err)
	}
	for _, r := range []ding.Robot{{Code: "dingrobot02", CorpID: dingtest.CorpID, Name: "二号", CreatedAt: 2}, {Code: "dingrobot01", CorpID: dingtest.CorpID, Name: "一号", CreatedAt: 1}} {
		if err := st.SaveRobot(ctx, &r); err != nil {
			t.Fatalf("SaveRobot(%s): %v", r.Code, err)
		}
	}
	if err := st.SaveRobot(ctx, &ding.Robot{Code: "dingrobot01", CorpID: dingtest.CorpID, Name: "改名", CreatedAt: 1}); err != nil {
		t.Fatalf("SaveRobot(again): %v", err)
	}
	rs, err := st.RobotsByCorp(ctx, dingtest.CorpID)
	if err != nil {
		t.Fatalf("RobotsByCorp: %v", err)
	}
	if got, want := rs, []ding.Robot{{Code: "dingrobot01", CorpID: dingtest.CorpID, Name: "改名", CreatedAt: 1}, {Code: "dingrobot02", CorpID: dingtest.CorpID, Name: "二号", CreatedAt: 2}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("RobotsByCorp = %+v, want %+v", got, want)
	}
	if rs, err := st.RobotsByCorp(ctx, dingtest.OtherCorpID); err != nil || rs == nil || len(rs) != 0 {
		t.Fatalf("RobotsByCorp(other corp) = %v, %v; want an empty list", rs, err)
	}

	ev := ding.Event{CorpID: dingtest.CorpID, Type: ding.EventChatAddRobot, ChatID: g.ChatID, Data: []byte(`{"robotCode":"dingrobot02"}`), CreatedAt: 5}
	if err := st.AddGroupRobot(ctx, g.ChatID, "dingrobot02", 5, []ding.Event{ev}); err != nil {
		t.Fatalf("AddGroupRobot: %v", err)
	}
	if err := st.AddGroupRobot(ctx, g.ChatID, "dingrobot01", 6, nil); err != nil {
		t.Fatalf("AddGroupRobot: %v", err)
	}
	wantKind(t, st.AddGroupRobot(ctx, g.ChatID, "dingrobot02", 7, []ding.Event{ev}), ding.Conflict, "AddGroupRobot(twice)")
	wantKind(t, st.AddGroupRobot(ctx, g.ChatID, "dingnosuchrobot", 7, nil), ding.Invalid, "AddGroupRobot(unknown robot)")
	evs, err := st.Events(ctx, dingtest.CorpID, 0, 100)
	if err != nil || len(evs) != 1 || evs[0].Type != ding.EventChatAddRobot {
		t.Fatalf("events = %+v, %v; want the one chat_add_robot (a refused add writes none)", evs, err)
	}
	in, err := st.GroupRobots(ctx, g.ChatID)
	if err != nil || len(in) != 2 || in[0].Code != "dingrobot02" || in[1].Code != "dingrobot01" {
		t.Fatalf("GroupRobots = %+v, %v; want dingrobot02, dingrobot01 in the order added", in, err)
	}
	if ok, err := st.InGroup(ctx, g.ChatID, "dingrobot01"); err != nil || !ok {
		t.Fatalf("InGroup = %v, %v; want true", ok, err)
	}
	if err := st.RemoveGroupRobot(ctx, g.ChatID, "dingrobot01", nil); err != nil {
		t.Fatalf("RemoveGroupRobot: %v", err)
	}
	wantKind(t, st.RemoveGroupRobot(ctx, g.ChatID, "dingrobot01", nil), ding.NotFound, "RemoveGroupRobot(twice)")
	if ok, err := st.InGroup(ctx, g.ChatID, "dingrobot01"); err != nil || ok {
		t.Fatalf("InGroup after remove = %v, %v; want false", ok, err)
	}
}

func TestOrgRobots(t *testing.T) {
	ctx := context.Background()
	st := dingtest.OpenStore(t)
	org := dingtest.OtherOrg()
	org.Robots = []ding.Robot{{Code: "dingorgrobot", Name: "组织机器人", CreatedAt: 9}}
	for i := 0; i < 2; i++ { // applying twice changes nothing
		if err := st.ApplyOrg(ctx, org); err != nil {
			t.Fatalf("ApplyOrg: %v", err)
		}
	}
	r, err := st.Robot(ctx, "dingorgrobot")
	if err != nil {
		t.Fatalf("Robot: %v", err)
	}
	if want := (ding.Robot{Code: "dingorgrobot", CorpID: dingtest.OtherCorpID, Name: "组织机器人", CreatedAt: 9}); *r != want {
		t.Fatalf("Robot = %+v, want %+v", *r, want)
	}
}

func TestWebhooks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st := open(t, path)
	dingtest.Seed(t, st)
	g := robotGroup(t, st)

	w := &ding.Webhook{Token: "tok1", CorpID: dingtest.CorpID, ChatID: g.ChatID, Name: "告警", Secret: "SECabc", Keywords: []string{"告警", "报警"}, CreatedAt: 1}
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	if err := st.CreateWebhook(ctx, &ding.Webhook{Token: "tok2", CorpID: dingtest.CorpID, ChatID: g.ChatID, Name: "无签名", CreatedAt: 2}); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	wantKind(t, st.CreateWebhook(ctx, &ding.Webhook{Token: "tok1", CorpID: dingtest.CorpID, ChatID: g.ChatID, Name: "重复", CreatedAt: 3}), ding.Conflict, "CreateWebhook(token taken)")
	got, err := st.Webhook(ctx, "tok1")
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Fatalf("Webhook = %+v, %v; want %+v", got, err, w)
	}
	if _, err := st.Webhook(ctx, "nosuch"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("Webhook(unknown) err = %v, want NotFound", err)
	}
	ws, err := st.Webhooks(ctx, g.ChatID)
	if err != nil || len(ws) != 2 || ws[0].Token != "tok1" || ws[1].Token != "tok2" || ws[1].Keywords == nil {
		t.Fatalf("Webhooks = %+v, %v; want tok1, tok2 (keywords an empty list)", ws, err)
	}

	// the window decide leaves is stored even when decide refuses
	refused := errors.New("refused")
	if err := st.LimitWebhook(ctx, "tok1", func(win *ding.WebhookWindow) error {
		if len(win.Sent) != 0 || win.ThrottledUntil != 0 {
			t.Errorf("fresh window = %+v, want empty", win)
		}
		win.Sent, win.ThrottledUntil = []int64{10, 20}, 99
		return refused
	}); err != refused {
		t.Fatalf("LimitWebhook err = %v, want decide's", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st = open(t, path) // and it survives a restart
	if err := st.LimitWebhook(ctx, "tok1", func(win *ding.WebhookWindow) error {
		if want := (ding.WebhookWindow{Sent: []int64{10, 20}, ThrottledUntil: 99}); !reflect.DeepEqual(*win, want) {
			t.Errorf("stored window = %+v, want %+v", *win, want)
		}
		win.Sent = nil
		return nil
	}); err != nil {
		t.Fatalf("LimitWebhook: %v", err)
	}
	wantKind(t, st.LimitWebhook(ctx, "nosuch", func(*ding.WebhookWindow) error { return nil }), ding.NotFound, "LimitWebhook(unknown)")
}
