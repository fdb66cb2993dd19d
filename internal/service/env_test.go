package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

var bg = context.Background()

// env is one service over a fresh seeded store and a clock the test moves.
type env struct {
	t     *testing.T
	st    ding.Store
	clock *dingtest.Clock
	svc   *service.Service
}

// smallUsers is how many numbered users newEnv seeds: enough for every test
// but the ones about the 1000-member cap.
const smallUsers = 120

// smallSeed is the fixture corps, the first with only smallUsers of its
// numbered users.
var smallSeed = dingtest.NewSeedSet(func() []*ding.Org {
	org := dingtest.Org()
	org.Users = org.Users[:len(dingtest.Named)+smallUsers]
	return []*ding.Org{org, dingtest.OtherOrg()}
})

// newEnv seeds smallSeed.
func newEnv(t *testing.T) *env {
	t.Helper()
	return wrap(t, dingtest.OpenStoreSeeded(t, smallSeed))
}

// newFullEnv seeds the whole fixture, as dingtest.Seed does.
func newFullEnv(t *testing.T) *env {
	t.Helper()
	return wrap(t, dingtest.OpenStoreSeeded(t, dingtest.FixtureSeed))
}

func wrap(t *testing.T, st ding.Store) *env {
	clock := dingtest.NewClock()
	return &env{t: t, st: st, clock: clock, svc: service.New(st, clock, &service.SequentialIDs{})}
}

// sharedStore returns a function that opens one more handle on one empty
// database, as each node (or a restarted one) does; each closed at cleanup.
func sharedStore(t *testing.T) func() ding.Store {
	var open func() (ding.Store, error)
	if dingtest.Postgres(t) {
		url := dingtest.ClaimSchema(t, 4)
		open = func() (ding.Store, error) { return postgres.Open(bg, url) }
	} else {
		path := filepath.Join(t.TempDir(), "dingchat.db")
		open = func() (ding.Store, error) { return sqlite.Open(path) }
	}
	return func() ding.Store {
		t.Helper()
		st, err := open()
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// caller signs in as an app of the fixture.
func (e *env) caller(key, secret string) *service.Caller {
	e.t.Helper()
	tok, err := e.svc.IssueToken(bg, key, secret)
	if err != nil {
		e.t.Fatalf("IssueToken(%s): %v", key, err)
	}
	c, err := e.svc.Authenticate(bg, tok.Value)
	if err != nil {
		e.t.Fatalf("Authenticate(%s): %v", key, err)
	}
	return c
}

func (e *env) app() *service.Caller { return e.caller(dingtest.AppKey, dingtest.AppSecret) }
func (e *env) ordinaryApp() *service.Caller {
	return e.caller(dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
}
func (e *env) narrowApp() *service.Caller {
	return e.caller(dingtest.NarrowAppKey, dingtest.NarrowAppSecret)
}
func (e *env) readOnlyApp() *service.Caller {
	return e.caller(dingtest.ReadOnlyAppKey, dingtest.ReadOnlyAppSecret)
}
func (e *env) otherApp() *service.Caller {
	return e.caller(dingtest.OtherAppKey, dingtest.OtherAppSecret)
}

func (e *env) create(c *service.Caller, in service.CreateGroupInput) *ding.Group {
	e.t.Helper()
	g, err := e.svc.CreateGroup(bg, c, in)
	if err != nil {
		e.t.Fatalf("CreateGroup(%q): %v", in.Name, err)
	}
	return g
}

// group creates an internal group owned by manager4220 with the given members.
func (e *env) group(members ...string) *ding.Group {
	e.t.Helper()
	return e.create(e.app(), service.CreateGroupInput{Name: "测试群", Owner: "manager4220", UserIDs: append([]string{"manager4220"}, members...)})
}

func (e *env) update(c *service.Caller, in service.UpdateGroupInput) *ding.Group {
	e.t.Helper()
	g, err := e.svc.UpdateGroup(bg, c, in)
	if err != nil {
		e.t.Fatalf("UpdateGroup(%s): %v", in.ChatID, err)
	}
	return g
}

func (e *env) stored(chatID string) ding.Group {
	e.t.Helper()
	g, err := e.st.Group(bg, dingtest.CorpID, chatID)
	if err != nil {
		e.t.Fatalf("Group(%s): %v", chatID, err)
	}
	return *g
}

func (e *env) members(chatID string) []ding.Member {
	e.t.Helper()
	ms, err := e.st.Members(bg, chatID)
	if err != nil {
		e.t.Fatalf("Members(%s): %v", chatID, err)
	}
	return ms
}

// roles maps each member id to its role.
func (e *env) roles(chatID string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, m := range e.members(chatID) {
		out[m.ID] = m.Role
	}
	return out
}

// events reads the fixture corp's whole event log.
func (e *env) events() []ding.Event {
	e.t.Helper()
	evs, err := e.st.Events(bg, dingtest.CorpID, 0, 100000)
	if err != nil {
		e.t.Fatalf("Events: %v", err)
	}
	return evs
}

// snapshot is everything a refused call must leave as it was.
type snapshot struct {
	group   ding.Group
	members []ding.Member
	events  int
}

func (e *env) snapshot(chatID string) snapshot {
	e.t.Helper()
	return snapshot{e.stored(chatID), e.members(chatID), len(e.events())}
}

// unchanged fails unless the group, its members and the event log are as in s.
func (e *env) unchanged(s snapshot, what string) {
	e.t.Helper()
	if got := e.stored(s.group.ChatID); got != s.group {
		e.t.Fatalf("%s: group = %+v, want unchanged %+v", what, got, s.group)
	}
	if got := e.members(s.group.ChatID); !reflect.DeepEqual(got, s.members) {
		e.t.Fatalf("%s: members changed: %d members, want %d", what, len(got), len(s.members))
	}
	if got, want := len(e.events()), s.events; got != want {
		e.t.Fatalf("%s: %d events, want unchanged %d", what, got, want)
	}
}

// wantErr fails unless err has kind and reason.
func wantErr(t *testing.T, err error, kind ding.Kind, reason ding.Reason, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err = nil, want %v/%s", what, kind, reason)
	}
	if got, want := ding.ErrorKind(err), kind; got != want {
		t.Fatalf("%s: kind = %v, want %v (err: %v)", what, got, want, err)
	}
	if got, want := ding.ErrorReason(err), reason; got != want {
		t.Fatalf("%s: reason = %q, want %q (err: %v)", what, got, want, err)
	}
}

// eventData decodes an event's business fields.
func eventData(t *testing.T, e ding.Event) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("event %d data %q: %v", e.Seq, e.Data, err)
	}
	return d
}

