package sqlite_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

func suiteStore(t *testing.T) ding.Store {
	t.Helper()
	st := dingtest.OpenStore(t)
	dingtest.Seed(t, st)
	dingtest.SeedSuites(t, st)
	return st
}

// bindGroup is a group of the fixture corp to bind apps to.
func bindGroup(t *testing.T, st ding.Store) *ding.Group {
	t.Helper()
	const now = 1767225600000
	g := &ding.Group{ChatID: "chatbind", OpenConversationID: "cidbind", CorpID: dingtest.CorpID, Name: "绑定群",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: now, UpdatedAt: now}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: now}}
	if err := st.CreateGroup(context.Background(), g, ms, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func TestSuitesApplied(t *testing.T) {
	ctx := context.Background()
	st := suiteStore(t)

	s, err := st.Suite(ctx, dingtest.SuiteKey)
	if err != nil {
		t.Fatalf("Suite: %v", err)
	}
	if want := (ding.Suite{Key: dingtest.SuiteKey, Secret: dingtest.SuiteSecret, Ticket: dingtest.SuiteTicket, Name: "ISV应用1", CreatedAt: 1767225600000}); *s != want {
		t.Fatalf("Suite = %+v, want %+v", *s, want)
	}
	if c, err := st.Suite(ctx, dingtest.CustomSuiteKey); err != nil || !c.Custom || c.Ticket != "" {
		t.Fatalf("custom suite = %+v, %v; want Custom without a ticket", c, err)
	}
	if _, err := st.Suite(ctx, "suitenosuch"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("Suite(unknown) err = %v, want NotFound", err)
	}

	a, err := st.SuiteAuth(ctx, dingtest.SuiteKey, dingtest.OtherCorpID)
	if err != nil {
		t.Fatalf("SuiteAuth: %v", err)
	}
	want := ding.SuiteAuth{SuiteKey: dingtest.SuiteKey, CorpID: dingtest.OtherCorpID, PermanentCode: dingtest.SuiteOtherPermanentCode,
		AgentID: dingtest.SuiteOtherAgentID, Scopes: ding.DefaultScopes, CreatedAt: 1767225600000}
	if !reflect.DeepEqual(*a, want) {
		t.Fatalf("SuiteAuth = %+v, want %+v", *a, want)
	}
	if _, err := st.SuiteAuth(ctx, dingtest.LoneSuiteKey, dingtest.CorpID); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("SuiteAuth(not authorised) err = %v, want NotFound", err)
	}

	// the authorisation's app: of the corp, visible to all, carrying the suite, no secret
	app, err := st.App(ctx, ding.SuiteAppKey(dingtest.SuiteKey, dingtest.CorpID))
	if err != nil {
		t.Fatalf("App: %v", err)
	}
	if app.CorpID != dingtest.CorpID || app.SuiteKey != dingtest.SuiteKey || app.AgentID != dingtest.SuiteAgentID ||
		app.Secret != "" || !app.VisibleAll || app.Name != "ISV应用1" || !reflect.DeepEqual(app.Scopes, ding.DefaultScopes) {
		t.Fatalf("suite app = %+v", app)
	}
	if internal, err := st.App(ctx, dingtest.AppKey); err != nil || internal.SuiteKey != "" {
		t.Fatalf("internal app = %+v, %v; want no suite key", internal, err)
	}

	// applying again changes nothing; a suite declared without a ticket keeps its own
	minted, err := st.EnsureSuiteTicket(ctx, dingtest.CustomSuiteKey, "minted-ticket")
	if err != nil || minted != "minted-ticket" {
		t.Fatalf("EnsureSuiteTicket = %q, %v", minted, err)
	}
	dingtest.SeedSuites(t, st)
	if c, _ := st.Suite(ctx, dingtest.CustomSuiteKey); c.Ticket != "minted-ticket" {
		t.Fatalf("re-applied custom suite's ticket = %q, want the minted one", c.Ticket)
	}
	apps, err := st.AppsByCorp(ctx, dingtest.OtherCorpID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("other corp's apps = %+v, %v; want its own and suite 1's", apps, err)
	}
}

