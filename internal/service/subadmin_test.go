package service_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// refuseSubAdmins runs a SetSubAdmins that must fail and must change nothing.
func (e *env) refuseSubAdmins(c *service.Caller, chatID string, ids []string, role int, kind ding.Kind, reason ding.Reason, what string) {
	e.t.Helper()
	s := e.snapshot(chatID)
	err := e.svc.SetSubAdmins(bg, c, service.GroupRef{ChatID: chatID}, ids, role)
	wantErr(e.t, err, kind, reason, "SetSubAdmins("+what+")")
	e.unchanged(s, what)
}

func (e *env) setSubAdmins(c *service.Caller, chatID string, ids []string, role int) {
	e.t.Helper()
	if err := e.svc.SetSubAdmins(bg, c, service.GroupRef{ChatID: chatID}, ids, role); err != nil {
		e.t.Fatalf("SetSubAdmins(%v, %d): %v", ids, role, err)
	}
}

func TestSubAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group("zhangsan", "lisi", "wangwu")
	e.clock.Advance(time.Second)
	before := len(e.events())

	e.setSubAdmins(c, g.ChatID, []string{"zhangsan", "lisi"}, ding.RoleAdmin)
	if got, want := e.roles(g.ChatID), map[string]int{"manager4220": 1, "zhangsan": 2, "lisi": 2, "wangwu": 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	v, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: g.ChatID})
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if got, want := strings.Join(v.Admins, ","), "zhangsan,lisi"; got != want {
		t.Fatalf("Admins = %s, want %s", got, want)
	}
	evs := e.events()[before:]
	if got, want := len(evs), 1; got != want {
		t.Fatalf("len(new events) = %d, want %d", got, want)
	}
	stored := e.stored(g.ChatID)
	wantEvent(t, evs[0], ding.EventChatUpdateSubAdmin, stored, e.nowMs(), map[string]any{"userId": []string{"zhangsan", "lisi"}, "role": 2})
	if got, want := stored.UpdatedAt, e.nowMs(); got != want {
		t.Fatalf("UpdatedAt = %d, want %d", got, want)
	}

	// by openConversationId, back to a plain member
	if err := e.svc.SetSubAdmins(bg, c, service.GroupRef{OpenID: g.OpenConversationID}, []string{"zhangsan"}, ding.RoleMember); err != nil {
		t.Fatalf("SetSubAdmins(open id): %v", err)
	}
	if got, want := e.roles(g.ChatID), map[string]int{"manager4220": 1, "zhangsan": 3, "lisi": 2, "wangwu": 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	evs = e.events()
	wantEvent(t, evs[len(evs)-1], ding.EventChatUpdateSubAdmin, e.stored(g.ChatID), e.nowMs(), map[string]any{"userId": []string{"zhangsan"}, "role": 3})

	// setting a role someone already has, or the owner's, changes nothing
	s := e.snapshot(g.ChatID)
	e.setSubAdmins(c, g.ChatID, []string{"lisi", "manager4220"}, ding.RoleAdmin)
	e.setSubAdmins(c, g.ChatID, []string{"wangwu", "manager4220"}, ding.RoleMember)
	e.unchanged(s, "no-op role changes")

	e.refuseSubAdmins(c, g.ChatID, []string{"ghost"}, ding.RoleAdmin, ding.Invalid, ding.ReasonUnknownUser, "unknown user")
	e.refuseSubAdmins(c, g.ChatID, []string{dingtest.UserID(1)}, ding.RoleAdmin, ding.Invalid, ding.ReasonNotMember, "non-member")
	e.refuseSubAdmins(c, g.ChatID, []string{"wangwu", dingtest.UserID(1)}, ding.RoleAdmin, ding.Invalid, ding.ReasonNotMember, "member and non-member")
	for _, role := range []int{0, ding.RoleOwner, 4} {
		e.refuseSubAdmins(c, g.ChatID, []string{"wangwu"}, role, ding.Invalid, ding.ReasonRole, "bad role")
	}
	e.refuseSubAdmins(c, g.ChatID, nil, ding.RoleAdmin, ding.Invalid, ding.ReasonMissingParam, "no ids")
	e.refuseSubAdmins(c, g.ChatID, userIDs(1, 41), ding.RoleAdmin, ding.Invalid, ding.ReasonTooManyIDs, "41 ids")
	err = e.svc.SetSubAdmins(bg, c, service.GroupRef{}, []string{"wangwu"}, ding.RoleAdmin)
	wantErr(t, err, ding.Invalid, ding.ReasonChatIDMissing, "SetSubAdmins(no group)")
	err = e.svc.SetSubAdmins(bg, c, service.GroupRef{ChatID: "chatnosuch"}, []string{"wangwu"}, ding.RoleAdmin)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "SetSubAdmins(unknown chatid)")
}

func TestSubAdminLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.app()
	g := e.group(userIDs(1, 39)...)
	e.fill(c, g.ChatID, 40, 79)

	e.setSubAdmins(c, g.ChatID, userIDs(1, 40), ding.RoleAdmin)
	e.setSubAdmins(c, g.ChatID, userIDs(41, ding.MaxSubAdmins), ding.RoleAdmin)
	admins := func() int {
		n := 0
		for _, m := range e.members(g.ChatID) {
			if m.Role == ding.RoleAdmin {
				n++
			}
		}
		return n
	}
	if got, want := admins(), ding.MaxSubAdmins; got != want {
		t.Fatalf("admins = %d, want %d", got, want)
	}
	next := dingtest.UserID(ding.MaxSubAdmins + 1)
	e.refuseSubAdmins(c, g.ChatID, []string{next}, ding.RoleAdmin, ding.Invalid, ding.ReasonSubAdminLimit, "one past the cap")
	// re-naming existing admins together with a new one is still one too many
	e.refuseSubAdmins(c, g.ChatID, []string{dingtest.UserID(1), next}, ding.RoleAdmin, ding.Invalid, ding.ReasonSubAdminLimit, "existing admins and one more")

	// a place freed is a place to take
	e.setSubAdmins(c, g.ChatID, userIDs(1, 1), ding.RoleMember)
	e.setSubAdmins(c, g.ChatID, []string{next}, ding.RoleAdmin)
	if got, want := admins(), ding.MaxSubAdmins; got != want {
		t.Fatalf("admins = %d, want %d", got, want)
	}
}
