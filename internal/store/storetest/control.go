package storetest

import (
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// fill puts something in every kind of row a corp can own: tokens, a
// group with members, messages, read marks, events, media, a member token,
// robots in the group and a custom robot, a join code.
func fill(t *testing.T, st ding.Store, corpID, app, chatID string) {
	t.Helper()
	_, err := st.IssueToken(ctx(), ding.Token{Hash: "tok-" + chatID, AppKey: app, CorpID: corpID, CreatedAt: t0, ExpiresAt: t0 + 7200000}, t0)
	noErr(t, err, "IssueToken")
	g := testGroup(corpID, chatID, "cid"+chatID, "填充群")
	g.ConversationTag = ding.TagInternal
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, []ding.Event{groupEvent(g, ding.EventChatCreate, `{}`, t0)})
	m := message(g, "msg-"+chatID, t0, `{"content":"hi"}`)
	noErr(t, st.AppendMessage(ctx(), m, []ding.Event{groupEvent(g, "chat_send", `{}`, t0)}, nil), "AppendMessage")
	_, err = st.MarkRead(ctx(), chatID, "manager4220", 1)
	noErr(t, err, "MarkRead")
	noErr(t, st.CreateMedia(ctx(), &ding.Media{ID: "@media-" + chatID, CorpID: corpID, Type: ding.MediaImage, Digest: "00", Size: 1, CreatedAt: t0}), "CreateMedia")
	noErr(t, st.SaveMemberToken(ctx(), ding.MemberToken{Hash: "mt-" + chatID, CorpID: corpID, UserID: "manager4220", CreatedAt: t0}), "SaveMemberToken")
	noErr(t, st.SaveRobot(ctx(), &ding.Robot{Code: "robot-" + chatID, CorpID: corpID, Name: "r", CreatedAt: t0}), "SaveRobot")
	noErr(t, st.AddGroupRobot(ctx(), chatID, "robot-"+chatID, t0, nil), "AddGroupRobot")
	noErr(t, st.CreateWebhook(ctx(), &ding.Webhook{Token: "wh-" + chatID, CorpID: corpID, ChatID: chatID, Name: "w", CreatedAt: t0}), "CreateWebhook")
	_, err = st.IssueJoinCode(ctx(), ding.JoinCode{Hash: "jc-" + chatID, Salt: "s", KeyID: "k", CorpID: corpID, ChatID: chatID, Sharer: "manager4220", CreatedAt: t0, ExpiresAt: t0 + joinTTL}, t0)
	noErr(t, err, "IssueJoinCode")
}

// gone fails unless nothing fill made for chatID is left.
func gone(t *testing.T, st ding.Store, corpID, chatID string) {
	t.Helper()
	_, err := st.Token(ctx(), "tok-"+chatID)
	wantKind(t, err, ding.NotFound, "token after delete")
	_, err = st.Group(ctx(), corpID, chatID)
	wantKind(t, err, ding.NotFound, "group after delete")
	_, err = st.Message(ctx(), corpID, "msg-"+chatID)
	wantKind(t, err, ding.NotFound, "message after delete")
	_, err = st.Media(ctx(), corpID, "@media-"+chatID)
	wantKind(t, err, ding.NotFound, "media after delete")
	_, err = st.MemberToken(ctx(), "mt-"+chatID)
	wantKind(t, err, ding.NotFound, "member token after delete")
	_, err = st.Robot(ctx(), "robot-"+chatID)
	wantKind(t, err, ding.NotFound, "robot after delete")
	_, err = st.Webhook(ctx(), "wh-"+chatID)
	wantKind(t, err, ding.NotFound, "webhook after delete")
	_, err = st.JoinCode(ctx(), "jc-"+chatID)
	wantKind(t, err, ding.NotFound, "join code after delete")
	evs, err := st.Events(ctx(), corpID, 0, 10)
	noErr(t, err, "Events")
	if len(evs) != 0 {
		t.Fatalf("events after delete: %d", len(evs))
	}
}

