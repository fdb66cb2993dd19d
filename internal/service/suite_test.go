package service_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// The signature vector, computed apart from this code:
//
//	printf '1767225600000\ntest-suite-ticket-0001' | openssl dgst -sha256 -hmac 'test-suite-secret-0001' -binary | base64
const (
	vectorTimestamp = "1767225600000" // dingtest.NewClock's instant
	vectorSignature = "SaXwS+i0597iE8AeSEu/LEI0QNDK87arso72lWuPNXw="
)

func newSuiteEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	dingtest.SeedSuites(t, e.st)
	return e
}

func suiteCreds(i int) service.SuiteCredentials {
	return service.SuiteCredentials{Key: dingtest.SuiteKeyN(i), Secret: dingtest.SuiteSecretN(i), Ticket: dingtest.SuiteTicketN(i)}
}

// isv signs in as suite i's app in the fixture corp, through the signed get_corp_token.
func (e *env) isv(i int) *service.Caller {
	e.t.Helper()
	return e.isvIn(i, dingtest.CorpID)
}

func (e *env) isvIn(i int, corp string) *service.Caller {
	e.t.Helper()
	ts := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	q := service.SignedQuery{AccessKey: dingtest.SuiteKeyN(i), Timestamp: ts, SuiteTicket: dingtest.SuiteTicketN(i),
		Signature: service.SuiteSignature(dingtest.SuiteSecretN(i), ts, dingtest.SuiteTicketN(i))}
	tok, err := e.svc.IssueCorpTokenSigned(bg, q, corp)
	if err != nil {
		e.t.Fatalf("IssueCorpTokenSigned(suite %d, %s): %v", i, corp, err)
	}
	c, err := e.svc.Authenticate(bg, tok.Value)
	if err != nil {
		e.t.Fatalf("Authenticate(suite %d): %v", i, err)
	}
	return c
}

func agent(i int) string { return strconv.FormatInt(dingtest.SuiteAgentIDN(i), 10) }

func TestSuiteSignatureVector(t *testing.T) {
	if got := service.SuiteSignature(dingtest.SuiteSecret, vectorTimestamp, dingtest.SuiteTicket); got != vectorSignature {
		t.Fatalf("SuiteSignature = %q, want %q", got, vectorSignature)
	}
}

