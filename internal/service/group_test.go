package service_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// base is a valid create input; tests change one thing and expect one error.
func base() service.CreateGroupInput {
	return service.CreateGroupInput{Name: "测试群", Owner: "manager4220", UserIDs: []string{"manager4220", "zhangsan", "lisi"}}
}

// createCase is one create call that must fail with kind and reason.
type createCase struct {
	name   string
	mod    func(in *service.CreateGroupInput)
	kind   ding.Kind
	reason ding.Reason
}

// refuseCreates runs each case as c and checks nothing was stored.
func refuseCreates(t *testing.T, e *env, c *service.Caller, cases []createCase) {
	t.Helper()
	before := len(e.events())
	for _, tc := range cases {
		in := base()
		tc.mod(&in)
		g, err := e.svc.CreateGroup(bg, c, in)
		wantErr(t, err, tc.kind, tc.reason, "CreateGroup("+tc.name+")")
		if g != nil {
			t.Fatalf("CreateGroup(%s) = %+v with an error", tc.name, g)
		}
	}
	if got, want := len(e.events()), before; got != want {
		t.Fatalf("refused creates wrote %d events", got-want)
	}
}

func TestCreateGroupName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	for _, tc := range []struct {
		name   string
		reason ding.Reason // ReasonNone: accepted
	}{
		{"", ding.ReasonNameEmpty},
		{"群", ding.ReasonNone},
		{cjk(20), ding.ReasonNone},
		{cjk(21), ding.ReasonNameLength},
		{strings.Repeat("a", 20), ding.ReasonNone},
		{strings.Repeat("a", 21), ding.ReasonNameLength},
		{"项目群🎉" + cjk(16), ding.ReasonNone}, // 20 characters, many more bytes
		{"项目群🎉" + cjk(17), ding.ReasonNameLength},
	} {
		in := base()
		in.Name = tc.name
		g, err := e.svc.CreateGroup(bg, c, in)
		if tc.reason != ding.ReasonNone {
			wantErr(t, err, ding.Invalid, tc.reason, "CreateGroup(name "+tc.name+")")
			continue
		}
		if err != nil {
			t.Fatalf("CreateGroup(name %q): %v", tc.name, err)
		}
		v, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: g.ChatID})
		if err != nil {
			t.Fatalf("GetGroup: %v", err)
		}
		if got, want := v.Group.Name, tc.name; got != want {
			t.Fatalf("stored name = %q, want %q", got, want)
		}
	}
}

func TestCreateGroupRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refuseCreates(t, e, e.app(), []createCase{
		{"owner missing", func(in *service.CreateGroupInput) { in.Owner = "" }, ding.Invalid, ding.ReasonOwnerMissing},
		{"owner not in useridlist", func(in *service.CreateGroupInput) { in.Owner = "wangwu" }, ding.Invalid, ding.ReasonOwnerNotMember},
		{"unknown owner in useridlist", func(in *service.CreateGroupInput) {
			in.Owner = "ghost"
			in.UserIDs = append(in.UserIDs, "ghost")
		}, ding.Invalid, ding.ReasonUnknownUser},
		{"unknown userid", func(in *service.CreateGroupInput) { in.UserIDs = append(in.UserIDs, "ghost") }, ding.Invalid, ding.ReasonUnknownUser},
		{"unknown userid and owner not in useridlist", func(in *service.CreateGroupInput) {
			in.Owner = "wangwu"
			in.UserIDs = append(in.UserIDs, "ghost")
		}, ding.Invalid, ding.ReasonUnknownUser},
		{"other corp's userid", func(in *service.CreateGroupInput) { in.UserIDs = append(in.UserIDs, "zhaoliu") }, ding.Invalid, ding.ReasonUnknownUser},
		{"no members", func(in *service.CreateGroupInput) { in.UserIDs = nil }, ding.Invalid, ding.ReasonMembersEmpty},
		{"41 userids", func(in *service.CreateGroupInput) { in.UserIDs = append([]string{"manager4220"}, userIDs(1, 40)...) }, ding.Invalid, ding.ReasonTooManyIDs},
		{"owner type", func(in *service.CreateGroupInput) { in.OwnerType = "boss" }, ding.Invalid, ding.ReasonOwnerType},
		{"conversationTag 5", func(in *service.CreateGroupInput) { in.ConversationTag = ptr(5) }, ding.Invalid, ding.ReasonConversationTag},
		{"conversationTag 1", func(in *service.CreateGroupInput) { in.ConversationTag = ptr(1) }, ding.Invalid, ding.ReasonConversationTag},
		{"conversationTag 0 without allow-list", func(in *service.CreateGroupInput) { in.ConversationTag = ptr(ding.TagOrdinary) }, ding.Forbidden, ding.ReasonOrdinaryNotAllowed},
		{"externals in an internal group", func(in *service.CreateGroupInput) { in.ExtIDs = []string{dingtest.ExtID(1)} }, ding.Invalid, ding.ReasonExternalNotAllowed},
		{"externals in an explicit tag 2 group", func(in *service.CreateGroupInput) {
			in.ConversationTag = ptr(ding.TagInternal)
			in.ExtIDs = []string{dingtest.ExtID(1)}
		}, ding.Invalid, ding.ReasonExternalNotAllowed},
		{"external owner of an internal group", func(in *service.CreateGroupInput) {
			in.OwnerType, in.Owner, in.ExtIDs = ding.OwnerExt, dingtest.ExtID(1), []string{dingtest.ExtID(1)}
		}, ding.Invalid, ding.ReasonExternalNotAllowed},
	})
	for _, field := range []string{"ShowHistoryType", "Searchable", "ValidationType", "MentionAllAuthority", "ManagementType", "ChatBannedType"} {
		for _, v := range []int{2, -1} {
			refuseCreates(t, e, e.app(), []createCase{{field, func(in *service.CreateGroupInput) {
				reflect.ValueOf(&in.Options).Elem().FieldByName(field).Set(reflect.ValueOf(ptr(v)))
			}, ding.Invalid, ding.ReasonOptionValue}})
		}
	}
}

func TestCreateGroupFortyIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := base()
	in.UserIDs = append([]string{"manager4220"}, userIDs(1, 39)...)
	g := e.create(e.app(), in)
	if got, want := g.MemberCount, 40; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	// repeated ids count once
	in = base()
	in.UserIDs = []string{"manager4220", "zhangsan", "zhangsan", "manager4220"}
	g = e.create(e.app(), in)
	if got, want := ids(e.members(g.ChatID)), "[manager4220 zhangsan]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
}

func TestCreateGroupStoresAndRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	in := service.CreateGroupInput{
		Name: "全员群👨‍👩‍👧", Owner: "zhangsan", UserIDs: []string{"manager4220", "zhangsan", "lisi"}, Icon: "@lADPmedia",
		Options: service.OptionsPatch{ShowHistoryType: ptr(1), Searchable: ptr(1), ChatBannedType: ptr(0)},
	}
	g := e.create(c, in)
	now := e.nowMs()
	want := ding.Group{ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, CorpID: dingtest.CorpID,
		Name: in.Name, Owner: "zhangsan", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Icon: "@lADPmedia",
		Options: ding.Options{ShowHistoryType: 1, Searchable: 1}, Status: ding.StatusNormal, CreatorApp: dingtest.AppKey,
		MemberCount: 3, CreatedAt: now, UpdatedAt: now}
	if *g != want {
		t.Fatalf("CreateGroup = %+v, want %+v", *g, want)
	}
	if got := e.stored(g.ChatID); got != want {
		t.Fatalf("stored = %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(g.ChatID, "chat") || len(g.ChatID) != 36 || !strings.HasPrefix(g.OpenConversationID, "cid") {
		t.Fatalf("ids %q %q are not shaped like DingTalk's", g.ChatID, g.OpenConversationID)
	}
	if got, want := e.roles(g.ChatID), map[string]int{"manager4220": ding.RoleMember, "zhangsan": ding.RoleOwner, "lisi": ding.RoleMember}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	v, err := e.svc.GetGroup(bg, c, service.GroupRef{OpenID: g.OpenConversationID})
	if err != nil {
		t.Fatalf("GetGroup(open id): %v", err)
	}
	if got, want := strings.Join(v.UserIDs, ","), "manager4220,zhangsan,lisi"; got != want {
		t.Fatalf("UserIDs = %s, want %s", got, want)
	}
	if len(v.ExtIDs) != 0 || len(v.Admins) != 0 {
		t.Fatalf("ExtIDs = %v, Admins = %v, want none", v.ExtIDs, v.Admins)
	}
	open, err := e.svc.ConvertChatID(bg, c, g.ChatID)
	if err != nil {
		t.Fatalf("ConvertChatID: %v", err)
	}
	if got, want := open, g.OpenConversationID; got != want {
		t.Fatalf("ConvertChatID = %q, want %q", got, want)
	}

	evs := e.events()
	if got, want := len(evs), 2; got != want {
		t.Fatalf("len(events) = %d, want %d", got, want)
	}
	wantEvent(t, evs[0], ding.EventChatCreate, want, now, map[string]any{"title": in.Name, "owner": "zhangsan", "conversationTag": 2})
	wantEvent(t, evs[1], ding.EventChatAddMember, want, now, map[string]any{"userId": in.UserIDs, "unionId": []string{}})
}

func TestCreateOrdinaryGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.ordinaryApp()
	in := service.CreateGroupInput{Name: "客户群", Owner: "manager4220", ConversationTag: ptr(ding.TagOrdinary),
		UserIDs: append([]string{"manager4220"}, userIDs(1, 39)...), ExtIDs: extIDs(1, 40)}
	g := e.create(c, in)
	if got, want := g.ConversationTag, ding.TagOrdinary; got != want {
		t.Fatalf("ConversationTag = %d, want %d", got, want)
	}
	if got, want := g.MemberCount, 80; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	v, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: g.ChatID})
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if got, want := v.ExtIDs, extIDs(1, 40); !reflect.DeepEqual(got, want) {
		t.Fatalf("ExtIDs = %v, want %v", got, want)
	}
	evs := e.events()
	wantEvent(t, evs[len(evs)-1], ding.EventChatAddMember, *g, e.nowMs(), map[string]any{"userId": in.UserIDs, "unionId": in.ExtIDs})

	// an external contact may own an ordinary group
	g = e.create(c, service.CreateGroupInput{Name: "外部群主", Owner: dingtest.ExtID(2), OwnerType: ding.OwnerExt, ConversationTag: ptr(ding.TagOrdinary),
		UserIDs: []string{"zhangsan"}, ExtIDs: []string{dingtest.ExtID(1), dingtest.ExtID(2)}})
	if got, want := g.OwnerType, ding.OwnerExt; got != want {
		t.Fatalf("OwnerType = %q, want %q", got, want)
	}
	var roles []string
	for _, m := range e.members(g.ChatID) {
		roles = append(roles, fmt.Sprintf("%s:%s:%d", m.Kind, m.ID, m.Role))
	}
	if got, want := strings.Join(roles, " "), "emp:zhangsan:3 ext:ext001:3 ext:ext002:1"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}

	tag0 := func(mod func(in *service.CreateGroupInput)) func(in *service.CreateGroupInput) {
		return func(in *service.CreateGroupInput) {
			in.ConversationTag = ptr(ding.TagOrdinary)
			in.ExtIDs = []string{dingtest.ExtID(1), dingtest.ExtID(2)}
			mod(in)
		}
	}
	refuseCreates(t, e, c, []createCase{
		{"ext owner listed as staff", tag0(func(in *service.CreateGroupInput) { in.OwnerType = ding.OwnerExt }), ding.Invalid, ding.ReasonOwnerNotExternal},
		{"emp owner listed as external", tag0(func(in *service.CreateGroupInput) { in.Owner = dingtest.ExtID(1) }), ding.Invalid, ding.ReasonOwnerNotStaff},
		{"explicit emp owner listed as external", tag0(func(in *service.CreateGroupInput) {
			in.Owner, in.OwnerType = dingtest.ExtID(1), ding.OwnerEmp
		}), ding.Invalid, ding.ReasonOwnerNotStaff},
		{"ext owner not listed", tag0(func(in *service.CreateGroupInput) { in.Owner, in.OwnerType = dingtest.ExtID(3), ding.OwnerExt }), ding.Invalid, ding.ReasonOwnerNotMember},
		{"unknown external", tag0(func(in *service.CreateGroupInput) { in.ExtIDs = append(in.ExtIDs, "ext999") }), ding.Invalid, ding.ReasonUnknownExternal},
		{"staff unionId as external", tag0(func(in *service.CreateGroupInput) { in.ExtIDs = append(in.ExtIDs, "union-lisi") }), ding.Invalid, ding.ReasonUnknownExternal},
		{"41 externals", tag0(func(in *service.CreateGroupInput) { in.ExtIDs = extIDs(1, 41) }), ding.Invalid, ding.ReasonTooManyExtIDs},
		{"externals in an internal group", func(in *service.CreateGroupInput) { in.ExtIDs = []string{dingtest.ExtID(1)} }, ding.Invalid, ding.ReasonExternalNotAllowed},
	})
}

func TestOwnerVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	narrow := e.narrowApp()
	refuseCreates(t, e, narrow, []createCase{
		{"owner outside visibility", func(in *service.CreateGroupInput) { in.Owner = "lisi" }, ding.Forbidden, ding.ReasonOwnerNotVisible},
	})
	// members outside the visibility are fine as long as the owner is visible
	g := e.create(narrow, service.CreateGroupInput{Name: "窄可见", Owner: "zhangsan", UserIDs: []string{"zhangsan", "lisi", "wangwu"}})

	s := e.snapshot(g.ChatID)
	_, err := e.svc.UpdateGroup(bg, narrow, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("lisi")})
	wantErr(t, err, ding.Forbidden, ding.ReasonOwnerNotVisible, "UpdateGroup(owner outside visibility)")
	e.unchanged(s, "refused transfer")
	e.update(narrow, service.UpdateGroupInput{ChatID: g.ChatID, Owner: ptr("manager4220"), AddUserIDs: []string{"manager4220"}})

	// a group whose owner the app cannot see cannot be converted by it
	other := e.create(e.app(), service.CreateGroupInput{Name: "李四的群", Owner: "lisi", UserIDs: []string{"lisi"}})
	_, err = e.svc.ConvertChatID(bg, narrow, other.ChatID)
	wantErr(t, err, ding.Forbidden, ding.ReasonOwnerNotVisible, "ConvertChatID(owner outside visibility)")
}

func TestReadOnlyApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ro := e.readOnlyApp()
	refuseCreates(t, e, ro, []createCase{
		{"read-only app", func(*service.CreateGroupInput) {}, ding.Forbidden, ding.ReasonPermissionDenied},
	})
	g := e.group("zhangsan", "lisi")
	s := e.snapshot(g.ChatID)
	_, err := e.svc.UpdateGroup(bg, ro, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr("改名")})
	wantErr(t, err, ding.Forbidden, ding.ReasonPermissionDenied, "UpdateGroup(read-only)")
	err = e.svc.SetSubAdmins(bg, ro, service.GroupRef{ChatID: g.ChatID}, []string{"zhangsan"}, ding.RoleAdmin)
	wantErr(t, err, ding.Forbidden, ding.ReasonPermissionDenied, "SetSubAdmins(read-only)")
	_, err = e.svc.User(bg, ro, "zhangsan")
	wantErr(t, err, ding.Forbidden, ding.ReasonPermissionDenied, "User(read-only)")
	e.unchanged(s, "read-only writes")

	v, err := e.svc.GetGroup(bg, ro, service.GroupRef{ChatID: g.ChatID})
	if err != nil {
		t.Fatalf("GetGroup(read-only): %v", err)
	}
	if got, want := strings.Join(v.UserIDs, ","), "manager4220,zhangsan,lisi"; got != want {
		t.Fatalf("UserIDs = %s, want %s", got, want)
	}
	if _, err := e.svc.ConvertChatID(bg, ro, g.ChatID); err != nil {
		t.Fatalf("ConvertChatID(read-only): %v", err)
	}
}

func TestOtherCorpCannotReachGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan", "lisi")
	s := e.snapshot(g.ChatID)
	other := e.otherApp()

	_, err := e.svc.GetGroup(bg, other, service.GroupRef{ChatID: g.ChatID})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "GetGroup(other corp)")
	_, err = e.svc.GetGroup(bg, other, service.GroupRef{OpenID: g.OpenConversationID})
	wantErr(t, err, ding.NotFound, ding.ReasonOpenConvNotFound, "GetGroup(other corp, open id)")
	_, err = e.svc.ConvertChatID(bg, other, g.ChatID)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "ConvertChatID(other corp)")
	// manager4220 is also a userid of the other corp: the group must still be out of reach
	_, err = e.svc.UpdateGroup(bg, other, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr("他司改名"), DelUserIDs: []string{"manager4220"}})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "UpdateGroup(other corp)")
	_, err = e.svc.UpdateGroup(bg, other, service.UpdateGroupInput{ChatID: g.ChatID, Name: ptr("他司改名")})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "UpdateGroup(other corp, name only)")
	err = e.svc.SetSubAdmins(bg, other, service.GroupRef{ChatID: g.ChatID}, []string{"manager4220"}, ding.RoleAdmin)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "SetSubAdmins(other corp)")
	e.unchanged(s, "other corp's calls")

	c := e.app()
	_, err = e.svc.GetGroup(bg, c, service.GroupRef{ChatID: "chat00000000000000000000000000ffff"})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "GetGroup(unknown chatid)")
	_, err = e.svc.GetGroup(bg, c, service.GroupRef{})
	wantErr(t, err, ding.Invalid, ding.ReasonChatIDMissing, "GetGroup(no id)")
	_, err = e.svc.UpdateGroup(bg, c, service.UpdateGroupInput{Name: ptr("x")})
	wantErr(t, err, ding.Invalid, ding.ReasonChatIDMissing, "UpdateGroup(no chatid)")
	_, err = e.svc.UpdateGroup(bg, c, service.UpdateGroupInput{ChatID: "chatnosuch", Name: ptr("x")})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "UpdateGroup(unknown chatid)")
}

func TestUserLookups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	u, err := e.svc.User(bg, c, "zhangsan")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if got, want := u.Name, "张三"; got != want {
		t.Fatalf("Name = %q, want %q", got, want)
	}
	u, err = e.svc.UserByMobile(bg, c, "13800000002")
	if err != nil {
		t.Fatalf("UserByMobile: %v", err)
	}
	if got, want := u.UserID, "lisi"; got != want {
		t.Fatalf("UserByMobile = %q, want %q", got, want)
	}
	ct, err := e.svc.ContactByUnionID(bg, c, "union-wangwu")
	if err != nil {
		t.Fatalf("ContactByUnionID(staff): %v", err)
	}
	if got, want := *ct, (service.Contact{UserID: "wangwu"}); got != want {
		t.Fatalf("ContactByUnionID(staff) = %+v, want %+v", got, want)
	}
	ct, err = e.svc.ContactByUnionID(bg, c, dingtest.ExtID(7))
	if err != nil {
		t.Fatalf("ContactByUnionID(external): %v", err)
	}
	if got, want := *ct, (service.Contact{UserID: dingtest.ExtID(7), External: true}); got != want {
		t.Fatalf("ContactByUnionID(external) = %+v, want %+v", got, want)
	}

	_, err = e.svc.User(bg, c, "zhaoliu") // a user of the other corp
	wantErr(t, err, ding.NotFound, ding.ReasonUserNotFound, "User(other corp)")
	_, err = e.svc.User(bg, c, "")
	wantErr(t, err, ding.Invalid, ding.ReasonMissingParam, "User(empty)")
	_, err = e.svc.UserByMobile(bg, c, "13900000000") // the other corp manager's mobile
	wantErr(t, err, ding.NotFound, ding.ReasonMobileNotFound, "UserByMobile(other corp)")
	_, err = e.svc.ContactByUnionID(bg, c, "union-zhaoliu")
	wantErr(t, err, ding.NotFound, ding.ReasonUserNotFound, "ContactByUnionID(other corp)")
}

// Contact lookups respect the app's visibility, as group creation does.
func TestContactLookupsRespectVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	narrow := e.narrowApp()
	if u, err := e.svc.User(bg, narrow, "zhangsan"); err != nil || u.UserID != "zhangsan" {
		t.Fatalf("User(visible) = %v, %v", u, err)
	}
	lisi, err := e.svc.User(bg, e.app(), "lisi")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.User(bg, narrow, "lisi")
	wantErr(t, err, ding.Forbidden, ding.ReasonUserNotVisible, "userid outside visibility")
	if lisi.Mobile != "" {
		_, err = e.svc.UserByMobile(bg, narrow, lisi.Mobile)
		wantErr(t, err, ding.Forbidden, ding.ReasonUserNotVisible, "mobile outside visibility")
	}
	_, err = e.svc.ContactByUnionID(bg, narrow, lisi.UnionID)
	wantErr(t, err, ding.Forbidden, ding.ReasonUserNotVisible, "unionid outside visibility")
	// an unknown user is still unknown, not invisible
	_, err = e.svc.User(bg, narrow, "nosuchuser")
	wantErr(t, err, ding.NotFound, ding.ReasonUserNotFound, "unknown user")
}
