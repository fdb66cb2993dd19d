package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// testGroup is a group with every field set to something a store could lose.
func testGroup(corpID, chatID, openID, name string) *ding.Group {
	return &ding.Group{
		ChatID: chatID, OpenConversationID: openID, CorpID: corpID,
		Name: name, Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagOrdinary,
		Icon:    "@lADPDfJ6Q7LLejDNAljNAlg",
		Options: ding.Options{ShowHistoryType: 1, Searchable: 1, ValidationType: 1, MentionAllAuthority: 1, ManagementType: 1, ChatBannedType: 1},
		Status:  ding.StatusNormal, CreatorApp: appA1,
		CreatedAt: t0 + 7, UpdatedAt: t0 + 9,
	}
}

func emp(id string, role int, joined int64) ding.Member {
	return ding.Member{ID: id, Kind: ding.MemberEmp, Role: role, JoinedAt: joined}
}

func ext(id string, role int, joined int64) ding.Member {
	return ding.Member{ID: id, Kind: ding.MemberExt, Role: role, JoinedAt: joined}
}

func groupEvent(g *ding.Group, typ, data string, at int64) ding.Event {
	return ding.Event{CorpID: g.CorpID, Type: typ, ChatID: g.ChatID, OpenConversationID: g.OpenConversationID,
		Operator: g.Owner, Data: []byte(data), CreatedAt: at}
}

func createGroup(t testing.TB, st ding.Store, g *ding.Group, ms []ding.Member, evs []ding.Event) {
	t.Helper()
	noErr(t, st.CreateGroup(ctx(), g, ms, evs), "CreateGroup "+g.ChatID)
}

func wantMembers(t testing.TB, st ding.Store, chatID string, want []ding.Member) {
	t.Helper()
	if got, want := memberIDs(mustMembers(t, st, chatID)), memberIDs(want); got != want {
		t.Fatalf("Members(%s) = %s, want %s", chatID, got, want)
	}
	ms := mustMembers(t, st, chatID)
	for i := range ms {
		if ms[i] != want[i] {
			t.Fatalf("Members(%s)[%d] = %+v, want %+v", chatID, i, ms[i], want[i])
		}
	}
}

func testGroupRoundTrip(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chat00000000000000000000000000001", "cidAAAAAAAAAAAAAAAAAAAA+/==", "项目群🎉测试👨‍👩‍👧 emoji")
	// interleaved kinds: Members returns staff first, each kind in joining order
	ms := []ding.Member{
		emp("manager4220", ding.RoleOwner, t0+1),
		ext("ext-a-002", ding.RoleMember, t0+2),
		emp("zhangsan", ding.RoleAdmin, t0+3),
		ext("ext-a-001", ding.RoleAdmin, t0+4),
		emp("lisi", ding.RoleMember, t0+5),
	}
	evs := []ding.Event{
		groupEvent(g, ding.EventChatCreate, `{"title":"项目群🎉测试👨‍👩‍👧 emoji","conversationTag":0}`, t0+7),
		groupEvent(g, ding.EventChatAddMember, `{"userId":["manager4220","zhangsan","lisi"],"unionId":["ext-a-002","ext-a-001"]}`, t0+7),
	}
	createGroup(t, st, g, ms, evs)

	want := *testGroup(corpA, g.ChatID, g.OpenConversationID, g.Name)
	want.MemberCount = len(ms)
	if got := mustGroup(t, st, corpA, g.ChatID); *got != want {
		t.Fatalf("Group = %+v, want %+v", *got, want)
	}
	byOpen, err := st.GroupByOpenID(ctx(), corpA, g.OpenConversationID)
	noErr(t, err, "GroupByOpenID")
	if *byOpen != want {
		t.Fatalf("GroupByOpenID = %+v, want %+v", *byOpen, want)
	}
	wantMembers(t, st, g.ChatID, []ding.Member{ms[0], ms[2], ms[4], ms[1], ms[3]})

	got := events(t, st, corpA)
	if got, want := len(got), len(evs); got != want {
		t.Fatalf("len(events) = %d, want %d", got, want)
	}
	wantGapFree(t, got, "events")
	for i := range evs {
		sameEvent(t, got[i], evs[i], fmt.Sprintf("event %d", i))
	}

	// a second group of the same corp with no events
	g2 := testGroup(corpA, "chat00000000000000000000000000002", "cidBBBB", "第二个群")
	g2.ConversationTag, g2.Options, g2.Icon = ding.TagInternal, ding.Options{}, ""
	createGroup(t, st, g2, []ding.Member{emp("lisi", ding.RoleOwner, t0)}, nil)
	if got, want := mustGroup(t, st, corpA, g2.ChatID).Name, "第二个群"; got != want {
		t.Fatalf("Group(g2).Name = %q, want %q", got, want)
	}
	if got, want := mustGroup(t, st, corpA, g.ChatID).Name, g.Name; got != want {
		t.Fatalf("Group(g).Name = %q, want %q", got, want)
	}
	if got, want := len(events(t, st, corpA)), len(evs); got != want {
		t.Fatalf("len(events) after g2 = %d, want %d", got, want)
	}
}

