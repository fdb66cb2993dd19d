package service_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

const joinBase = "http://dingchat.test"

// joinCode reads the code out of a join link.
func joinCode(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("join link %q: %v", link, err)
	}
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("join link %q has no code", link)
	}
	return code
}

// link asks for a join link shared by sharer and returns its code.
func (e *env) link(chatID, sharer string) string {
	e.t.Helper()
	l, err := e.svc.JoinLink(bg, e.app(), chatID, sharer, joinBase)
	if err != nil {
		e.t.Fatalf("JoinLink(%s, %s): %v", chatID, sharer, err)
	}
	return joinCode(e.t, l)
}

// join joins through code and requires the outcome want.
func (e *env) join(mc *service.MemberCaller, code, want string) *ding.Group {
	e.t.Helper()
	got, g, err := e.svc.Join(bg, mc, code)
	if err != nil {
		e.t.Fatalf("Join(%s): %v", mc.UserID, err)
	}
	if got != want {
		e.t.Fatalf("Join(%s) = %q, want %q", mc.UserID, got, want)
	}
	return g
}

func (e *env) requests(mc *service.MemberCaller, chatID string) string {
	e.t.Helper()
	rs, err := e.svc.JoinRequests(bg, mc, chatID)
	if err != nil {
		e.t.Fatalf("JoinRequests(%s): %v", mc.UserID, err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.UserID)
	}
	return strings.Join(out, ",")
}

func TestJoinLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi")
	s := e.snapshot(g.ChatID)

	refuse := func(c *service.Caller, chatID, sharer string, kind ding.Kind, reason ding.Reason, what string) {
		t.Helper()
		l, err := e.svc.JoinLink(bg, c, chatID, sharer, joinBase)
		if l != "" {
			t.Fatalf("JoinLink(%s) = %q with an error", what, l)
		}
		e.refused(s, err, kind, reason, what)
	}
	refuse(c, g.ChatID, "", ding.Invalid, ding.ReasonUnknownUser, "no sharer")
	refuse(c, g.ChatID, "ghost", ding.Invalid, ding.ReasonUnknownUser, "unknown sharer")
	refuse(c, g.ChatID, "zhaoliu", ding.Invalid, ding.ReasonUnknownUser, "sharer of another corp")
	refuse(c, g.ChatID, "wangwu", ding.Invalid, ding.ReasonNotMember, "sharer outside the group")
	refuse(c, "", "zhangsan", ding.Invalid, ding.ReasonChatIDMissing, "no chatid")
	refuse(c, "chat0123456789abcdef0123456789abcdef", "zhangsan", ding.NotFound, ding.ReasonChatNotFound, "unknown chatid")
	refuse(e.otherApp(), g.ChatID, "zhangsan", ding.NotFound, ding.ReasonChatNotFound, "another corp's app")
	_, err := e.svc.JoinLink(bg, e.readOnlyApp(), g.ChatID, "zhangsan", joinBase)
	e.refused(s, err, ding.Forbidden, ding.ReasonPermissionDenied, "read-only app")
	if got := ding.ErrorScopes(err); len(got) != 1 || got[0] != ding.ScopeChatBaseRead {
		t.Fatalf("RequiredScopes = %v, want [%s]", got, ding.ScopeChatBaseRead)
	}

	l, err := e.svc.JoinLink(bg, c, g.ChatID, "zhangsan", joinBase)
	if err != nil {
		t.Fatalf("JoinLink: %v", err)
	}
	if !strings.HasPrefix(l, joinBase+"/_dingchat/joingroup?code=v1%2C") || !strings.HasSuffix(l, "&_dt_no_comment=1&origin=11") {
		t.Fatalf("link = %q, want DingTalk's shape served by DingChat", l)
	}
	e.unchanged(s, "a join link changes no group")
	code := joinCode(t, l)
	if other := e.link(g.ChatID, "lisi"); other == code {
		t.Fatalf("two links share the code %q", code)
	}

	info, err := e.svc.JoinLinkInfo(bg, code)
	if err != nil {
		t.Fatalf("JoinLinkInfo: %v", err)
	}
	if info.Group.ChatID != g.ChatID || info.Group.Name != "测试群" || info.Group.MemberCount != 3 ||
		info.OwnerName != "管理员" || info.SharerName != "张三" || info.NeedsApproval || info.Disbanded || info.Code != code {
		t.Fatalf("JoinLinkInfo = %+v", info)
	}
	for _, bad := range []string{"", "v1,nosuch", code + "x"} {
		_, err := e.svc.JoinLinkInfo(bg, bad)
		wantErr(t, err, ding.NotFound, ding.ReasonNone, "JoinLinkInfo("+bad+")")
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan")
	code := e.link(g.ChatID, "zhangsan")
	e.clock.Advance(time.Second)
	s := e.snapshot(g.ChatID)

	for _, tc := range []struct {
		mc   *service.MemberCaller
		what string
	}{
		{&service.MemberCaller{CorpID: dingtest.OtherCorpID, UserID: "zhaoliu"}, "a member of another corp"},
		{&service.MemberCaller{CorpID: dingtest.OtherCorpID, UserID: "manager4220"}, "the owner's userid in another corp"},
	} {
		got, g2, err := e.svc.Join(bg, tc.mc, code)
		if got != "" || g2 != nil {
			t.Fatalf("Join(%s) = %q, %v with an error", tc.what, got, g2)
		}
		e.refused(s, err, ding.Forbidden, ding.ReasonPermissionDenied, tc.what)
	}
	_, _, err := e.svc.Join(bg, memberCaller("wangwu"), "v1,nosuch")
	e.refused(s, err, ding.NotFound, ding.ReasonNone, "unknown code")

	g2 := e.join(memberCaller("wangwu"), code, service.JoinJoined)
	if got, want := g2.MemberCount, 3; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	if got, want := ids(e.members(g.ChatID)), "[manager4220 zhangsan wangwu]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
	if got, want := e.roles(g.ChatID)["wangwu"], ding.RoleMember; got != want {
		t.Fatalf("role = %d, want %d", got, want)
	}
	evs := e.events()
	if got, want := len(evs), s.events+1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	last := evs[len(evs)-1]
	if last.Operator != "wangwu" {
		t.Fatalf("operator = %q, want the member who joined", last.Operator)
	}
	stored := e.stored(g.ChatID)
	stored.Owner = "wangwu" // wantEvent compares the operator with the owner
	wantEvent(t, last, ding.EventChatAddMember, stored, e.nowMs(), map[string]any{"userId": []string{"wangwu"}, "unionId": []string{}})

	s = e.snapshot(g.ChatID)
	e.join(memberCaller("wangwu"), code, service.JoinAlready)
	e.join(memberCaller("manager4220"), code, service.JoinAlready)
	e.unchanged(s, "members join again")

	// the link follows the group's settings as they are now
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Options: service.OptionsPatch{ValidationType: ptr(1)}})
	s = e.snapshot(g.ChatID)
	e.join(memberCaller("lisi"), code, service.JoinRequested)
	e.unchanged(s, "a request adds no member")
	if got, want := e.requests(memberCaller("manager4220"), g.ChatID), "lisi"; got != want {
		t.Fatalf("requests = %q, want %q", got, want)
	}
}

func TestJoinApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.create(c, service.CreateGroupInput{Name: "审批群", Owner: "manager4220", UserIDs: []string{"manager4220", "zhangsan", "lisi"},
		Options: service.OptionsPatch{ValidationType: ptr(1)}})
	e.setSubAdmins(c, g.ChatID, []string{"zhangsan"}, ding.RoleAdmin)
	code := e.link(g.ChatID, "lisi")
	info, err := e.svc.JoinLinkInfo(bg, code)
	if err != nil || !info.NeedsApproval {
		t.Fatalf("JoinLinkInfo = %+v, %v; want NeedsApproval", info, err)
	}

	s := e.snapshot(g.ChatID)
	e.clock.Advance(time.Second)
	e.join(memberCaller("wangwu"), code, service.JoinRequested)
	e.clock.Advance(time.Second)
	e.join(memberCaller(dingtest.UserID(1)), code, service.JoinRequested)
	e.join(memberCaller("wangwu"), code, service.JoinRequested) // asking again refreshes the one request
	e.unchanged(s, "requests add no member and no event")

	if got, want := e.requests(memberCaller("manager4220"), g.ChatID), "user0001,wangwu"; got != want {
		t.Fatalf("owner sees requests %q, want %q (oldest first)", got, want)
	}
	if got, want := e.requests(memberCaller("zhangsan"), g.ChatID), "user0001,wangwu"; got != want {
		t.Fatalf("admin sees requests %q, want %q", got, want)
	}
	_, err = e.svc.JoinRequests(bg, memberCaller("lisi"), g.ChatID)
	wantErr(t, err, ding.Forbidden, ding.ReasonNotOwner, "JoinRequests(plain member)")
	_, err = e.svc.JoinRequests(bg, memberCaller("wangwu"), g.ChatID)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "JoinRequests(the requester)")
	_, err = e.svc.JoinRequests(bg, &service.MemberCaller{CorpID: dingtest.OtherCorpID, UserID: "manager4220"}, g.ChatID)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "JoinRequests(owner's userid in another corp)")

	e.refused(s, e.svc.DecideJoin(bg, memberCaller("lisi"), g.ChatID, "wangwu", true), ding.Forbidden, ding.ReasonNotOwner, "a plain member approves")
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("wangwu"), g.ChatID, "wangwu", true), ding.NotFound, ding.ReasonChatNotFound, "the requester approves himself")
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("zhangsan"), g.ChatID, "ghost", true), ding.NotFound, ding.ReasonNone, "no such request")
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("zhangsan"), g.ChatID, "lisi", true), ding.NotFound, ding.ReasonNone, "a member never asked")
	if got, want := e.requests(memberCaller("manager4220"), g.ChatID), "user0001,wangwu"; got != want {
		t.Fatalf("refused decisions changed the requests: %q, want %q", got, want)
	}

	// an admin approves: the member is added, by the admin
	e.clock.Advance(time.Second)
	if err := e.svc.DecideJoin(bg, memberCaller("zhangsan"), g.ChatID, "wangwu", true); err != nil {
		t.Fatalf("DecideJoin(approve): %v", err)
	}
	if got, want := ids(e.members(g.ChatID)), "[manager4220 zhangsan lisi wangwu]"; got != want {
		t.Fatalf("members = %s, want %s", got, want)
	}
	evs := e.events()
	if got, want := len(evs), s.events+1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	stored := e.stored(g.ChatID)
	stored.Owner = "zhangsan" // the approver is the operator
	wantEvent(t, evs[len(evs)-1], ding.EventChatAddMember, stored, e.nowMs(), map[string]any{"userId": []string{"wangwu"}, "unionId": []string{}})

	// the owner rejects: nothing but the request changes
	s = e.snapshot(g.ChatID)
	if err := e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, dingtest.UserID(1), false); err != nil {
		t.Fatalf("DecideJoin(reject): %v", err)
	}
	e.unchanged(s, "a rejection")
	if got := e.requests(memberCaller("manager4220"), g.ChatID); got != "" {
		t.Fatalf("requests left: %q", got)
	}
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, "wangwu", true), ding.NotFound, ding.ReasonNone, "approve twice")
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, dingtest.UserID(1), true), ding.NotFound, ding.ReasonNone, "approve after a rejection")
}