func TestIssueSuiteToken(t *testing.T) {
	e := newSuiteEnv(t)
	ok := suiteCreds(1)
	for _, tc := range []struct {
		name   string
		in     service.SuiteCredentials
		kind   ding.Kind
		reason ding.Reason
	}{
		{"no key", service.SuiteCredentials{Secret: ok.Secret, Ticket: ok.Ticket}, ding.Invalid, ding.ReasonSuiteKeyMissing},
		{"no secret", service.SuiteCredentials{Key: ok.Key, Ticket: ok.Ticket}, ding.Invalid, ding.ReasonSuiteSecretMissing},
		{"no ticket", service.SuiteCredentials{Key: ok.Key, Secret: ok.Secret}, ding.Invalid, ding.ReasonSuiteTicketMissing},
		{"unknown key", service.SuiteCredentials{Key: "suitenosuch", Secret: ok.Secret, Ticket: ok.Ticket}, ding.Unauthenticated, ding.ReasonSuiteKeyUnknown},
		{"another suite's secret", service.SuiteCredentials{Key: ok.Key, Secret: dingtest.SuiteSecretN(2), Ticket: ok.Ticket}, ding.Unauthenticated, ding.ReasonSuiteSecretWrong},
		{"another suite's ticket", service.SuiteCredentials{Key: ok.Key, Secret: ok.Secret, Ticket: dingtest.SuiteTicketN(2)}, ding.Unauthenticated, ding.ReasonSuiteTicketInvalid},
		{"an app's credentials", service.SuiteCredentials{Key: dingtest.AppKey, Secret: dingtest.AppSecret, Ticket: "x"}, ding.Unauthenticated, ding.ReasonSuiteKeyUnknown},
	} {
		_, err := e.svc.IssueSuiteToken(bg, tc.in)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}

	first, err := e.svc.IssueSuiteToken(bg, ok)
	if err != nil {
		t.Fatal(err)
	}
	if first.SuiteKey != ok.Key || first.ExpiresAt-first.CreatedAt != ding.TokenTTL*1000 {
		t.Fatalf("suite token = %+v", first)
	}
	// within validity the same token comes back renewed (unconfirmed for suites)
	e.clock.Advance(time.Hour)
	again, err := e.svc.IssueSuiteToken(bg, ok)
	if err != nil || again.Value != first.Value || again.ExpiresAt != e.clock.Now().UnixMilli()+ding.TokenTTL*1000 {
		t.Fatalf("again = %+v, %v; want %s renewed", again, err, first.Value)
	}
	// a suite no corp authorised still gets its suite token
	if _, err := e.svc.IssueSuiteToken(bg, service.SuiteCredentials{Key: dingtest.LoneSuiteKey, Secret: dingtest.LoneSuiteSecret, Ticket: dingtest.LoneSuiteTicket}); err != nil {
		t.Fatalf("lone suite: %v", err)
	}
	// a custom app passes any ticket, even with none declared
	if _, err := e.svc.IssueSuiteToken(bg, service.SuiteCredentials{Key: dingtest.CustomSuiteKey, Secret: dingtest.CustomSuiteSecret, Ticket: "whatever"}); err != nil {
		t.Fatalf("custom suite: %v", err)
	}
	// a suite token is no access token
	_, err = e.svc.Authenticate(bg, first.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenInvalid, "suite token as access token")
}