func testGroupOtherCorp(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chatothercorp01", "cidothercorp01", "A的群")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, nil)

	got, err := st.Group(ctx(), corpB, g.ChatID)
	wantKind(t, err, ding.NotFound, "Group(other corp)")
	if got != nil {
		t.Fatalf("Group(other corp) = %+v, want nil", got)
	}
	got, err = st.GroupByOpenID(ctx(), corpB, g.OpenConversationID)
	wantKind(t, err, ding.NotFound, "GroupByOpenID(other corp)")
	if got != nil {
		t.Fatalf("GroupByOpenID(other corp) = %+v, want nil", got)
	}
	called := false
	_, err = st.UpdateGroup(ctx(), corpB, g.ChatID, func(*ding.GroupState) (*ding.GroupChange, error) {
		called = true
		return nil, nil
	})
	wantKind(t, err, ding.NotFound, "UpdateGroup(other corp)")
	if called {
		t.Fatalf("UpdateGroup(other corp) called decide")
	}
	mustGroup(t, st, corpA, g.ChatID) // still there for its own corp
}

func testCreateGroupConflict(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chatconflict01", "cidconflict01", "原群")
	ms := []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("zhangsan", ding.RoleMember, t0)}
	createGroup(t, st, g, ms, []ding.Event{groupEvent(g, ding.EventChatCreate, `{"n":1}`, t0)})

	for _, tc := range []struct {
		name, chatID, openID, corpID string
	}{
		{"same chatid", g.ChatID, "cidconflict02", corpA},
		{"same openConversationId", "chatconflict02", g.OpenConversationID, corpA},
		{"same chatid in another corp", g.ChatID, "cidconflict03", corpB},
	} {
		dup := testGroup(tc.corpID, tc.chatID, tc.openID, "重复群")
		err := st.CreateGroup(ctx(), dup, []ding.Member{emp("manager4220", ding.RoleOwner, t0+1)}, // a user of both corps
			[]ding.Event{groupEvent(dup, ding.EventChatCreate, `{"n":2}`, t0+1)})
		wantKind(t, err, ding.Conflict, "CreateGroup("+tc.name+")")
	}
	// a member listed twice, far apart: the rows are written in several statements
	many := []ding.Member{emp("lisi", ding.RoleOwner, t0+1)}
	for i := 0; i < 200; i++ {
		many = append(many, ext(fmt.Sprintf("ext-dup-%03d", i), ding.RoleMember, t0+1))
	}
	many = append(many, many[150])
	dup := testGroup(corpA, "chatconflict04", "cidconflict04", "重复成员")
	wantKind(t, st.CreateGroup(ctx(), dup, many, nil), ding.Conflict, "CreateGroup(member twice)")
	_, err := st.Group(ctx(), corpA, dup.ChatID)
	wantKind(t, err, ding.NotFound, "Group(member twice)")
	if ms, err := st.Members(ctx(), dup.ChatID); err != nil || len(ms) != 0 {
		t.Fatalf("Members(member twice) = %d, %v; want none", len(ms), err)
	}
	// the failed creates left nothing behind
	want := *g
	want.MemberCount = 2
	if got := mustGroup(t, st, corpA, g.ChatID); *got != want {
		t.Fatalf("Group = %+v, want %+v", *got, want)
	}
	wantMembers(t, st, g.ChatID, ms)
	if got, want := len(events(t, st, corpA)), 1; got != want {
		t.Fatalf("len(events A) = %d, want %d", got, want)
	}
	if got, want := len(events(t, st, corpB)), 0; got != want {
		t.Fatalf("len(events B) = %d, want %d", got, want)
	}
	_, err = st.Group(ctx(), corpA, "chatconflict02")
	wantKind(t, err, ding.NotFound, "Group(rejected chatid)")
	_, err = st.GroupByOpenID(ctx(), corpA, "cidconflict02")
	wantKind(t, err, ding.NotFound, "GroupByOpenID(rejected openid)")
}