// TestJoinMemberCap: joining and approving stop at the 1000-member cap,
// and a refused approval stays pending.
func TestJoinMemberCap(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	c := e.app()
	g := e.create(c, service.CreateGroupInput{Name: "千人群", Owner: "manager4220", UserIDs: append([]string{"manager4220"}, userIDs(1, 39)...)})
	e.fill(c, g.ChatID, 40, ding.MaxMembers-2) // 999 members
	code := e.link(g.ChatID, "manager4220")

	full := e.join(memberCaller("wangwu"), code, service.JoinJoined)
	if got, want := full.MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
	s := e.snapshot(g.ChatID)
	_, _, err := e.svc.Join(bg, memberCaller(dingtest.UserID(ding.MaxMembers)), code)
	e.refused(s, err, ding.Invalid, ding.ReasonMemberLimit, "member 1001 joins")
	e.join(memberCaller("wangwu"), code, service.JoinAlready) // a member still may open the link

	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, Options: service.OptionsPatch{ValidationType: ptr(1)}})
	next := dingtest.UserID(ding.MaxMembers)
	e.join(memberCaller(next), code, service.JoinRequested)
	s = e.snapshot(g.ChatID)
	e.refused(s, e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, next, true), ding.Invalid, ding.ReasonMemberLimit, "approve member 1001")
	if got := e.requests(memberCaller("manager4220"), g.ChatID); got != next {
		t.Fatalf("requests = %q after a refused approval, want %q still pending", got, next)
	}
	// a place freed is a place to take
	e.update(c, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: []string{"wangwu"}})
	if err := e.svc.DecideJoin(bg, memberCaller("manager4220"), g.ChatID, next, true); err != nil {
		t.Fatalf("DecideJoin after a place was freed: %v", err)
	}
	if got, want := e.stored(g.ChatID).MemberCount, ding.MaxMembers; got != want {
		t.Fatalf("MemberCount = %d, want %d", got, want)
	}
}

// TestJoinConcurrentAtCap: many members joining at once never push a group
// past the cap.
func TestJoinConcurrentAtCap(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	c := e.app()
	g := e.create(c, service.CreateGroupInput{Name: "抢位群", Owner: "manager4220", UserIDs: append([]string{"manager4220"}, userIDs(1, 39)...)})
	e.fill(c, g.ChatID, 40, ding.MaxMembers-11) // 990 members, 10 places left
	code := e.link(g.ChatID, "manager4220")
	before := len(e.events())

	const joiners = 24
	outcomes := make([]string, joiners)
	errs := make([]error, joiners)
	var wg sync.WaitGroup
	for i := range joiners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], _, errs[i] = e.svc.Join(bg, memberCaller(dingtest.UserID(ding.MaxMembers+i)), code)
		}()
	}
	wg.Wait()
	joined := 0
	for i, err := range errs {
		switch {
		case err == nil && outcomes[i] == service.JoinJoined:
			joined++
		case err != nil:
			wantErr(t, err, ding.Invalid, ding.ReasonMemberLimit, "concurrent join")
		default:
			t.Fatalf("join %d = %q", i, outcomes[i])
		}
	}
	if joined != 10 {
		t.Fatalf("%d joined, want the 10 free places taken", joined)
	}
	if got, want := len(e.members(g.ChatID)), ding.MaxMembers; got != want {
		t.Fatalf("len(Members) = %d, want %d", got, want)
	}
	if got, want := len(e.events())-before, 10; got != want {
		t.Fatalf("%d events, want one per join", got)
	}
}

// A join link works for JoinLinkTTL; its code is kept only as a hash.
func TestJoinLinkExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	code := e.link(g.ChatID, "zhangsan")
	if _, err := e.st.JoinCode(bg, code); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("the store finds a join code by its plaintext: %v", err)
	}
	if _, err := e.svc.JoinLinkInfo(bg, code); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	e.clock.Advance(service.JoinLinkTTL)
	if _, err := e.svc.JoinLinkInfo(bg, code); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("expired link = %v, want NotFound", err)
	}
	if _, _, err := e.svc.Join(bg, &service.MemberCaller{CorpID: dingtest.CorpID, UserID: "lisi"}, code); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("join through an expired link = %v, want NotFound", err)
	}
	// the next link minted forgets the expired one
	e.link(g.ChatID, "zhangsan")
	if _, err := e.st.JoinCode(bg, ding.SecretHash(code)); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("expired code still stored: %v", err)
	}
}

// linkOf asks svc for a join link shared by sharer and returns its code.
func (e *env) linkOf(svc *service.Service, chatID, sharer string) string {
	e.t.Helper()
	l, err := svc.JoinLink(bg, e.app(), chatID, sharer, joinBase)
	if err != nil {
		e.t.Fatalf("JoinLink(%s, %s): %v", chatID, sharer, err)
	}
	return joinCode(e.t, l)
}