// testReset empties everything but the kept settings, counts generations,
// and leaves a store that takes the same org (and numbers events from 1).
func testReset(t *testing.T, st ding.Store) {
	seed(t, st)
	fill(t, st, corpA, appA1, "chatresetA")
	fill(t, st, corpB, appB1, "chatresetB")
	_, err := st.Setting(ctx(), "admin_token", "adm-kept")
	noErr(t, err, "Setting")
	noErr(t, st.PutSetting(ctx(), "scratch", "x"), "PutSetting")
	gen, err := st.Reset(ctx(), []string{"scratch", "never-set"})
	noErr(t, err, "Reset")
	if gen != 1 {
		t.Fatalf("first reset generation = %d, want 1", gen)
	}
	gone(t, st, corpA, "chatresetA")
	gone(t, st, corpB, "chatresetB")
	if n, err := st.CountCorps(ctx()); err != nil || n != 0 {
		t.Fatalf("corps after reset = %d, %v", n, err)
	}
	if v, ok, err := st.GetSetting(ctx(), "admin_token"); err != nil || !ok || v != "adm-kept" {
		t.Fatalf("kept setting = %q %v %v", v, ok, err)
	}
	if _, ok, err := st.GetSetting(ctx(), "scratch"); err != nil || ok {
		t.Fatalf("a dropped setting survived: %v %v", ok, err)
	}
	if v, _, _ := st.GetSetting(ctx(), ding.SettingResetGeneration); v != "1" {
		t.Fatalf("stored generation %q", v)
	}
	// the same organisation again, as a reset's re-apply does
	seed(t, st)
	fill(t, st, corpA, appA1, "chatresetA")
	evs, err := st.Events(ctx(), corpA, 0, 10)
	noErr(t, err, "Events")
	if len(evs) == 0 || evs[0].Seq != 1 {
		t.Fatalf("events after reset start at %v, want seq 1", evs)
	}
	if gen, err = st.Reset(ctx(), []string{"admin_token"}); err != nil || gen != 2 {
		t.Fatalf("second reset = %d, %v; want 2", gen, err)
	}
	if _, ok, _ := st.GetSetting(ctx(), "admin_token"); ok {
		t.Fatal("admin_token survived a reset that dropped it")
	}
}

// testDeleteCorp removes one corp with everything it owns and leaves the
// other corp whole.
func testDeleteCorp(t *testing.T, st ding.Store) {
	seed(t, st)
	fill(t, st, corpA, appA1, "chatdelA")
	fill(t, st, corpB, appB1, "chatdelB")
	noErr(t, st.DeleteCorp(ctx(), corpA), "DeleteCorp")
	gone(t, st, corpA, "chatdelA")
	_, err := st.Corp(ctx(), corpA)
	wantKind(t, err, ding.NotFound, "corp after delete")
	_, err = st.App(ctx(), appA1)
	wantKind(t, err, ding.NotFound, "app after delete")
	_, err = st.User(ctx(), corpA, "zhangsan")
	wantKind(t, err, ding.NotFound, "user after delete")
	// corp B is whole
	if _, err := st.Group(ctx(), corpB, "chatdelB"); err != nil {
		t.Fatalf("other corp's group: %v", err)
	}
	if _, err := st.Token(ctx(), "tok-chatdelB"); err != nil {
		t.Fatalf("other corp's token: %v", err)
	}
	if evs, err := st.Events(ctx(), corpB, 0, 10); err != nil || len(evs) == 0 {
		t.Fatalf("other corp's events: %v %v", evs, err)
	}
	wantKind(t, st.DeleteCorp(ctx(), corpA), ding.NotFound, "second DeleteCorp")
	// the id can be used again
	seed(t, st, orgA())
}

// testSettings: PutSetting replaces, GetSetting reads without storing.
func testSettings(t *testing.T, st ding.Store) {
	if _, ok, err := st.GetSetting(ctx(), "k"); err != nil || ok {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	noErr(t, st.PutSetting(ctx(), "k", "1"), "PutSetting")
	noErr(t, st.PutSetting(ctx(), "k", "2"), "PutSetting")
	if v, ok, err := st.GetSetting(ctx(), "k"); err != nil || !ok || v != "2" {
		t.Fatalf("setting = %q %v %v", v, ok, err)
	}
}