// updateFixture is a group of four members and its creation event.
func updateFixture(t *testing.T, st ding.Store) (*ding.Group, []ding.Member) {
	t.Helper()
	seed(t, st)
	g := testGroup(corpA, "chatupdate01", "cidupdate01", "更新前")
	ms := []ding.Member{
		emp("manager4220", ding.RoleOwner, t0),
		emp("zhangsan", ding.RoleMember, t0+1),
		emp("lisi", ding.RoleMember, t0+2),
		ext("ext-a-001", ding.RoleMember, t0+3),
	}
	createGroup(t, st, g, ms, []ding.Event{groupEvent(g, ding.EventChatCreate, `{}`, t0)})
	g.MemberCount = len(ms)
	return g, ms
}

func testUpdateGroupApplies(t *testing.T, st ding.Store) {
	g, ms := updateFixture(t, st)
	now := t0 + 60000
	var change *ding.GroupChange
	got, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		if s.Group != *g {
			return nil, fmt.Errorf("state group = %+v, want %+v", s.Group, *g)
		}
		if got, want := memberIDs(s.Members), memberIDs(ms); got != want {
			return nil, fmt.Errorf("state members = %s, want %s", got, want)
		}
		ng := s.Group
		ng.Name, ng.Owner, ng.UpdatedAt = "更新后✨", "zhangsan", now
		ng.Options.ChatBannedType = 0
		ng.MemberCount = 999 // the store counts, whatever decide says
		change = &ding.GroupChange{
			Group:  ng,
			Add:    []ding.Member{emp("wangwu", ding.RoleAdmin, now), ext("ext-a-002", ding.RoleMember, now)},
			Remove: []ding.Member{{ID: "lisi", Kind: ding.MemberEmp}, {ID: "ext-a-001", Kind: ding.MemberExt}},
			Roles:  []ding.Member{emp("manager4220", ding.RoleMember, t0), emp("zhangsan", ding.RoleOwner, t0+1)},
			Events: []ding.Event{
				groupEvent(&ng, ding.EventChatRemoveMember, `{"userId":["lisi"],"unionId":["ext-a-001"]}`, now),
				groupEvent(&ng, ding.EventChatAddMember, `{"userId":["wangwu"],"unionId":["ext-a-002"]}`, now),
				groupEvent(&ng, ding.EventChatUpdateOwner, `{"owner":"zhangsan","oldOwner":"manager4220"}`, now),
			},
		}
		return change, nil
	})
	noErr(t, err, "UpdateGroup")

	want := change.Group
	want.MemberCount = 4
	if *got != want {
		t.Fatalf("UpdateGroup = %+v, want %+v", *got, want)
	}
	if got := mustGroup(t, st, corpA, g.ChatID); *got != want {
		t.Fatalf("Group = %+v, want %+v", *got, want)
	}
	wantMembers(t, st, g.ChatID, []ding.Member{
		emp("manager4220", ding.RoleMember, t0),
		emp("zhangsan", ding.RoleOwner, t0+1),
		emp("wangwu", ding.RoleAdmin, now),
		ext("ext-a-002", ding.RoleMember, now),
	})
	evs := events(t, st, corpA)
	if got, want := len(evs), 4; got != want {
		t.Fatalf("len(events) = %d, want %d", got, want)
	}
	wantGapFree(t, evs, "events")
	for i, e := range change.Events {
		sameEvent(t, evs[i+1], e, fmt.Sprintf("event %d", i+1))
	}

	// a later update sees the previous one and appends after it
	_, err = st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		if s.Group != want {
			return nil, fmt.Errorf("state group = %+v, want %+v", s.Group, want)
		}
		return &ding.GroupChange{Group: s.Group, Add: []ding.Member{emp("lisi", ding.RoleMember, now+1)}}, nil
	})
	noErr(t, err, "UpdateGroup(re-add)")
	if got, want := mustGroup(t, st, corpA, g.ChatID).MemberCount, 5; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	ms2 := mustMembers(t, st, g.ChatID)
	if got, want := ms2[3].ID, "lisi"; got != want { // re-joined staff come after the staff already there
		t.Fatalf("Members[3] = %q, want %q (members %s)", got, want, memberIDs(ms2))
	}
}

