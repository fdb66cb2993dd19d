package service_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// refuseUpdate runs an update that must fail and must change nothing.
func (e *env) refuseUpdate(c *service.Caller, in service.UpdateGroupInput, kind ding.Kind, reason ding.Reason, what string) {
	e.t.Helper()
	s := e.snapshot(in.ChatID)
	g, err := e.svc.UpdateGroup(bg, c, in)
	wantErr(e.t, err, kind, reason, "UpdateGroup("+what+")")
	if g != nil {
		e.t.Fatalf("UpdateGroup(%s) = %+v with an error", what, g)
	}
	e.unchanged(s, what)
}

// fill adds userIDs(from, to) to the group in calls of 40.
func (e *env) fill(c *service.Caller, chatID string, from, to int) {
	e.t.Helper()
	for i := from; i <= to; i += ding.MaxIDsPerCall {
		e.update(c, service.UpdateGroupInput{ChatID: chatID, AddUserIDs: userIDs(i, min(i+ding.MaxIDsPerCall-1, to))})
	}
}

func TestUpdateGroupIDLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan")
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1, 41)}, ding.Invalid, ding.ReasonTooManyIDs, "add 41")
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1, 40)})
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(41, 80)})
	if got, want := e.stored(g.ChatID).MemberCount, 82; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: userIDs(1, 41)}, ding.Invalid, ding.ReasonTooManyIDs, "del 41")
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: userIDs(1, 40)})
	if got, want := e.stored(g.ChatID).MemberCount, 42; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddExtIDs: extIDs(1, 41)}, ding.Invalid, ding.ReasonTooManyExtIDs, "add 41 externals")
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, DelExtIDs: extIDs(1, 41)}, ding.Invalid, ding.ReasonTooManyExtIDs, "del 41 externals")
}

func TestUpdateGroupRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	id := g.ChatID
	for _, tc := range []struct {
		what   string
		in     service.UpdateGroupInput
		kind   ding.Kind
		reason ding.Reason
	}{
		{"add/del overlap", service.UpdateGroupInput{ChatID: id, AddUserIDs: []string{"wangwu", "zhangsan"}, DelUserIDs: []string{"zhangsan"}}, ding.Invalid, ding.ReasonAddDelOverlap},
		{"ext add/del overlap", service.UpdateGroupInput{ChatID: id, AddExtIDs: extIDs(1, 2), DelExtIDs: extIDs(2, 3)}, ding.Invalid, ding.ReasonExtAddDelOverlap},
		{"externals into an internal group", service.UpdateGroupInput{ChatID: id, AddExtIDs: extIDs(1, 1)}, ding.Invalid, ding.ReasonExternalNotAllowed},
		{"external owner type on an internal group", service.UpdateGroupInput{ChatID: id, OwnerType: ptr(ding.OwnerExt), Owner: ptr(dingtest.ExtID(1))}, ding.Invalid, ding.ReasonExternalNotAllowed},
		{"unknown userid added", service.UpdateGroupInput{ChatID: id, AddUserIDs: []string{"wangwu", "ghost"}}, ding.Invalid, ding.ReasonUnknownUser},
		{"other corp's userid added", service.UpdateGroupInput{ChatID: id, AddUserIDs: []string{"zhaoliu"}}, ding.Invalid, ding.ReasonUnknownUser},
		{"unknown userid deleted", service.UpdateGroupInput{ChatID: id, DelUserIDs: []string{"ghost"}}, ding.Invalid, ding.ReasonUnknownUser},
		{"unknown external", service.UpdateGroupInput{ChatID: id, AddExtIDs: []string{"ext999"}}, ding.Invalid, ding.ReasonUnknownExternal},
		{"empty name", service.UpdateGroupInput{ChatID: id, Name: ptr("")}, ding.Invalid, ding.ReasonNameEmpty},
		{"21-character name", service.UpdateGroupInput{ChatID: id, Name: ptr(cjk(21))}, ding.Invalid, ding.ReasonNameLength},
		{"empty owner", service.UpdateGroupInput{ChatID: id, Owner: ptr("")}, ding.Invalid, ding.ReasonOwnerMissing},
		{"owner type", service.UpdateGroupInput{ChatID: id, OwnerType: ptr("boss")}, ding.Invalid, ding.ReasonOwnerType},
		{"owner not a member", service.UpdateGroupInput{ChatID: id, Owner: ptr("wangwu")}, ding.Invalid, ding.ReasonOwnerNotMember},
		{"owner deleted", service.UpdateGroupInput{ChatID: id, DelUserIDs: []string{"manager4220"}}, ding.Invalid, ding.ReasonOwnerNotMember},
		{"owner deleted with others", service.UpdateGroupInput{ChatID: id, DelUserIDs: []string{"lisi", "manager4220"}, Name: ptr("改名")}, ding.Invalid, ding.ReasonOwnerNotMember},
		{"option 2", service.UpdateGroupInput{ChatID: id, Options: service.OptionsPatch{ChatBannedType: ptr(2)}}, ding.Invalid, ding.ReasonOptionValue},
		{"option -1", service.UpdateGroupInput{ChatID: id, Options: service.OptionsPatch{Searchable: ptr(-1)}}, ding.Invalid, ding.ReasonOptionValue},
	} {
		e.refuseUpdate(c, tc.in, tc.kind, tc.reason, tc.what)
	}
}

