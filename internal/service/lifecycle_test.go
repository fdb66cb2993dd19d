package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// refused fails unless err has kind and reason and the group is as in s.
func (e *env) refused(s snapshot, err error, kind ding.Kind, reason ding.Reason, what string) {
	e.t.Helper()
	wantErr(e.t, err, kind, reason, what)
	e.unchanged(s, what)
}

// memberCaller is a staff member of the fixture corp on the member API.
func memberCaller(userID string) *service.MemberCaller {
	return &service.MemberCaller{CorpID: dingtest.CorpID, UserID: userID}
}

// actorOf is a staff member of the fixture corp changing a group through
// the member API; operator is DingChat's operator on the admin API.
func actorOf(userID string) service.Actor {
	return service.Actor{CorpID: dingtest.CorpID, UserID: userID}
}

var operator = service.AdminActor(dingtest.CorpID)

func TestDisbandByOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan", "lisi")
	e.clock.Advance(time.Second)

	s := e.snapshot(g.ChatID)
	e.refused(s, e.svc.DisbandGroup(bg, actorOf("zhangsan"), g.ChatID), ding.Forbidden, ding.ReasonNotOwner, "a member who is not the owner")
	e.refused(s, e.svc.DisbandGroup(bg, actorOf("wangwu"), g.ChatID), ding.NotFound, ding.ReasonChatNotFound, "a staff member outside the group")
	e.refused(s, e.svc.DisbandGroup(bg, service.Actor{CorpID: dingtest.OtherCorpID, UserID: "manager4220"}, g.ChatID),
		ding.NotFound, ding.ReasonChatNotFound, "the owner's userid in another corp")
	e.refused(s, e.svc.DisbandGroup(bg, actorOf("manager4220"), "chat0123456789abcdef0123456789abcdef"), ding.NotFound, ding.ReasonChatNotFound, "an unknown group")
	e.refused(s, e.svc.DisbandGroup(bg, actorOf("manager4220"), ""), ding.Invalid, ding.ReasonChatIDMissing, "no chatid")

	if err := e.svc.DisbandGroup(bg, actorOf("manager4220"), g.ChatID); err != nil {
		t.Fatalf("DisbandGroup(owner): %v", err)
	}
	stored := e.stored(g.ChatID)
	if got, want := stored.Status, ding.StatusDisbanded; got != want {
		t.Fatalf("Status = %d, want %d", got, want)
	}
	if got, want := stored.UpdatedAt, e.nowMs(); got != want {
		t.Fatalf("UpdatedAt = %d, want %d", got, want)
	}
	// members stay listed: chat/get of a disbanded group still names them
	if got, want := ids(e.members(g.ChatID)), ids(s.members); got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
	evs := e.events()
	if got, want := len(evs), s.events+1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	wantEvent(t, evs[len(evs)-1], ding.EventChatDisband, stored, e.nowMs(), map[string]any{
		"chatId": g.ChatID, "openConversationId": g.OpenConversationID, "corpId": dingtest.CorpID, "operator": "manager4220", "timeStamp": e.nowMs(),
	})
	v, err := e.svc.GetGroup(bg, e.app(), service.GroupRef{ChatID: g.ChatID})
	if err != nil {
		t.Fatalf("GetGroup(disbanded): %v", err)
	}
	if got, want := v.Group.Status, ding.StatusDisbanded; got != want {
		t.Fatalf("GetGroup Status = %d, want %d", got, want)
	}

	e.clock.Advance(time.Second)
	s = e.snapshot(g.ChatID)
	e.refused(s, e.svc.DisbandGroup(bg, actorOf("manager4220"), g.ChatID), ding.Conflict, ding.ReasonChatDisbanded, "disband twice")
	e.refused(s, e.svc.DisbandGroup(bg, operator, g.ChatID), ding.Conflict, ding.ReasonChatDisbanded, "admin disbands a disbanded group")
}

func TestDisbandByAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	e.clock.Advance(time.Second)

	s := e.snapshot(g.ChatID)
	e.refused(s, e.svc.DisbandGroup(bg, service.AdminActor(dingtest.OtherCorpID), g.ChatID), ding.NotFound, ding.ReasonChatNotFound, "admin names the wrong corp")
	e.refused(s, e.svc.DisbandGroup(bg, service.AdminActor("dingnosuchcorp"), g.ChatID), ding.NotFound, ding.ReasonChatNotFound, "admin names an unknown corp")
	e.refused(s, e.svc.DisbandGroup(bg, operator, ""), ding.Invalid, ding.ReasonChatIDMissing, "admin names no group")

	if err := e.svc.DisbandGroup(bg, operator, g.ChatID); err != nil {
		t.Fatalf("DisbandGroup(admin): %v", err)
	}
	stored := e.stored(g.ChatID)
	if stored.Status != ding.StatusDisbanded {
		t.Fatalf("Status = %d, want %d", stored.Status, ding.StatusDisbanded)
	}
	evs := e.events()
	// the operator of an admin's disband is the owner, as for app API changes
	wantEvent(t, evs[len(evs)-1], ding.EventChatDisband, stored, e.nowMs(), map[string]any{"operator": "manager4220"})
}

// TestDisbandedGroupRefusesEverything: after a disband every change, by an
// app, a member or a join link, is refused and changes nothing.
func TestDisbandedGroupRefusesEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.create(c, service.CreateGroupInput{Name: "待解散", Owner: "manager4220", UserIDs: []string{"manager4220", "zhangsan", "lisi"},
		Options: service.OptionsPatch{ValidationType: ptr(1)}})
	e.setSubAdmins(c, g.ChatID, []string{"zhangsan"}, ding.RoleAdmin)
	link, err := e.svc.JoinLink(bg, c, g.ChatID, "zhangsan", "http://dingchat.test")
	if err != nil {
		t.Fatalf("JoinLink: %v", err)
	}
	code := joinCode(t, link)
	if got, _, err := e.svc.Join(bg, memberCaller("wangwu"), code); err != nil || got != service.JoinRequested {
		t.Fatalf("Join(wangwu) = %q, %v; want a request", got, err)
	}
	if err := e.svc.DisbandGroup(bg, actorOf("manager4220"), g.ChatID); err != nil {
		t.Fatalf("DisbandGroup: %v", err)
	}
	e.clock.Advance(time.Second)
	s := e.snapshot(g.ChatID)
	text := []byte(`{"msgtype":"text","text":{"content":"还在吗"}}`)

	for _, tc := range []struct {
		what string
		call func() error
	}{
		{"rename", func() error {
			_, err := e.svc.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr("新名")})
			return err
		}},
		{"add a member", func() error {
			_, err := e.svc.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: []string{"wangwu"}})
			return err
		}},
		{"subadmin", func() error {
			return e.svc.SetSubAdmins(bg, c, service.GroupRef{ChatID: g.ChatID}, []string{"lisi"}, ding.RoleAdmin)
		}},
		{"friend switch", func() error { return e.svc.SetFriendSwitch(bg, c, g.ChatID, ptr(true)) }},
		{"nick", func() error { return e.svc.SetGroupNick(bg, c, g.ChatID, "lisi", "小李") }},
		{"join link", func() error {
			_, err := e.svc.JoinLink(bg, c, g.ChatID, "zhangsan", "http://dingchat.test")
			return err
		}},
		{"join through an old link", func() error { _, _, err := e.svc.Join(bg, memberCaller(dingtest.UserID(1)), code); return err }},
		{"approve a pending request", func() error { return e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, "wangwu", true) }},
		{"quit", func() error { return e.svc.QuitGroup(bg, memberCaller("lisi"), g.ChatID) }},
		{"member send", func() error { _, err := e.svc.MemberSend(bg, memberCaller("lisi"), g.ChatID, text); return err }},
		{"chat/send", func() error {
			_, err := e.svc.SendMessage(bg, c, service.SendInput{ChatID: g.ChatID, Body: text})
			return err
		}},
		{"disband again", func() error { return e.svc.DisbandGroup(bg, actorOf("manager4220"), g.ChatID) }},
	} {
		e.refused(s, tc.call(), ding.Conflict, ding.ReasonChatDisbanded, tc.what)
	}
	// a refused approval leaves the request pending
	rs, err := e.svc.JoinRequests(bg, memberCaller("manager4220"), g.ChatID)
	if err != nil || len(rs) != 1 || rs[0].UserID != "wangwu" {
		t.Fatalf("JoinRequests after a refused approval = %+v, %v; want wangwu's request", rs, err)
	}
	info, err := e.svc.JoinLinkInfo(bg, code)
	if err != nil || !info.Disbanded {
		t.Fatalf("JoinLinkInfo = %+v, %v; want Disbanded", info, err)
	}
	if ms, _, err := e.svc.MemberMessages(bg, memberCaller("lisi"), g.ChatID, ding.MessageQuery{}); err != nil || len(ms) != 0 {
		t.Fatalf("MemberMessages = %d messages, %v; want none", len(ms), err)
	}
}

func TestQuitGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	e.setSubAdmins(c, g.ChatID, []string{"zhangsan"}, ding.RoleAdmin)
	e.clock.Advance(time.Second)

	s := e.snapshot(g.ChatID)
	e.refused(s, e.svc.QuitGroup(bg, memberCaller("manager4220"), g.ChatID), ding.Conflict, ding.ReasonOwnerMustTransfer, "the owner quits")
	e.refused(s, e.svc.QuitGroup(bg, memberCaller("wangwu"), g.ChatID), ding.NotFound, ding.ReasonChatNotFound, "a stranger quits")
	e.refused(s, e.svc.QuitGroup(bg, &service.MemberCaller{CorpID: dingtest.OtherCorpID, UserID: "zhangsan"}, g.ChatID),
		ding.NotFound, ding.ReasonChatNotFound, "the same userid in another corp")
	e.refused(s, e.svc.QuitGroup(bg, memberCaller("zhangsan"), ""), ding.Invalid, ding.ReasonChatIDMissing, "no chatid")

	// an admin quits: gone from the members, the count and the roles
	if err := e.svc.QuitGroup(bg, memberCaller("zhangsan"), g.ChatID); err != nil {
		t.Fatalf("QuitGroup(zhangsan): %v", err)
	}
	stored := e.stored(g.ChatID)
	if got, want := ids(e.members(g.ChatID)), "[manager4220 lisi]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
	if got, want := stored.MemberCount, 2; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	if got, want := stored.UpdatedAt, e.nowMs(); got != want {
		t.Fatalf("UpdatedAt = %d, want %d", got, want)
	}
	evs := e.events()
	if got, want := len(evs), s.events+1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	last := evs[len(evs)-1]
	if last.Operator != "zhangsan" {
		t.Fatalf("chat_quit operator = %q, want the member who left", last.Operator)
	}
	stored.Owner = "zhangsan" // wantEvent compares the operator with the owner
	wantEvent(t, last, ding.EventChatQuit, stored, e.nowMs(), map[string]any{"userId": []string{"zhangsan"}, "operator": "zhangsan"})
	if gs, err := e.svc.MemberGroups(bg, memberCaller("zhangsan")); err != nil || len(gs) != 0 {
		t.Fatalf("MemberGroups(zhangsan) = %d groups, %v; want none", len(gs), err)
	}

	// gone means gone: quitting again, reading or sending is refused
	e.clock.Advance(time.Second)
	s = e.snapshot(g.ChatID)
	e.refused(s, e.svc.QuitGroup(bg, memberCaller("zhangsan"), g.ChatID), ding.NotFound, ding.ReasonChatNotFound, "quit twice")
	_, err := e.svc.MemberSend(bg, memberCaller("zhangsan"), g.ChatID, []byte(`{"msgtype":"text","text":{"content":"我回来了"}}`))
	e.refused(s, err, ding.NotFound, ding.ReasonChatNotFound, "send after quitting")
}

func TestFriendSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan")
	e.clock.Advance(time.Second)
	if e.stored(g.ChatID).FriendForbidden {
		t.Fatalf("a new group forbids private chats")
	}

	if err := e.svc.SetFriendSwitch(bg, c, g.ChatID, ptr(true)); err != nil {
		t.Fatalf("SetFriendSwitch(true): %v", err)
	}
	stored := e.stored(g.ChatID)
	if !stored.FriendForbidden || stored.UpdatedAt != e.nowMs() {
		t.Fatalf("group = %+v, want FriendForbidden and UpdatedAt %d", stored, e.nowMs())
	}
	evs := e.events()
	wantEvent(t, evs[len(evs)-1], ding.EventChatUpdateSettings, stored, e.nowMs(), map[string]any{"addFriendForbidden": true})

	// the same value again changes nothing, not even the update time
	e.clock.Advance(time.Second)
	s := e.snapshot(g.ChatID)
	if err := e.svc.SetFriendSwitch(bg, c, g.ChatID, ptr(true)); err != nil {
		t.Fatalf("SetFriendSwitch(true) again: %v", err)
	}
	e.unchanged(s, "the same value again")

	e.refused(s, e.svc.SetFriendSwitch(bg, c, g.ChatID, nil), ding.Invalid, ding.ReasonMissingParam, "is_prohibit missing")
	e.refused(s, e.svc.SetFriendSwitch(bg, c, "", ptr(false)), ding.Invalid, ding.ReasonChatIDMissing, "chatid missing")
	e.refused(s, e.svc.SetFriendSwitch(bg, c, "chat0123456789abcdef0123456789abcdef", ptr(false)), ding.NotFound, ding.ReasonChatNotFound, "unknown chatid")
	e.refused(s, e.svc.SetFriendSwitch(bg, e.otherApp(), g.ChatID, ptr(false)), ding.NotFound, ding.ReasonChatNotFound, "another corp's app")
	err := e.svc.SetFriendSwitch(bg, e.readOnlyApp(), g.ChatID, ptr(false))
	e.refused(s, err, ding.Forbidden, ding.ReasonPermissionDenied, "read-only app")
	if got := ding.ErrorScopes(err); len(got) != 1 || got[0] != ding.ScopeChatManage {
		t.Fatalf("RequiredScopes = %v, want [%s]", got, ding.ScopeChatManage)
	}

	if err := e.svc.SetFriendSwitch(bg, c, g.ChatID, ptr(false)); err != nil {
		t.Fatalf("SetFriendSwitch(false): %v", err)
	}
	if e.stored(g.ChatID).FriendForbidden {
		t.Fatalf("FriendForbidden still set")
	}
}