// wantUnchanged fails unless the group, its members and the corp's events
// are what they were.
func wantUnchanged(t *testing.T, st ding.Store, g *ding.Group, ms []ding.Member, nEvents int) {
	t.Helper()
	if got := mustGroup(t, st, corpA, g.ChatID); *got != *g {
		t.Fatalf("Group = %+v, want unchanged %+v", *got, *g)
	}
	wantMembers(t, st, g.ChatID, ms)
	if got, want := len(events(t, st, corpA)), nEvents; got != want {
		t.Fatalf("len(events) = %d, want unchanged %d", got, want)
	}
}

func testUpdateGroupDecideError(t *testing.T, st ding.Store) {
	g, ms := updateFixture(t, st)
	refused := ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "refused")
	got, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ng := s.Group
		ng.Name = "不该写入"
		// a change returned together with an error must be ignored
		return &ding.GroupChange{
			Group:  ng,
			Add:    []ding.Member{emp("wangwu", ding.RoleMember, t0)},
			Remove: []ding.Member{{ID: "lisi", Kind: ding.MemberEmp}},
			Roles:  []ding.Member{emp("zhangsan", ding.RoleAdmin, t0+1)},
			Events: []ding.Event{groupEvent(&ng, ding.EventChatAddMember, `{}`, t0)},
		}, refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("UpdateGroup err = %v, want decide's error as is", err)
	}
	if got, want := ding.ErrorReason(err), ding.ReasonMemberLimit; got != want {
		t.Fatalf("reason = %q, want %q", got, want)
	}
	if got != nil {
		t.Fatalf("UpdateGroup = %+v with an error, want nil", got)
	}
	wantUnchanged(t, st, g, ms, 1)
}

func testUpdateGroupFailedApply(t *testing.T, st ding.Store) {
	g, ms := updateFixture(t, st)
	// the remove and role change are applied before the add that collides;
	// the whole change must roll back
	_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ng := s.Group
		ng.Name = "不该写入"
		return &ding.GroupChange{
			Group:  ng,
			Remove: []ding.Member{{ID: "lisi", Kind: ding.MemberEmp}},
			Roles:  []ding.Member{emp("zhangsan", ding.RoleAdmin, t0+1)},
			Add:    []ding.Member{emp("wangwu", ding.RoleMember, t0), emp("manager4220", ding.RoleMember, t0)},
			Events: []ding.Event{groupEvent(&ng, ding.EventChatAddMember, `{}`, t0)},
		}, nil
	})
	wantKind(t, err, ding.Conflict, "UpdateGroup(adds an existing member)")
	wantUnchanged(t, st, g, ms, 1)

	// the store is still writable afterwards, and the sequence has no gap
	_, err = st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		return &ding.GroupChange{Group: s.Group, Events: []ding.Event{groupEvent(&s.Group, ding.EventChatUpdateSettings, `{}`, t0)}}, nil
	})
	noErr(t, err, "UpdateGroup after failure")
	wantGapFree(t, events(t, st, corpA), "events")
}