func TestUpdateGroupExternals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.ordinaryApp()
	g := e.create(c, service.CreateGroupInput{Name: "客户群", Owner: "manager4220", ConversationTag: ptr(ding.TagOrdinary),
		UserIDs: []string{"manager4220", "zhangsan"}, ExtIDs: extIDs(1, 2)})
	e.clock.Advance(time.Second)
	before := len(e.events())
	ng := e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddExtIDs: extIDs(3, 4), DelExtIDs: extIDs(1, 1), DelUserIDs: []string{"zhangsan"}})
	if got, want := ng.MemberCount, 4; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	if got, want := ids(e.members(g.ChatID)), "[manager4220 ext002 ext003 ext004]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
	evs := e.events()[before:]
	if got, want := len(evs), 2; got != want {
		t.Fatalf("len(new events) = %d, want %d", got, want)
	}
	wantEvent(t, evs[0], ding.EventChatRemoveMember, *ng, e.nowMs(), map[string]any{"userId": []string{"zhangsan"}, "unionId": extIDs(1, 1)})
	wantEvent(t, evs[1], ding.EventChatAddMember, *ng, e.nowMs(), map[string]any{"userId": []string{}, "unionId": extIDs(3, 4)})

	// an external contact takes the group over; the staff owner stays a member
	ng = e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr(dingtest.ExtID(3)), OwnerType: ptr(ding.OwnerExt)})
	if ng.Owner != dingtest.ExtID(3) || ng.OwnerType != ding.OwnerExt {
		t.Fatalf("owner = %s/%s, want %s/ext", ng.Owner, ng.OwnerType, dingtest.ExtID(3))
	}
	if got, want := e.roles(g.ChatID), map[string]int{"manager4220": 3, "ext002": 3, "ext003": 1, "ext004": 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	// and cannot be deleted without handing over first
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, DelExtIDs: extIDs(3, 3)}, ding.Invalid, ding.ReasonOwnerNotMember, "delete external owner")
}

// TestMemberCap fills a group to exactly 1000 through calls of 40, then
// tries to go past it.
func TestMemberCap(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	c := e.app()
	g := e.create(c, service.CreateGroupInput{Name: "千人群", Owner: "manager4220", UserIDs: append([]string{"manager4220"}, userIDs(1, 39)...)})
	e.fill(c, g.ChatID, 40, 999) // 24 calls of 40
	if got, want := e.stored(g.ChatID).MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	if got, want := len(e.members(g.ChatID)), ding.MaxMembers; got != want {
		t.Fatalf("len(Members) = %d, want %d", got, want)
	}
	e.clock.Advance(time.Minute)
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1000, 1000)}, ding.Invalid, ding.ReasonMemberLimit, "member 1001")
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1000, 1000), Name: ptr("改名")}, ding.Invalid, ding.ReasonMemberLimit, "member 1001 with a rename")

	// at the cap: re-adding a member changes nothing, a swap keeps 1000
	before := len(e.events())
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: []string{"manager4220", dingtest.UserID(5)}})
	if got, want := len(e.events()), before; got != want {
		t.Fatalf("re-adding members wrote %d events", got-want)
	}
	ng := e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1000, 1000), DelUserIDs: userIDs(1, 1)})
	if got, want := ng.MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount after swap = %d, want %d", got, want)
	}

	// a call that would end past the cap adds none of its ids
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: userIDs(2, 21)})
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1001, 1040)}, ding.Invalid, ding.ReasonMemberLimit, "40 into 20 free places")
	ng = e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(1001, 1020)})
	if got, want := ng.MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
}

// TestMemberCapCountsExternals: external contacts take places too.
func TestMemberCapCountsExternals(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	c := e.ordinaryApp()
	g := e.create(c, service.CreateGroupInput{Name: "客户大群", Owner: "manager4220", ConversationTag: ptr(ding.TagOrdinary),
		UserIDs: append([]string{"manager4220"}, userIDs(1, 39)...), ExtIDs: extIDs(1, 30)})
	e.fill(c, g.ChatID, 40, 969) // 70 + 930 = 1000
	if got, want := e.stored(g.ChatID).MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, AddExtIDs: extIDs(31, 31)}, ding.Invalid, ding.ReasonMemberLimit, "external 1001")
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddExtIDs: extIDs(31, 31), DelExtIDs: extIDs(1, 1)})
}

func TestOwnerTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	e.clock.Advance(time.Second)
	before := len(e.events())

	ng := e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("zhangsan")})
	if got, want := ng.Owner, "zhangsan"; got != want {
		t.Fatalf("Owner = %q, want %q", got, want)
	}
	if got, want := e.stored(g.ChatID).Owner, "zhangsan"; got != want {
		t.Fatalf("stored Owner = %q, want %q", got, want)
	}
	if got, want := e.roles(g.ChatID), map[string]int{"manager4220": ding.RoleMember, "zhangsan": ding.RoleOwner, "lisi": ding.RoleMember}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	evs := e.events()[before:]
	if got, want := len(evs), 1; got != want {
		t.Fatalf("len(new events) = %d, want %d", got, want)
	}
	wantEvent(t, evs[0], ding.EventChatUpdateOwner, *ng, e.nowMs(), map[string]any{"owner": "zhangsan", "oldOwner": "manager4220"})

	// the new owner cannot be deleted; the old one now can
	e.refuseUpdate(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: []string{"zhangsan"}}, ding.Invalid, ding.ReasonOwnerNotMember, "delete new owner")
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: []string{"manager4220"}})

	// hand over to someone joining in the same call
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("wangwu"), AddUserIDs: []string{"wangwu"}})
	if got, want := e.roles(g.ChatID), map[string]int{"zhangsan": ding.RoleMember, "lisi": ding.RoleMember, "wangwu": ding.RoleOwner}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	// hand over and remove the previous owner in the same call
	ng = e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("lisi"), DelUserIDs: []string{"wangwu"}})
	if got, want := e.roles(g.ChatID), map[string]int{"zhangsan": ding.RoleMember, "lisi": ding.RoleOwner}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	if got, want := ng.MemberCount, 2; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	// naming the current owner again is not a transfer
	before = len(e.events())
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("lisi")})
	if got, want := len(e.events()), before; got != want {
		t.Fatalf("a same-owner update wrote %d events", got-want)
	}
	if got, want := e.roles(g.ChatID)["lisi"], ding.RoleOwner; got != want {
		t.Fatalf("lisi role = %d, want %d", got, want)
	}
}

func TestUpdateGroupNoOps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan")
	s := e.snapshot(g.ChatID)
	e.clock.Advance(time.Second)
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: []string{"lisi", "wangwu"}}) // not members
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: []string{"zhangsan"}})       // already one
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr(g.Name)})                      // same name
	if got, want := e.members(g.ChatID), s.members; !reflect.DeepEqual(got, want) {
		t.Fatalf("members = %s, want %s", ids(got), ids(want))
	}
	if got, want := len(e.events()), s.events; got != want {
		t.Fatalf("no-op updates wrote %d events", got-want)
	}
}

func TestUpdateGroupEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	e.clock.Advance(90 * time.Second)
	before := e.events()

	ng := e.update(c, service.UpdateGroupInput{
		ChatID: g.ChatID, Name: ptr("新名字🎈"), Icon: ptr("@newicon"),
		AddUserIDs: []string{"wangwu", dingtest.UserID(1)}, DelUserIDs: []string{"lisi"},
		Options: service.OptionsPatch{ChatBannedType: ptr(1), ManagementType: ptr(1)},
	})
	now := e.nowMs()
	want := *g
	want.Name, want.Icon, want.UpdatedAt, want.MemberCount = "新名字🎈", "@newicon", now, 4
	want.Options.ChatBannedType, want.Options.ManagementType = 1, 1
	if *ng != want {
		t.Fatalf("UpdateGroup = %+v, want %+v", *ng, want)
	}
	if got := e.stored(g.ChatID); got != want {
		t.Fatalf("stored = %+v, want %+v", got, want)
	}
	if got, want := ids(e.members(g.ChatID)), "[manager4220 zhangsan wangwu user0001]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}

	all := e.events()
	evs := all[len(before):]
	for i, ev := range all {
		if got, want := ev.Seq, int64(i+1); got != want {
			t.Fatalf("event %d Seq = %d, want %d", i, got, want)
		}
	}
	if got, want := len(evs), 4; got != want {
		t.Fatalf("len(new events) = %d, want %d", got, want)
	}
	wantEvent(t, evs[0], ding.EventChatRemoveMember, want, now, map[string]any{"userId": []string{"lisi"}, "unionId": []string{}})
	wantEvent(t, evs[1], ding.EventChatAddMember, want, now, map[string]any{"userId": []string{"wangwu", "user0001"}, "unionId": []string{}})
	wantEvent(t, evs[2], ding.EventChatUpdateTitle, want, now, map[string]any{"title": "新名字🎈", "oldTitle": g.Name})
	wantEvent(t, evs[3], ding.EventChatUpdateSettings, want, now, map[string]any{"icon": "@newicon"})

	// options alone: one settings event; unspecified options stay
	e.clock.Advance(time.Second)
	ng = e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Options: service.OptionsPatch{Searchable: ptr(1)}})
	if got, want := ng.Options, (ding.Options{Searchable: 1, ChatBannedType: 1, ManagementType: 1}); got != want {
		t.Fatalf("Options = %+v, want %+v", got, want)
	}
	evs = e.events()[len(all):]
	if got, want := len(evs), 1; got != want {
		t.Fatalf("len(new events) = %d, want %d", got, want)
	}
	wantEvent(t, evs[0], ding.EventChatUpdateSettings, *ng, e.nowMs(), nil)
}