func TestEnsureSuiteTicket(t *testing.T) {
	ctx := context.Background()
	st := suiteStore(t)
	if got, err := st.EnsureSuiteTicket(ctx, dingtest.SuiteKey, "fresh"); err != nil || got != dingtest.SuiteTicket {
		t.Fatalf("EnsureSuiteTicket(declared) = %q, %v; want the declared ticket", got, err)
	}
	if got, err := st.EnsureSuiteTicket(ctx, dingtest.CustomSuiteKey, "fresh"); err != nil || got != "fresh" {
		t.Fatalf("EnsureSuiteTicket(none) = %q, %v; want fresh", got, err)
	}
	if got, err := st.EnsureSuiteTicket(ctx, dingtest.CustomSuiteKey, "fresher"); err != nil || got != "fresh" {
		t.Fatalf("EnsureSuiteTicket(again) = %q, %v; want the first", got, err)
	}
	if _, err := st.EnsureSuiteTicket(ctx, "suitenosuch", "x"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("EnsureSuiteTicket(unknown) err = %v, want NotFound", err)
	}
}

func TestSuiteTokens(t *testing.T) {
	ctx := context.Background()
	st := suiteStore(t)
	const now = 1767225600000
	ttl := int64(ding.TokenTTL * 1000)
	first, err := st.IssueSuiteToken(ctx, ding.SuiteToken{Hash: "suite-token-1", SuiteKey: dingtest.SuiteKey, CreatedAt: now, ExpiresAt: now + ttl}, now)
	if err != nil || first.Hash != "suite-token-1" {
		t.Fatalf("IssueSuiteToken = %+v, %v", first, err)
	}
	// within validity: the same token, renewed
	again, err := st.IssueSuiteToken(ctx, ding.SuiteToken{Hash: "suite-token-2", SuiteKey: dingtest.SuiteKey, CreatedAt: now + 5, ExpiresAt: now + 5 + ttl}, now+5)
	if err != nil || again.Hash != "suite-token-1" || again.ExpiresAt != now+5+ttl || again.CreatedAt != now {
		t.Fatalf("IssueSuiteToken(again) = %+v, %v; want suite-token-1 renewed", again, err)
	}
	// after expiry: a new one
	later := now + 5 + ttl
	fresh, err := st.IssueSuiteToken(ctx, ding.SuiteToken{Hash: "suite-token-3", SuiteKey: dingtest.SuiteKey, CreatedAt: later, ExpiresAt: later + ttl}, later)
	if err != nil || fresh.Hash != "suite-token-3" {
		t.Fatalf("IssueSuiteToken(after expiry) = %+v, %v", fresh, err)
	}
	got, err := st.SuiteToken(ctx, "suite-token-1")
	if err != nil || got.SuiteKey != dingtest.SuiteKey || got.ExpiresAt != now+5+ttl {
		t.Fatalf("SuiteToken = %+v, %v", got, err)
	}
	if _, err := st.SuiteToken(ctx, "suite-token-2"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("SuiteToken(never issued) err = %v, want NotFound", err)
	}
	// a suite token is no access token
	if _, err := st.Token(ctx, "suite-token-1"); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("Token(suite token) err = %v, want NotFound", err)
	}
}

func TestAddTokenKeepsOthers(t *testing.T) {
	ctx := context.Background()
	st := suiteStore(t)
	const now = 1767225600000
	key := ding.SuiteAppKey(dingtest.SuiteKey, dingtest.CorpID)
	for _, v := range []string{"corp-token-1", "corp-token-2"} {
		if err := st.AddToken(ctx, ding.Token{Hash: v, AppKey: key, CorpID: dingtest.CorpID, CreatedAt: now, ExpiresAt: now + 1000}, now); err != nil {
			t.Fatalf("AddToken(%s): %v", v, err)
		}
	}
	for _, v := range []string{"corp-token-1", "corp-token-2"} {
		if tok, err := st.Token(ctx, v); err != nil || tok.AppKey != key {
			t.Fatalf("Token(%s) = %+v, %v", v, tok, err)
		}
	}
	if err := st.AddToken(ctx, ding.Token{Hash: "corp-token-1", AppKey: key, CorpID: dingtest.CorpID, CreatedAt: now, ExpiresAt: now + 1000}, now); !ding.IsKind(err, ding.Conflict) {
		t.Fatalf("AddToken(taken value) err = %v, want Conflict", err)
	}
}