func testUpdateGroupNilChange(t *testing.T, st ding.Store) {
	g, ms := updateFixture(t, st)
	got, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(*ding.GroupState) (*ding.GroupChange, error) { return nil, nil })
	noErr(t, err, "UpdateGroup(nil change)")
	if got == nil || *got != *g {
		t.Fatalf("UpdateGroup(nil change) = %+v, want the unchanged group %+v", got, *g)
	}
	wantUnchanged(t, st, g, ms, 1)
}

func testThousandMembers(t *testing.T, st ding.Store) {
	const n = ding.MaxMembers
	seed(t, st, bigOrg(n), orgB())
	g := testGroup(corpA, "chatthousand01", "cidthousand01", "千人大群")
	ms := make([]ding.Member, 0, n)
	for i := 1; i <= n-2; i++ {
		role := ding.RoleMember
		if i == 1 {
			role = ding.RoleOwner
		}
		ms = append(ms, emp(numberedUserID(i), role, t0+int64(i)))
	}
	ms = append(ms, ext("ext-a-001", ding.RoleMember, t0+5000), ext("ext-a-002", ding.RoleMember, t0+5001))
	g.Owner = numberedUserID(1)
	createGroup(t, st, g, ms, nil)
	if got, want := mustGroup(t, st, corpA, g.ChatID).MemberCount, n; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	wantMembers(t, st, g.ChatID, ms)

	// swap one member for another: the count stays, the order follows joining
	_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		if got, want := len(s.Members), n; got != want {
			return nil, fmt.Errorf("state has %d members, want %d", got, want)
		}
		return &ding.GroupChange{
			Group:  s.Group,
			Remove: []ding.Member{{ID: numberedUserID(2), Kind: ding.MemberEmp}},
			Add:    []ding.Member{emp("zhangsan", ding.RoleMember, t0+9000)},
		}, nil
	})
	noErr(t, err, "UpdateGroup")
	if got, want := mustGroup(t, st, corpA, g.ChatID).MemberCount, n; got != want {
		t.Fatalf("MemberCount after swap = %d, want %d", got, want)
	}
	want := append(append(append([]ding.Member{ms[0]}, ms[2:n-2]...), emp("zhangsan", ding.RoleMember, t0+9000)), ms[n-2:]...)
	wantMembers(t, st, g.ChatID, want)
}

// testGroupVersion: the version moves with every change of what a reader
// keeps of a group (row, members, nicknames, bound apps, status) and not
// with its messages.
func testGroupVersion(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatversion01")
	version := func() int64 {
		t.Helper()
		v, err := st.GroupVersion(ctx(), corpA, g.ChatID)
		noErr(t, err, "GroupVersion")
		return v
	}
	seen := map[int64]string{version(): "created"}
	moved := func(what string) {
		t.Helper()
		v := version()
		if prev, ok := seen[v]; ok {
			t.Fatalf("after %s the version is %d, as after %s", what, v, prev)
		}
		seen[v] = what
	}
	update := func(what string, change func(s *ding.GroupState, ch *ding.GroupChange)) {
		t.Helper()
		_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
			ch := &ding.GroupChange{Group: s.Group}
			change(s, ch)
			return ch, nil
		})
		noErr(t, err, "UpdateGroup("+what+")")
		moved(what)
	}
	update("a rename", func(_ *ding.GroupState, ch *ding.GroupChange) { ch.Group.Name = "新名字" })
	update("an added member", func(_ *ding.GroupState, ch *ding.GroupChange) {
		ch.Add = []ding.Member{emp("wangwu", ding.RoleMember, t0+9)}
	})
	update("a removed member", func(_ *ding.GroupState, ch *ding.GroupChange) {
		ch.Remove = []ding.Member{{ID: "wangwu", Kind: ding.MemberEmp}}
	})
	update("a nickname", func(_ *ding.GroupState, ch *ding.GroupChange) {
		m := emp("zhangsan", ding.RoleMember, t0+1)
		m.Nick = "小张"
		ch.Roles = []ding.Member{m}
	})

	before := version()
	appendMsg(t, st, message(g, "msg-version-1", t0+10, `{"content":"版本"}`))
	if v := version(); v != before {
		t.Fatalf("a message moved the version %d → %d", before, v)
	}
	// nothing to apply: nothing changed
	_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(*ding.GroupState) (*ding.GroupChange, error) { return nil, nil })
	noErr(t, err, "UpdateGroup(nil)")
	if v := version(); v != before {
		t.Fatalf("an update that changed nothing moved the version %d → %d", before, v)
	}

	apps := func(what string, ch ding.ChatAppChange) {
		t.Helper()
		noErr(t, st.UpdateChatApps(ctx(), corpA, g.ChatID, func(*ding.ChatAppState) (*ding.ChatAppChange, error) { return &ch, nil }),
			"UpdateChatApps("+what+")")
		moved(what)
	}
	bound := ding.ChatApp{ChatID: g.ChatID, CorpID: corpA, AgentID: 7001, SuiteKey: "suiteversion", BoundAt: t0 + 11}
	apps("a bound app", ding.ChatAppChange{Bind: []ding.ChatApp{bound}})
	apps("an unbound app", ding.ChatAppChange{Unbind: []ding.ChatApp{bound}})
	apps("a status", ding.ChatAppChange{Status: ding.StatusDisbanded, UpdatedAt: t0 + 12})

	_, err = st.GroupVersion(ctx(), corpB, g.ChatID)
	wantKind(t, err, ding.NotFound, "GroupVersion(another corp)")
	_, err = st.GroupVersion(ctx(), corpA, "chatnosuch")
	wantKind(t, err, ding.NotFound, "GroupVersion(unknown)")
}