// The same sharer gets the same link until JoinLinkRenewBefore is left of
// it, then a fresh one; the older keeps working until it expires.
func TestJoinLinkReused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc = service.New(e.st, e.clock, service.RandomIDs{}) // codes derived for real
	g := e.group("zhangsan", "lisi")
	other := e.group("zhangsan")
	first := e.link(g.ChatID, "zhangsan")
	if len(first) != len("v1,")+22 || !strings.HasPrefix(first, "v1,") || strings.ContainsAny(first[3:], "+/=") {
		t.Fatalf("code %q: want v1, and 128 bits in base64url", first)
	}
	if again := e.link(g.ChatID, "zhangsan"); again != first {
		t.Fatalf("second link %q, want the first %q", again, first)
	}
	codes := map[string]string{first: "zhangsan in the group"}
	for what, code := range map[string]string{
		"lisi in the group":        e.link(g.ChatID, "lisi"),
		"zhangsan in another":      e.link(other.ChatID, "zhangsan"),
		"manager4220 in the group": e.link(g.ChatID, "manager4220"),
	} {
		if prev, dup := codes[code]; dup {
			t.Fatalf("%s and %s share the code %q", what, prev, code)
		}
		codes[code] = what
	}

	renewAt := service.JoinLinkTTL - service.JoinLinkRenewBefore
	e.clock.Advance(renewAt - time.Millisecond)
	if again := e.link(g.ChatID, "zhangsan"); again != first {
		t.Fatalf("link a day and 1 ms before expiry = %q, want the first %q", again, first)
	}
	e.clock.Advance(time.Millisecond)
	renewed := e.link(g.ChatID, "zhangsan")
	if renewed == first {
		t.Fatalf("link a day before expiry is still the first")
	}
	if _, err := e.st.JoinCode(bg, renewed); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("the store finds a join code by its plaintext: %v", err)
	}
	for _, code := range []string{first, renewed} {
		if _, err := e.svc.JoinLinkInfo(bg, code); err != nil {
			t.Fatalf("JoinLinkInfo(%s) after renewal: %v", code, err)
		}
	}
	e.clock.Advance(service.JoinLinkRenewBefore)
	if _, err := e.svc.JoinLinkInfo(bg, first); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("first link after its expiry = %v, want NotFound", err)
	}
	if again := e.link(g.ChatID, "zhangsan"); again != renewed {
		t.Fatalf("link after the first expired = %q, want the renewed %q", again, renewed)
	}
	e.join(memberCaller("wangwu"), renewed, service.JoinJoined)
}

// Two nodes on one database hand out the same link, and so does a node
// started later on it.
func TestJoinLinkSameAcrossNodes(t *testing.T) {
	t.Parallel()
	open := sharedStore(t)
	e := wrap(t, open())
	if err := e.st.ApplyOrg(bg, dingtest.Org()); err != nil {
		t.Fatal(err)
	}
	e.svc = service.New(e.st, e.clock, service.RandomIDs{})
	g := e.group("zhangsan", "lisi")
	nodes := []*service.Service{e.svc, service.New(open(), e.clock, service.RandomIDs{})}

	first := e.linkOf(nodes[0], g.ChatID, "zhangsan")
	if got := e.linkOf(nodes[1], g.ChatID, "zhangsan"); got != first {
		t.Fatalf("the other node's link %q, want %q", got, first)
	}
	// both nodes asked at once for a sharer without a link yet
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var l string
			l, errs[i] = nodes[i%2].JoinLink(bg, e.app(), g.ChatID, "lisi", joinBase)
			got[i] = l
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("node %d at once: %q, %v; want %q", i%2, got[i], errs[i], got[0])
		}
	}
	// a node started afterwards (nothing kept in memory)
	later := service.New(open(), e.clock, service.RandomIDs{})
	if got := e.linkOf(later, g.ChatID, "zhangsan"); got != first {
		t.Fatalf("a later node's link %q, want %q", got, first)
	}
	if _, err := later.JoinLinkInfo(bg, first); err != nil {
		t.Fatalf("a later node reads the link: %v", err)
	}
}