// wantEvent checks an event's envelope and the listed data fields (compared
// in their JSON form).
func wantEvent(t *testing.T, e ding.Event, typ string, g ding.Group, at int64, fields map[string]any) {
	t.Helper()
	if e.Type != typ || e.CorpID != g.CorpID || e.ChatID != g.ChatID || e.OpenConversationID != g.OpenConversationID ||
		e.Operator != g.Owner || e.CreatedAt != at {
		t.Fatalf("event %d = {%s %s %s %s op=%s at=%d}, want {%s %s %s %s op=%s at=%d}", e.Seq,
			e.Type, e.CorpID, e.ChatID, e.OpenConversationID, e.Operator, e.CreatedAt,
			typ, g.CorpID, g.ChatID, g.OpenConversationID, g.Owner, at)
	}
	d := eventData(t, e)
	for k, want := range fields {
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(d[k])
		if string(gb) != string(wb) {
			t.Fatalf("event %d (%s) %s = %s, want %s", e.Seq, typ, k, gb, wb)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// userIDs returns dingtest.UserID(from) … dingtest.UserID(to).
func userIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, dingtest.UserID(i))
	}
	return out
}

// extIDs returns dingtest.ExtID(from) … dingtest.ExtID(to).
func extIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, dingtest.ExtID(i))
	}
	return out
}

func cjk(n int) string {
	r := []rune("一二三四五六七八九十")
	s := make([]rune, n)
	for i := range s {
		s[i] = r[i%len(r)]
	}
	return string(s)
}

func (e *env) nowMs() int64 { return e.clock.Now().UnixMilli() }

func ids(ms []ding.Member) string { return fmt.Sprint(memberIDList(ms)) }

func memberIDList(ms []ding.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