func TestGroupNick(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	e.clock.Advance(time.Second)
	nick := func(userID string) string {
		for _, m := range e.members(g.ChatID) {
			if m.ID == userID {
				return m.Nick
			}
		}
		t.Fatalf("%s is not a member", userID)
		return ""
	}

	longest := cjk(service.MaxNickChars)
	if err := e.svc.SetGroupNick(bg, c, g.ChatID, "zhangsan", longest); err != nil {
		t.Fatalf("SetGroupNick(%d chars): %v", service.MaxNickChars, err)
	}
	if got := nick("zhangsan"); got != longest {
		t.Fatalf("nick = %q, want %q", got, longest)
	}
	stored := e.stored(g.ChatID)
	evs := e.events()
	wantEvent(t, evs[len(evs)-1], ding.EventChatUpdateNick, stored, e.nowMs(), map[string]any{"userId": "zhangsan", "groupNick": longest})
	if nick("lisi") != "" || nick("manager4220") != "" {
		t.Fatalf("other members' nicks changed")
	}

	e.clock.Advance(time.Second)
	s := e.snapshot(g.ChatID)
	if err := e.svc.SetGroupNick(bg, c, g.ChatID, "zhangsan", longest); err != nil {
		t.Fatalf("SetGroupNick(same nick): %v", err)
	}
	e.unchanged(s, "the same nick again")
	e.refused(s, e.svc.SetGroupNick(bg, c, g.ChatID, "zhangsan", cjk(service.MaxNickChars+1)), ding.Invalid, ding.ReasonInvalidParam, "one character too long")
	e.refused(s, e.svc.SetGroupNick(bg, c, g.ChatID, "wangwu", "王"), ding.Invalid, ding.ReasonNotMember, "a staff member outside the group")
	e.refused(s, e.svc.SetGroupNick(bg, c, g.ChatID, "ghost", "鬼"), ding.Invalid, ding.ReasonUnknownUser, "an unknown user")
	e.refused(s, e.svc.SetGroupNick(bg, c, g.ChatID, "zhaoliu", "赵"), ding.Invalid, ding.ReasonUnknownUser, "a user of another corp")
	e.refused(s, e.svc.SetGroupNick(bg, c, g.ChatID, "", "空"), ding.Invalid, ding.ReasonUnknownUser, "no userid")
	e.refused(s, e.svc.SetGroupNick(bg, c, "", "lisi", "李"), ding.Invalid, ding.ReasonChatIDMissing, "no chatid")
	e.refused(s, e.svc.SetGroupNick(bg, c, "chat0123456789abcdef0123456789abcdef", "lisi", "李"), ding.NotFound, ding.ReasonChatNotFound, "unknown chatid")
	e.refused(s, e.svc.SetGroupNick(bg, e.otherApp(), g.ChatID, "manager4220", "他"), ding.NotFound, ding.ReasonChatNotFound, "another corp's app")
	e.refused(s, e.svc.SetGroupNick(bg, e.readOnlyApp(), g.ChatID, "lisi", "李"), ding.Forbidden, ding.ReasonPermissionDenied, "read-only app")

	// 30 emoji are 30 characters
	if err := e.svc.SetGroupNick(bg, c, g.ChatID, "lisi", emoji(service.MaxNickChars)); err != nil {
		t.Fatalf("SetGroupNick(%d emoji): %v", service.MaxNickChars, err)
	}
	// "" clears the nick
	if err := e.svc.SetGroupNick(bg, c, g.ChatID, "zhangsan", ""); err != nil {
		t.Fatalf("SetGroupNick(clear): %v", err)
	}
	if got := nick("zhangsan"); got != "" {
		t.Fatalf("nick = %q after clearing", got)
	}
	// roles survive a nick change
	if got := e.roles(g.ChatID)["manager4220"]; got != ding.RoleOwner {
		t.Fatalf("owner role = %d", got)
	}
}

func emoji(n int) string { return strings.Repeat("🎉", n) }

// An actor with neither a user id nor the admin mark is nobody: it must not
// act as the operator.
func TestActorMustBeExplicit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan", "lisi")
	s := e.snapshot(g.ChatID)
	e.refused(s, e.svc.DisbandGroup(bg, service.Actor{CorpID: dingtest.CorpID}, g.ChatID), ding.Forbidden, ding.ReasonPermissionDenied, "no user id and no admin mark")
	e.refused(s, e.svc.DisbandGroup(bg, service.Actor{CorpID: dingtest.CorpID, UserID: "manager4220", Admin: true}, g.ChatID), ding.Forbidden, ding.ReasonPermissionDenied, "both a user id and the admin mark")
}