func TestUpdateChatApps(t *testing.T) {
	ctx := context.Background()
	st := suiteStore(t)
	g := bindGroup(t, st)
	bind := func(i int, at int64) error {
		return st.UpdateChatApps(ctx, dingtest.CorpID, g.ChatID, func(s *ding.ChatAppState) (*ding.ChatAppChange, error) {
			return &ding.ChatAppChange{Bind: []ding.ChatApp{{ChatID: g.ChatID, AgentID: dingtest.SuiteAgentIDN(i), SuiteKey: dingtest.SuiteKeyN(i), BoundAt: at}},
				Events: []ding.Event{{CorpID: dingtest.CorpID, Type: ding.EventChatBindMicroapp, ChatID: g.ChatID, CreatedAt: at}}}, nil
		})
	}
	for i, at := range []int64{3, 1, 2} { // order is binding order, whatever the clock says
		if err := bind(i+1, at); err != nil {
			t.Fatalf("bind %d: %v", i+1, err)
		}
	}
	apps, err := st.ChatApps(ctx, g.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, b := range apps {
		got = append(got, b.AgentID)
		if b.CorpID != dingtest.CorpID || b.ChatID != g.ChatID {
			t.Fatalf("bound app = %+v", b)
		}
	}
	if want := []int64{dingtest.SuiteAgentIDN(1), dingtest.SuiteAgentIDN(2), dingtest.SuiteAgentIDN(3)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("agents = %v, want %v", got, want)
	}
	// decide sees them; its error changes nothing
	boom := errors.New("boom")
	err = st.UpdateChatApps(ctx, dingtest.CorpID, g.ChatID, func(s *ding.ChatAppState) (*ding.ChatAppChange, error) {
		if len(s.Apps) != 3 || s.Group.ChatID != g.ChatID {
			t.Errorf("state = %+v", s)
		}
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("decide error = %v, want boom", err)
	}
	// the same suite twice breaks the unique index
	if err := bind(1, 9); !ding.IsKind(err, ding.Conflict) {
		t.Fatalf("second binding of suite 1 err = %v, want Conflict", err)
	}
	// unbind and disband in one change
	err = st.UpdateChatApps(ctx, dingtest.CorpID, g.ChatID, func(s *ding.ChatAppState) (*ding.ChatAppChange, error) {
		return &ding.ChatAppChange{Unbind: []ding.ChatApp{{ChatID: g.ChatID, AgentID: dingtest.SuiteAgentIDN(2)}}, Status: ding.StatusDisbanded, UpdatedAt: 77,
			Events: []ding.Event{{CorpID: dingtest.CorpID, Type: ding.EventChatDisband, ChatID: g.ChatID, CreatedAt: 77}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	apps, _ = st.ChatApps(ctx, g.ChatID)
	if len(apps) != 2 || apps[0].AgentID != dingtest.SuiteAgentIDN(1) || apps[1].AgentID != dingtest.SuiteAgentIDN(3) {
		t.Fatalf("after unbind: %+v", apps)
	}
	ng, _ := st.Group(ctx, dingtest.CorpID, g.ChatID)
	if ng.Status != ding.StatusDisbanded || ng.UpdatedAt != 77 || ng.Name != g.Name || ng.MemberCount != 1 {
		t.Fatalf("group after disband = %+v", ng)
	}
	evs, _ := st.Events(ctx, dingtest.CorpID, 0, 100)
	if len(evs) != 4 || evs[3].Type != ding.EventChatDisband {
		t.Fatalf("events = %+v", evs)
	}
	// another corp's group and an unknown one are NotFound
	for _, corp := range []string{dingtest.OtherCorpID, dingtest.CorpID} {
		id := g.ChatID
		if corp == dingtest.CorpID {
			id = "chatnosuch"
		}
		err := st.UpdateChatApps(ctx, corp, id, func(*ding.ChatAppState) (*ding.ChatAppChange, error) { return nil, nil })
		if !ding.IsKind(err, ding.NotFound) {
			t.Fatalf("UpdateChatApps(%s, %s) err = %v, want NotFound", corp, id, err)
		}
	}
	if apps, err := st.ChatApps(ctx, "chatnosuch"); err != nil || apps == nil || len(apps) != 0 {
		t.Fatalf("ChatApps(unknown) = %v, %v; want an empty list", apps, err)
	}
}