// testCreateGroupUnknownUser: a create whose staff names someone who is no
// user of the group's corp is refused, naming the first such id in list
// order, and writes nothing; externals are the caller's to check.
func testCreateGroupUnknownUser(t *testing.T, st ding.Store) {
	seed(t, st)
	for _, tc := range []struct {
		name, want string
		ms         []ding.Member
	}{
		{"one unknown", "ghost", []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("ghost", ding.RoleMember, t0)}},
		{"the first of two", "ghost2", []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("ghost2", ding.RoleMember, t0),
			emp("zhangsan", ding.RoleMember, t0), emp("ghost1", ding.RoleMember, t0)}},
		{"another corp's user", "zhaoliu", []ding.Member{emp("zhaoliu", ding.RoleOwner, t0), emp("manager4220", ding.RoleMember, t0)}},
		{"an external's id as staff", "ext-a-002", []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("ext-a-002", ding.RoleMember, t0)}},
	} {
		g := testGroup(corpA, "chatunknown"+fmt.Sprint(len(tc.ms))+tc.want, "cidunknown"+tc.want, "未知成员")
		err := st.CreateGroup(ctx(), g, tc.ms, []ding.Event{groupEvent(g, ding.EventChatCreate, `{"n":1}`, t0)})
		wantKind(t, err, ding.Invalid, "CreateGroup("+tc.name+")")
		if got := ding.ErrorReason(err); got != ding.ReasonUnknownUser {
			t.Fatalf("CreateGroup(%s): reason %q, want %q (err: %v)", tc.name, got, ding.ReasonUnknownUser, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "userid "+tc.want+" ") {
			t.Fatalf("CreateGroup(%s) = %q, want it to name %s", tc.name, msg, tc.want)
		}
		_, err = st.Group(ctx(), corpA, g.ChatID)
		wantKind(t, err, ding.NotFound, "Group("+tc.name+")")
		if ms, err := st.Members(ctx(), g.ChatID); err != nil || len(ms) != 0 {
			t.Fatalf("Members(%s) = %d, %v; want none", tc.name, len(ms), err)
		}
	}
	if got := len(events(t, st, corpA)); got != 0 {
		t.Fatalf("refused creates left %d events", got)
	}
	// staff all known, externals unchecked here
	g := testGroup(corpA, "chatknown", "cidknown", "已知成员")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0), ext("ext-nobody", ding.RoleMember, t0)}, nil)
}