func TestSuiteTicketMintedOnce(t *testing.T) {
	e := newSuiteEnv(t)
	got, err := e.svc.SuiteTicket(bg, dingtest.SuiteKey)
	if err != nil || got != dingtest.SuiteTicket {
		t.Fatalf("SuiteTicket(declared) = %q, %v", got, err)
	}
	// a suite declared without one: refused until one is minted, then stable and accepted
	if err := e.st.ApplyOrg(bg, &ding.Org{Corp: dingtest.Org().Corp, Suites: []ding.Suite{{Key: "suitenoticket", Secret: "s", Name: "无票据"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.IssueSuiteToken(bg, service.SuiteCredentials{Key: "suitenoticket", Secret: "s", Ticket: "guess"})
	wantErr(t, err, ding.Unauthenticated, ding.ReasonSuiteTicketInvalid, "before a ticket exists")
	minted, err := e.svc.SuiteTicket(bg, "suitenoticket")
	if err != nil || len(minted) != 32 {
		t.Fatalf("SuiteTicket(minted) = %q, %v", minted, err)
	}
	if again, _ := e.svc.SuiteTicket(bg, "suitenoticket"); again != minted {
		t.Fatalf("SuiteTicket(again) = %q, want %q", again, minted)
	}
	if _, err := e.svc.IssueSuiteToken(bg, service.SuiteCredentials{Key: "suitenoticket", Secret: "s", Ticket: minted}); err != nil {
		t.Fatalf("minted ticket refused: %v", err)
	}
	_, err = e.svc.SuiteTicket(bg, "suitenosuch")
	wantErr(t, err, ding.NotFound, ding.ReasonSuiteKeyUnknown, "unknown suite")
	_, err = e.svc.SuiteTicket(bg, "")
	wantErr(t, err, ding.Invalid, ding.ReasonSuiteKeyMissing, "no suite key")
}

func TestCorpTokenBySuiteToken(t *testing.T) {
	e := newSuiteEnv(t)
	st, err := e.svc.IssueSuiteToken(bg, suiteCreds(1))
	if err != nil {
		t.Fatal(err)
	}
	appTok, _ := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	for _, tc := range []struct {
		name, token, corp, code string
		kind                    ding.Kind
		reason                  ding.Reason
	}{
		{"no suite token", "", dingtest.CorpID, dingtest.SuitePermanentCode, ding.Unauthenticated, ding.ReasonSuiteTokenMissing},
		{"unknown suite token", "nosuchtoken", dingtest.CorpID, dingtest.SuitePermanentCode, ding.Unauthenticated, ding.ReasonSuiteTokenInvalid},
		{"an access token", appTok.Value, dingtest.CorpID, dingtest.SuitePermanentCode, ding.Unauthenticated, ding.ReasonSuiteTokenInvalid},
		{"no corp", st.Value, "", dingtest.SuitePermanentCode, ding.Invalid, ding.ReasonAuthCorpMissing},
		{"no permanent code", st.Value, dingtest.CorpID, "", ding.Invalid, ding.ReasonPermanentCodeMissing},
		{"another corp's code", st.Value, dingtest.CorpID, dingtest.SuiteOtherPermanentCode, ding.Unauthenticated, ding.ReasonPermanentCodeInvalid},
		{"corp that did not authorise", st.Value, "dingnosuchcorp", dingtest.SuitePermanentCode, ding.Forbidden, ding.ReasonSuiteNotAuthorized},
	} {
		_, err := e.svc.IssueCorpTokenBySuiteToken(bg, tc.token, tc.corp, tc.code)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}

	// every call mints a new token; the earlier ones stay valid
	t1, err := e.svc.IssueCorpTokenBySuiteToken(bg, st.Value, dingtest.CorpID, dingtest.SuitePermanentCode)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := e.svc.IssueCorpTokenBySuiteToken(bg, st.Value, dingtest.CorpID, dingtest.SuitePermanentCode)
	if err != nil || t2.Value == t1.Value {
		t.Fatalf("second corp token = %+v, %v; want a new one", t2, err)
	}
	for _, tok := range []*ding.Token{t1, t2} {
		c, err := e.svc.Authenticate(bg, tok.Value)
		if err != nil {
			t.Fatalf("Authenticate(%s): %v", tok.Value, err)
		}
		if c.App.SuiteKey != dingtest.SuiteKey || c.CorpID() != dingtest.CorpID || c.App.AgentID != dingtest.SuiteAgentID {
			t.Fatalf("caller = %+v", c.App)
		}
	}
	// the other corp's authorisation gives the other corp's app
	t3, err := e.svc.IssueCorpTokenBySuiteToken(bg, st.Value, dingtest.OtherCorpID, dingtest.SuiteOtherPermanentCode)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := e.svc.Authenticate(bg, t3.Value); c == nil || c.CorpID() != dingtest.OtherCorpID || c.App.AgentID != dingtest.SuiteOtherAgentID {
		t.Fatalf("other corp caller = %+v", c)
	}
	// an expired suite token
	e.clock.Advance(ding.TokenTTL * time.Second)
	_, err = e.svc.IssueCorpTokenBySuiteToken(bg, st.Value, dingtest.CorpID, dingtest.SuitePermanentCode)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonSuiteTokenExpired, "expired suite token")
	// and the corp tokens expire like any other
	_, err = e.svc.Authenticate(bg, t1.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "expired corp token")
}

func TestCorpTokenSigned(t *testing.T) {
	e := newSuiteEnv(t)
	now := e.clock.Now().UnixMilli()
	sign := func(secret string, ts int64, ticket string) service.SignedQuery {
		s := strconv.FormatInt(ts, 10)
		return service.SignedQuery{AccessKey: dingtest.SuiteKey, Timestamp: s, SuiteTicket: ticket, Signature: service.SuiteSignature(secret, s, ticket)}
	}
	good := sign(dingtest.SuiteSecret, now, dingtest.SuiteTicket)
	if good.Signature != vectorSignature {
		t.Fatalf("the fixture no longer signs the vector: %q", good.Signature)
	}
	with := func(f func(q *service.SignedQuery)) service.SignedQuery { q := good; f(&q); return q }
	for _, tc := range []struct {
		name   string
		q      service.SignedQuery
		corp   string
		kind   ding.Kind
		reason ding.Reason
	}{
		{"timestamp not a number", with(func(q *service.SignedQuery) { q.Timestamp = "now" }), dingtest.CorpID, ding.Invalid, ding.ReasonTimestampFormat},
		{"timestamp missing", with(func(q *service.SignedQuery) { q.Timestamp = "" }), dingtest.CorpID, ding.Invalid, ding.ReasonTimestampFormat},
		{"timestamp in seconds", sign(dingtest.SuiteSecret, now/1000, dingtest.SuiteTicket), dingtest.CorpID, ding.Unauthenticated, ding.ReasonTimestampSkew},
		{"timestamp 60001 ms early", sign(dingtest.SuiteSecret, now-60001, dingtest.SuiteTicket), dingtest.CorpID, ding.Unauthenticated, ding.ReasonTimestampSkew},
		{"timestamp 60001 ms late", sign(dingtest.SuiteSecret, now+60001, dingtest.SuiteTicket), dingtest.CorpID, ding.Unauthenticated, ding.ReasonTimestampSkew},
		{"unknown accessKey", with(func(q *service.SignedQuery) { q.AccessKey = "suitenosuch" }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonAccessKeyInvalid},
		{"no accessKey", with(func(q *service.SignedQuery) { q.AccessKey = "" }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonAccessKeyInvalid},
		{"an app key", with(func(q *service.SignedQuery) { q.AccessKey = dingtest.AppKey }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonAccessKeyInvalid},
		{"signed with another secret", sign(dingtest.SuiteSecretN(2), now, dingtest.SuiteTicket), dingtest.CorpID, ding.Unauthenticated, ding.ReasonSignatureInvalid},
		{"signature not URL-decoded", with(func(q *service.SignedQuery) { q.Signature = "SaXwS%2Bi0597iE8AeSEu%2FLEI0QNDK87arso72lWuPNXw%3D" }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonSignatureInvalid},
		{"plus sent raw, read as a space", with(func(q *service.SignedQuery) { q.Signature = "SaXwS i0597iE8AeSEu/LEI0QNDK87arso72lWuPNXw=" }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonSignatureInvalid},
		{"ticket changed after signing", with(func(q *service.SignedQuery) { q.SuiteTicket = "other" }), dingtest.CorpID, ding.Unauthenticated, ding.ReasonSignatureInvalid},
		{"signed stale ticket", sign(dingtest.SuiteSecret, now, "stale-ticket"), dingtest.CorpID, ding.Unauthenticated, ding.ReasonSuiteTicketInvalid},
		{"no corp", good, "", ding.Invalid, ding.ReasonAuthCorpMissing},
		{"corp that did not authorise", good, "dingnosuchcorp", ding.Forbidden, ding.ReasonSuiteNotAuthorized},
	} {
		_, err := e.svc.IssueCorpTokenSigned(bg, tc.q, tc.corp)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}
	// exactly a minute either way passes
	for _, ts := range []int64{now - 60000, now + 60000} {
		if _, err := e.svc.IssueCorpTokenSigned(bg, sign(dingtest.SuiteSecret, ts, dingtest.SuiteTicket), dingtest.CorpID); err != nil {
			t.Fatalf("timestamp %d ms off: %v", ts-now, err)
		}
	}
	// a custom app signs whatever ticket it likes
	cq := service.SignedQuery{AccessKey: dingtest.CustomSuiteKey, Timestamp: vectorTimestamp, SuiteTicket: "any-ticket",
		Signature: service.SuiteSignature(dingtest.CustomSuiteSecret, vectorTimestamp, "any-ticket")}
	if cq.Signature != "flArbnZumrHjVU7bcz/Tp6R2O8eyl0sYcazpfPMu9Bs=" { // openssl, as above
		t.Fatalf("custom signature = %q", cq.Signature)
	}
	tok, err := e.svc.IssueCorpTokenSigned(bg, cq, dingtest.CorpID)
	if err != nil {
		t.Fatalf("custom app: %v", err)
	}
	if c, err := e.svc.Authenticate(bg, tok.Value); err != nil || c.App.SuiteKey != dingtest.CustomSuiteKey || c.App.AgentID != dingtest.CustomSuiteAgentID {
		t.Fatalf("custom caller = %+v, %v", c, err)
	}
}

func TestCorpTokenV1(t *testing.T) {
	e := newSuiteEnv(t)
	ok := suiteCreds(1)
	for _, tc := range []struct {
		name   string
		in     service.SuiteCredentials
		corp   string
		kind   ding.Kind
		reason ding.Reason
	}{
		{"nothing", service.SuiteCredentials{}, "", ding.Invalid, ding.ReasonSuiteKeyMissing},
		{"no secret", service.SuiteCredentials{Key: ok.Key}, "", ding.Invalid, ding.ReasonSuiteSecretMissing},
		{"no corp, no ticket", service.SuiteCredentials{Key: ok.Key, Secret: ok.Secret}, "", ding.Invalid, ding.ReasonAuthCorpMissing},
		{"no ticket", service.SuiteCredentials{Key: ok.Key, Secret: ok.Secret}, dingtest.CorpID, ding.Invalid, ding.ReasonSuiteTicketMissing},
		{"unknown key", service.SuiteCredentials{Key: "suitenosuch", Secret: ok.Secret, Ticket: ok.Ticket}, dingtest.CorpID, ding.Unauthenticated, ding.ReasonSuiteKeyUnknown},
		{"bad secret", service.SuiteCredentials{Key: ok.Key, Secret: "wrong", Ticket: ok.Ticket}, dingtest.CorpID, ding.Unauthenticated, ding.ReasonSuiteSecretWrong},
		{"bad ticket", service.SuiteCredentials{Key: ok.Key, Secret: ok.Secret, Ticket: "wrong"}, dingtest.CorpID, ding.Unauthenticated, ding.ReasonSuiteTicketInvalid},
		{"lone suite", service.SuiteCredentials{Key: dingtest.LoneSuiteKey, Secret: dingtest.LoneSuiteSecret, Ticket: dingtest.LoneSuiteTicket}, dingtest.CorpID, ding.Forbidden, ding.ReasonSuiteNotAuthorized},
	} {
		_, err := e.svc.IssueCorpToken(bg, tc.in, tc.corp)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}
	t1, err := e.svc.IssueCorpToken(bg, ok, dingtest.CorpID)
	if err != nil {
		t.Fatal(err)
	}
	t2, _ := e.svc.IssueCorpToken(bg, ok, dingtest.CorpID)
	if t2 == nil || t2.Value == t1.Value {
		t.Fatalf("second token = %+v; want a new one", t2)
	}
	if _, err := e.svc.Authenticate(bg, t1.Value); err != nil {
		t.Fatalf("first token after the second: %v", err)
	}
}

func TestSuiteAppSeesOnlyItsCorp(t *testing.T) {
	e := newSuiteEnv(t)
	g := e.group("zhangsan")
	other := e.create(e.otherApp(), service.CreateGroupInput{Name: "他司群", Owner: "manager4220", UserIDs: []string{"manager4220", "zhaoliu"}})
	c := e.isv(1)
	if v, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: g.ChatID}); err != nil || v.Group.ChatID != g.ChatID {
		t.Fatalf("GetGroup(own corp) = %+v, %v", v, err)
	}
	_, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: other.ChatID})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "other corp's group")
	// and it can create groups in its corp like any app
	if _, err := e.svc.CreateGroup(bg, c, service.CreateGroupInput{Name: "ISV群", Owner: "lisi", UserIDs: []string{"lisi"}}); err != nil {
		t.Fatalf("CreateGroup as ISV: %v", err)
	}
	// the same suite in the other corp sees the other group only
	oc := e.isvIn(1, dingtest.OtherCorpID)
	if _, err := e.svc.GetGroup(bg, oc, service.GroupRef{ChatID: other.ChatID}); err != nil {
		t.Fatalf("GetGroup(other corp as its ISV): %v", err)
	}
	// an ISV app mints no internal token
	_, err = e.svc.IssueToken(bg, ding.SuiteAppKey(dingtest.SuiteKey, dingtest.CorpID), "")
	wantErr(t, err, ding.Invalid, ding.ReasonAppSecretMissing, "gettoken with the suite app's key and no secret")
	_, err = e.svc.IssueToken(bg, ding.SuiteAppKey(dingtest.SuiteKey, dingtest.CorpID), dingtest.SuiteSecret)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonBadAppCredentials, "gettoken with the suite app's key")
}

func agentIDs(t *testing.T, e *env, c *service.Caller, chatID string) []string {
	t.Helper()
	v, err := e.svc.GetGroup(bg, c, service.GroupRef{ChatID: chatID})
	if err != nil {
		t.Fatal(err)
	}
	return v.AgentIDs
}

func TestBindRules(t *testing.T) {
	e := newSuiteEnv(t)
	g := e.group("zhangsan")
	other := e.create(e.otherApp(), service.CreateGroupInput{Name: "他司群", Owner: "manager4220", UserIDs: []string{"manager4220"}})
	isv := e.isv(1)
	before := e.snapshot(g.ChatID)
	for _, tc := range []struct {
		name          string
		c             *service.Caller
		chat, agentID string
		kind          ding.Kind
		reason        ding.Reason
	}{
		{"internal app", e.app(), g.ChatID, "100001", ding.Forbidden, ding.ReasonISVOnly},
		{"internal app without chatid", e.app(), "", "", ding.Forbidden, ding.ReasonISVOnly},
		{"no chatid", isv, "", agent(1), ding.Invalid, ding.ReasonChatIDMissing},
		{"no agentid", isv, g.ChatID, "", ding.Invalid, ding.ReasonAgentIDMissing},
		{"agentid not a number", isv, g.ChatID, "abc", ding.Invalid, ding.ReasonAgentIDInvalid},
		{"another suite's agentid", isv, g.ChatID, agent(2), ding.Invalid, ding.ReasonAgentIDInvalid},
		{"an internal app's agentid", isv, g.ChatID, "100001", ding.Invalid, ding.ReasonAgentIDInvalid},
		{"the suite's agentid in the other corp", isv, g.ChatID, strconv.Itoa(dingtest.SuiteOtherAgentID), ding.Invalid, ding.ReasonAgentIDInvalid},
		{"unknown group", isv, "chatnosuch", agent(1), ding.NotFound, ding.ReasonChatNotFound},
		{"other corp's group", isv, other.ChatID, agent(1), ding.NotFound, ding.ReasonChatNotFound},
	} {
		err := e.svc.BindApp(bg, tc.c, tc.chat, tc.agentID)
		wantErr(t, err, tc.kind, tc.reason, "bind: "+tc.name)
		err = e.svc.UnbindApp(bg, tc.c, tc.chat, tc.agentID)
		wantErr(t, err, tc.kind, tc.reason, "unbind: "+tc.name)
	}
	err := e.svc.UnbindApp(bg, isv, g.ChatID, agent(1))
	wantErr(t, err, ding.NotFound, ding.ReasonChatAppNotBound, "unbind before bind")
	e.unchanged(before, "refused calls")

	// five suites bind; agentidlist lists them in binding order
	var want []string
	for i := 1; i <= ding.MaxChatApps; i++ {
		if err := e.svc.BindApp(bg, e.isv(i), g.ChatID, agent(i)); err != nil {
			t.Fatalf("bind suite %d: %v", i, err)
		}
		want = append(want, agent(i))
	}
	if got := agentIDs(t, e, e.app(), g.ChatID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("agentidlist = %v, want %v", got, want)
	}
	full := e.snapshot(g.ChatID)
	// the same suite again: 49002, before the cap
	err = e.svc.BindApp(bg, e.isv(1), g.ChatID, agent(1))
	wantErr(t, err, ding.Conflict, ding.ReasonSuiteAlreadyBound, "second binding")
	// the sixth app: 49001
	err = e.svc.BindApp(bg, e.isv(6), g.ChatID, agent(6))
	wantErr(t, err, ding.Conflict, ding.ReasonChatAppLimit, "sixth app")
	// a custom app is a suite like the others
	custom := e.customISV()
	err = e.svc.BindApp(bg, custom, g.ChatID, strconv.Itoa(dingtest.CustomSuiteAgentID))
	wantErr(t, err, ding.Conflict, ding.ReasonChatAppLimit, "custom app as sixth")
	e.unchanged(full, "refused binds")

	// unbind frees a place; the unbound suite may bind again, last
	if err := e.svc.UnbindApp(bg, e.isv(2), g.ChatID, agent(2)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.BindApp(bg, e.isv(6), g.ChatID, agent(6)); err != nil {
		t.Fatalf("bind after unbind: %v", err)
	}
	want = []string{agent(1), agent(3), agent(4), agent(5), agent(6)}
	if got := agentIDs(t, e, isv, g.ChatID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("agentidlist = %v, want %v", got, want)
	}
	// the events: bind ×5, unbind, bind, each DingChat's own with agentId
	var seen []string
	for _, ev := range e.events()[before.events:] {
		d := eventData(t, ev)
		seen = append(seen, ev.Type+":"+fmt.Sprint(d["agentId"]))
		if d["chatId"] != g.ChatID || ev.ChatID != g.ChatID {
			t.Fatalf("event %+v", ev)
		}
	}
	wantSeen := []string{}
	for i := 1; i <= 5; i++ {
		wantSeen = append(wantSeen, ding.EventChatBindMicroapp+":"+agent(i))
	}
	wantSeen = append(wantSeen, ding.EventChatUnbindMicroapp+":"+agent(2), ding.EventChatBindMicroapp+":"+agent(6))
	if fmt.Sprint(seen) != fmt.Sprint(wantSeen) {
		t.Fatalf("events = %v, want %v", seen, wantSeen)
	}
}

func (e *env) customISV() *service.Caller {
	e.t.Helper()
	ts := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	tok, err := e.svc.IssueCorpTokenSigned(bg, service.SignedQuery{AccessKey: dingtest.CustomSuiteKey, Timestamp: ts, SuiteTicket: "t",
		Signature: service.SuiteSignature(dingtest.CustomSuiteSecret, ts, "t")}, dingtest.CorpID)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.svc.Authenticate(bg, tok.Value)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestBindNeedsChatScope(t *testing.T) {
	e := newSuiteEnv(t)
	g := e.group()
	org := &ding.Org{Corp: dingtest.Org().Corp, SuiteAuths: []ding.SuiteAuth{{SuiteKey: dingtest.LoneSuiteKey, CorpID: dingtest.CorpID,
		PermanentCode: "p", AgentID: 390001, Scopes: []string{ding.ScopeChatRead}}}}
	if err := e.st.ApplyOrg(bg, org); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.IssueCorpToken(bg, service.SuiteCredentials{Key: dingtest.LoneSuiteKey, Secret: dingtest.LoneSuiteSecret, Ticket: dingtest.LoneSuiteTicket}, dingtest.CorpID)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.svc.Authenticate(bg, tok.Value)
	err = e.svc.BindApp(bg, c, g.ChatID, "390001")
	wantErr(t, err, ding.Forbidden, ding.ReasonPermissionDenied, "read-only ISV app")
	if got := agentIDs(t, e, c, g.ChatID); len(got) != 0 {
		t.Fatalf("agentidlist = %v", got)
	}
}

func TestDisbandBoundGroup(t *testing.T) {
	e := newSuiteEnv(t)
	g := e.group("zhangsan")
	for _, i := range []int{3, 1} {
		if err := e.svc.BindApp(bg, e.isv(i), g.ChatID, agent(i)); err != nil {
			t.Fatal(err)
		}
	}
	n := len(e.events())
	e.clock.Advance(time.Second)
	if err := e.svc.DisbandGroup(bg, service.Actor{CorpID: dingtest.CorpID, UserID: "manager4220"}, g.ChatID); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UnixMilli()
	ng := e.stored(g.ChatID)
	if ng.Status != ding.StatusDisbanded || ng.UpdatedAt != now {
		t.Fatalf("group = %+v", ng)
	}
	evs := e.events()[n:]
	if len(evs) != 3 {
		t.Fatalf("%d events, want chat_disband and two chat_disband_microapp", len(evs))
	}
	wantEvent(t, evs[0], ding.EventChatDisband, ng, now, map[string]any{"operator": "manager4220"})
	wantEvent(t, evs[1], ding.EventChatDisbandMicroapp, ng, now, map[string]any{"agentId": agent(3), "operator": "manager4220"})
	wantEvent(t, evs[2], ding.EventChatDisbandMicroapp, ng, now, map[string]any{"agentId": agent(1), "operator": "manager4220"})
	// the bindings stay listed on the disbanded group; no change goes through
	if got := agentIDs(t, e, e.app(), g.ChatID); fmt.Sprint(got) != fmt.Sprint([]string{agent(3), agent(1)}) {
		t.Fatalf("agentidlist after disband = %v", got)
	}
	err := e.svc.BindApp(bg, e.isv(2), g.ChatID, agent(2))
	wantErr(t, err, ding.Conflict, ding.ReasonChatDisbanded, "bind to a disbanded group")
	err = e.svc.UnbindApp(bg, e.isv(1), g.ChatID, agent(1))
	wantErr(t, err, ding.Conflict, ding.ReasonChatDisbanded, "unbind from a disbanded group")

	// a group without apps disbands with chat_disband alone
	plain := e.group()
	n = len(e.events())
	if err := e.svc.DisbandGroup(bg, service.AdminActor(dingtest.CorpID), plain.ChatID); err != nil {
		t.Fatal(err)
	}
	if evs := e.events()[n:]; len(evs) != 1 || evs[0].Type != ding.EventChatDisband {
		t.Fatalf("plain disband events = %+v", evs)
	}
}

// TestConcurrentBindsKeepTheCap races every suite onto one group: exactly
// ding.MaxChatApps win, whatever the interleaving.
func TestConcurrentBindsKeepTheCap(t *testing.T) {
	e := newSuiteEnv(t)
	g := e.group()
	callers := make([]*service.Caller, dingtest.Suites+1)
	for i := 1; i <= dingtest.Suites; i++ {
		callers[i] = e.isv(i)
	}
	var wg sync.WaitGroup
	errs := make([]error, dingtest.Suites+1)
	for i := 1; i <= dingtest.Suites; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.svc.BindApp(bg, callers[i], g.ChatID, agent(i))
		}()
	}
	wg.Wait()
	won := 0
	for i := 1; i <= dingtest.Suites; i++ {
		switch {
		case errs[i] == nil:
			won++
		case ding.ErrorReason(errs[i]) != ding.ReasonChatAppLimit:
			t.Fatalf("suite %d: %v", i, errs[i])
		}
	}
	if got := agentIDs(t, e, e.app(), g.ChatID); won != ding.MaxChatApps || len(got) != ding.MaxChatApps {
		t.Fatalf("%d binds won, %d listed; want %d", won, len(got), ding.MaxChatApps)
	}
}
