package oapi_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// The signed get_corp_token of suite 1 at the fixture clock's instant,
// signed apart from this code:
//
//	printf '1767225600000\ntest-suite-ticket-0001' | openssl dgst -sha256 -hmac 'test-suite-secret-0001' -binary | base64
//	SaXwS+i0597iE8AeSEu/LEI0QNDK87arso72lWuPNXw=
const (
	vectorTimestamp = "1767225600000"
	vectorSignature = "SaXwS%2Bi0597iE8AeSEu%2FLEI0QNDK87arso72lWuPNXw%3D" // URL-encoded
	signedPath      = "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&timestamp=" + vectorTimestamp +
		"&suiteTicket=" + dingtest.SuiteTicket + "&signature=" + vectorSignature
	authCorp   = `{"auth_corpid":"` + dingtest.CorpID + `"}`
	suitePath  = "/service/get_suite_token"
	legacyCorp = "/service/get_corp_token?suite_access_token={{suite_token}}"
	bindPath   = "/chat/bind?access_token={{isv_token}}&chatid={{chatid}}&agentid="
	unbindPath = "/chat/unbind?access_token={{isv_token}}&chatid={{chatid}}&agentid="
)

var agent1 = strconv.Itoa(dingtest.SuiteAgentID)

// suites seeds the ISV fixture.
func suites(e *servertest.Env) { dingtest.SeedSuites(e.T, e.Store) }

// suiteToken seeds the fixture and sets {{suite_token}} to suite 1's suite access token.
func suiteToken(e *servertest.Env) {
	suites(e)
	t, err := e.Svc.IssueSuiteToken(context.Background(), service.SuiteCredentials{Key: dingtest.SuiteKey, Secret: dingtest.SuiteSecret, Ticket: dingtest.SuiteTicket})
	if err != nil {
		e.T.Fatal(err)
	}
	e.Vars["suite_token"] = t.Value
}

// corpToken is suite i's corp token in corp.
func corpToken(e *servertest.Env, i int, corp string) string {
	e.T.Helper()
	t, err := e.Svc.IssueCorpToken(context.Background(), service.SuiteCredentials{Key: dingtest.SuiteKeyN(i), Secret: dingtest.SuiteSecretN(i), Ticket: dingtest.SuiteTicketN(i)}, corp)
	if err != nil {
		e.T.Fatal(err)
	}
	return t.Value
}

// isvGroup seeds the fixture, makes the fixture group and sets {{isv_token}}
// to suite 1's corp token in the fixture corp.
func isvGroup(e *servertest.Env) {
	suites(e)
	group(e)
	e.Vars["isv_token"] = corpToken(e, 1, dingtest.CorpID)
}

// bound binds suites 1..n to the fixture group through the service, and
// sets {{next_token}} to suite n+1's corp token.
func bound(n int) func(e *servertest.Env) {
	suites := make([]int, n)
	for i := range suites {
		suites[i] = i + 1
	}
	return func(e *servertest.Env) {
		boundSuites(suites...)(e)
		e.Vars["next_token"] = corpToken(e, n+1, dingtest.CorpID)
	}
}

// boundSuites binds the listed suites to the fixture group, in order.
func boundSuites(is ...int) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		isvGroup(e)
		for _, i := range is {
			c, err := e.Svc.Authenticate(context.Background(), corpToken(e, i, dingtest.CorpID))
			if err == nil {
				err = e.Svc.BindApp(context.Background(), c, e.Vars["chatid"], strconv.FormatInt(dingtest.SuiteAgentIDN(i), 10))
			}
			if err != nil {
				e.T.Fatalf("bind suite %d: %v", i, err)
			}
		}
	}
}

// signed is the signed get_corp_token path of suite 1 (or the custom app) at ts for ticket.
func signed(key, secret string, ts int64, ticket string) string {
	s := strconv.FormatInt(ts, 10)
	return "/service/get_corp_token?accessKey=" + key + "&timestamp=" + s + "&suiteTicket=" + url.QueryEscape(ticket) +
		"&signature=" + url.QueryEscape(service.SuiteSignature(secret, s, ticket))
}

const t0 = 1767225600000 // the fixture clock

// tokenWorks checks that the answered access_token reads the fixture group
// as suite 1's app, and that a second request gives a new token while the
// first stays valid.
func tokenWorks(again string, body string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		first, _ := r.JSON(t)["access_token"].(string)
		e.Group("ISV可见群")
		for _, tok := range []string{first} {
			res := e.Get("/chat/get?access_token=" + tok + "&chatid={{chatid}}")
			wantErrcode(t, res, "0")
		}
		r2 := e.Post(again, body)
		wantErrcode(t, r2, "0")
		second, _ := r2.JSON(t)["access_token"].(string)
		if second == "" || second == first {
			t.Fatalf("second corp token = %q; want a new one (first %q)", second, first)
		}
		wantErrcode(t, e.Get("/chat/get?access_token="+first+"&chatid={{chatid}}"), "0")
		c, err := e.Svc.Authenticate(context.Background(), second)
		if err != nil || c.App.SuiteKey == "" || c.CorpID() != dingtest.CorpID {
			t.Fatalf("second token's caller = %+v, %v", c, err)
		}
	}
}

func TestGetSuiteTokenGolden(t *testing.T) {
	creds := func(key, secret, ticket string) string {
		return `{"suite_key":"` + key + `","suite_secret":"` + secret + `","suite_ticket":"` + ticket + `"}`
	}
	good := creds(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.SuiteTicket)
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: suites, Method: post, Path: suitePath, Body: good, Status: ok, Golden: "service_get_suite_token/ok",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				tok, _ := r.JSON(t)["suite_access_token"].(string)
				// within validity: the same token (unconfirmed for suites)
				e.Clock.Advance(time.Minute)
				if again, _ := e.Post(suitePath, good).JSON(t)["suite_access_token"].(string); again != tok {
					t.Errorf("second suite token = %q, want %q", again, tok)
				}
				// it serves no other call
				wantErrcode(t, e.Get("/chat/get?access_token="+tok+"&chatid=chat0"), "40014")
			}},
		{Name: "form", Setup: suites, Method: post, Path: suitePath, Header: map[string]string{"Content-Type": form},
			Body: "suite_key=" + dingtest.SuiteKey + "&suite_secret=" + dingtest.SuiteSecret + "&suite_ticket=" + dingtest.SuiteTicket, Status: ok, Golden: "service_get_suite_token/form"},
		{Name: "query", Setup: suites, Method: get, Path: suitePath + "?suite_key=" + dingtest.SuiteKey + "&suite_secret=" + dingtest.SuiteSecret + "&suite_ticket=" + dingtest.SuiteTicket,
			Status: ok, Golden: "service_get_suite_token/query"},
		{Name: "custom app, any ticket", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.CustomSuiteKey, dingtest.CustomSuiteSecret, "anything"), Status: ok, Golden: "service_get_suite_token/custom_any_ticket"},
		{Name: "suite_key missing", Setup: suites, Method: post, Path: suitePath, Body: creds("", dingtest.SuiteSecret, dingtest.SuiteTicket), Status: ok, Golden: "service_get_suite_token/suite_key_missing"},
		{Name: "suite_secret missing", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.SuiteKey, "", dingtest.SuiteTicket), Status: ok, Golden: "service_get_suite_token/suite_secret_missing"},
		{Name: "suite_ticket missing", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.SuiteKey, dingtest.SuiteSecret, ""), Status: ok, Golden: "service_get_suite_token/suite_ticket_missing"},
		{Name: "unknown suite_key", Setup: suites, Method: post, Path: suitePath, Body: creds("suitenosuch", dingtest.SuiteSecret, dingtest.SuiteTicket), Status: ok, Golden: "service_get_suite_token/unknown_key"},
		{Name: "bad suite_secret", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.SuiteKey, "wrong", dingtest.SuiteTicket), Status: ok, Golden: "service_get_suite_token/bad_secret"},
		{Name: "bad suite_ticket", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.SuiteKey, dingtest.SuiteSecret, "stale"), Status: ok, Golden: "service_get_suite_token/bad_ticket"},
		{Name: "an app's key and secret", Setup: suites, Method: post, Path: suitePath, Body: creds(dingtest.AppKey, dingtest.AppSecret, "x"), Status: ok, Golden: "service_get_suite_token/app_credentials"},
		{Name: "malformed JSON", Setup: suites, Method: post, Path: suitePath, Body: `{"suite_key":`, Status: ok, Golden: "service_get_suite_token/malformed_json"},
	}, *update)
}

func TestGetCorpTokenSignedGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "the signature vector", Setup: suites, Method: post, Path: signedPath, Body: authCorp, Status: ok, Golden: "service_get_corp_token/signed",
			Check: tokenWorks(signedPath, authCorp)},
		{Name: "parameters reordered, body as a form", Setup: suites, Method: post, Header: map[string]string{"Content-Type": form},
			Path: "/service/get_corp_token?signature=" + vectorSignature + "&suiteTicket=" + dingtest.SuiteTicket + "&timestamp=" + vectorTimestamp + "&accessKey=" + dingtest.SuiteKey,
			Body: "auth_corpid=" + dingtest.CorpID, Status: ok, Golden: "service_get_corp_token/signed_form"},
		{Name: "the other corp", Setup: suites, Method: post, Path: signedPath, Body: `{"auth_corpid":"` + dingtest.OtherCorpID + `"}`, Status: ok,
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				tok, _ := r.JSON(t)["access_token"].(string)
				e.Group("本企业群")
				wantErrcode(t, e.Get("/chat/get?access_token="+tok+"&chatid={{chatid}}"), "40016")
			}},
		{Name: "a minute early", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0-60000, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/minute_early"},
		{Name: "a minute late", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0+60000, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/minute_late"},
		{Name: "custom app, any ticket", Setup: suites, Method: post, Path: signed(dingtest.CustomSuiteKey, dingtest.CustomSuiteSecret, t0, "whatever-it-likes"), Body: authCorp, Status: ok, Golden: "service_get_corp_token/custom_any_ticket"},

		{Name: "timestamp not a number", Setup: suites, Method: post, Path: "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&timestamp=now&suiteTicket=" + dingtest.SuiteTicket + "&signature=" + vectorSignature,
			Body: authCorp, Status: ok, Golden: "service_get_corp_token/853001_timestamp_format"},
		{Name: "timestamp missing", Setup: suites, Method: post, Path: "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&suiteTicket=" + dingtest.SuiteTicket + "&signature=" + vectorSignature,
			Body: authCorp, Status: ok, Golden: "service_get_corp_token/853001_timestamp_missing"},
		{Name: "timestamp 60001 ms early", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0-60001, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853002_early"},
		{Name: "timestamp 60001 ms late", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0+60001, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853002_late"},
		{Name: "timestamp in seconds", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0/1000, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853002_seconds"},
		{Name: "the vector a minute and a millisecond later", Setup: func(e *servertest.Env) { suites(e); e.Clock.Advance(60001 * time.Millisecond) },
			Method: post, Path: signedPath, Body: authCorp, Status: ok, Golden: "service_get_corp_token/853002_clock_moved"},
		{Name: "unknown accessKey", Setup: suites, Method: post, Path: signed("suitenosuch", dingtest.SuiteSecret, t0, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853003_access_key"},
		{Name: "an app key as accessKey", Setup: suites, Method: post, Path: signed(dingtest.AppKey, dingtest.AppSecret, t0, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853003_app_key"},
		{Name: "signed with another secret", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecretN(2), t0, dingtest.SuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/853004_secret"},
		{Name: "signature not URL-encoded", Setup: suites, Method: post,
			Path: "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&timestamp=" + vectorTimestamp + "&suiteTicket=" + dingtest.SuiteTicket + "&signature=SaXwS+i0597iE8AeSEu/LEI0QNDK87arso72lWuPNXw=",
			Body: authCorp, Status: ok, Golden: "service_get_corp_token/853004_not_encoded"},
		{Name: "signature missing", Setup: suites, Method: post, Path: "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&timestamp=" + vectorTimestamp + "&suiteTicket=" + dingtest.SuiteTicket,
			Body: authCorp, Status: ok, Golden: "service_get_corp_token/853004_missing"},
		{Name: "suiteTicket changed after signing", Setup: suites, Method: post,
			Path: "/service/get_corp_token?accessKey=" + dingtest.SuiteKey + "&timestamp=" + vectorTimestamp + "&suiteTicket=other&signature=" + vectorSignature,
			Body: authCorp, Status: ok, Golden: "service_get_corp_token/853004_ticket_changed"},
		{Name: "a stale ticket, signed", Setup: suites, Method: post, Path: signed(dingtest.SuiteKey, dingtest.SuiteSecret, t0, "stale-ticket"), Body: authCorp, Status: ok, Golden: "service_get_corp_token/stale_ticket"},
		{Name: "auth_corpid missing", Setup: suites, Method: post, Path: signedPath, Body: `{}`, Status: ok, Golden: "service_get_corp_token/auth_corpid_missing"},
		{Name: "corp that did not authorise", Setup: suites, Method: post, Path: signed(dingtest.LoneSuiteKey, dingtest.LoneSuiteSecret, t0, dingtest.LoneSuiteTicket), Body: authCorp, Status: ok, Golden: "service_get_corp_token/not_authorised"},
		{Name: "unknown corp", Setup: suites, Method: post, Path: signedPath, Body: `{"auth_corpid":"dingnosuchcorp"}`, Status: ok, Golden: "service_get_corp_token/unknown_corp"},
	}, *update)
}

func TestGetCorpToken2016Golden(t *testing.T) {
	body := func(corp, code string) string {
		return `{"auth_corpid":"` + corp + `","permanent_code":"` + code + `"}`
	}
	good := body(dingtest.CorpID, dingtest.SuitePermanentCode)
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: suiteToken, Method: post, Path: legacyCorp, Body: good, Status: ok, Golden: "service_get_corp_token/2016_ok",
			Check: tokenWorks(legacyCorp, good)},
		{Name: "no suite token", Setup: suiteToken, Method: post, Path: "/service/get_corp_token", Body: good, Status: ok, Golden: "service_get_corp_token/2016_suite_token_missing"},
		{Name: "unknown suite token", Setup: suiteToken, Method: post, Path: "/service/get_corp_token?suite_access_token=nosuchtoken", Body: good, Status: ok, Golden: "service_get_corp_token/2016_suite_token_invalid"},
		{Name: "an access token as suite token", Setup: suiteToken, Method: post, Path: "/service/get_corp_token?suite_access_token={{token}}", Body: good, Status: ok, Golden: "service_get_corp_token/2016_access_token"},
		{Name: "expired suite token", Setup: func(e *servertest.Env) { suiteToken(e); e.Expire() }, Method: post, Path: legacyCorp, Body: good, Status: ok, Golden: "service_get_corp_token/2016_suite_token_expired"},
		{Name: "auth_corpid missing", Setup: suiteToken, Method: post, Path: legacyCorp, Body: `{"permanent_code":"` + dingtest.SuitePermanentCode + `"}`, Status: ok, Golden: "service_get_corp_token/2016_auth_corpid_missing"},
		{Name: "permanent_code missing", Setup: suiteToken, Method: post, Path: legacyCorp, Body: `{"auth_corpid":"` + dingtest.CorpID + `"}`, Status: ok, Golden: "service_get_corp_token/2016_permanent_code_missing"},
		{Name: "another corp's permanent_code", Setup: suiteToken, Method: post, Path: legacyCorp, Body: body(dingtest.CorpID, dingtest.SuiteOtherPermanentCode), Status: ok, Golden: "service_get_corp_token/2016_permanent_code_wrong"},
		{Name: "corp that did not authorise", Setup: suiteToken, Method: post, Path: legacyCorp, Body: body("dingnosuchcorp", "x"), Status: ok, Golden: "service_get_corp_token/2016_not_authorised"},
		{Name: "the other corp", Setup: suiteToken, Method: post, Path: legacyCorp, Body: body(dingtest.OtherCorpID, dingtest.SuiteOtherPermanentCode), Status: ok, Golden: "service_get_corp_token/2016_other_corp"},
	}, *update)
}

func TestChatBindGolden(t *testing.T) {
	agentsAre := func(want ...string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			t.Helper()
			if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["agentidlist"]); jsonText(got) != jsonText(append([]string{}, want...)) {
				t.Errorf("agentidlist = %v, want %v", got, want)
			}
		}
	}
	disbanded := func(e *servertest.Env) {
		isvGroup(e)
		if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
			e.T.Fatal(err)
		}
	}
	otherGroup := func(e *servertest.Env) {
		isvGroup(e)
		r := e.Post("/chat/create?access_token={{other_token}}", `{"name":"他司群","owner":"manager4220","useridlist":["manager4220"]}`)
		e.Vars["other_chatid"] = createdChat(e.T, r)
	}
	servertest.Run(t, []servertest.Case{
		{Name: "bind", Setup: isvGroup, Method: get, Path: bindPath + agent1, Status: ok, Golden: "chat_bind/ok", Check: agentsAre(agent1)},
		{Name: "bind as POST form", Setup: isvGroup, Method: post, Path: "/chat/bind", Header: map[string]string{"Content-Type": form},
			Body: "access_token={{isv_token}}&chatid={{chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/post_form", Check: agentsAre(agent1)},
		{Name: "bind the fifth", Setup: bound(4), Method: get, Path: "/chat/bind?access_token={{next_token}}&chatid={{chatid}}&agentid=300005", Status: ok,
			Check: agentsAre("300001", "300002", "300003", "300004", "300005")},
		{Name: "49001 the sixth", Setup: bound(5), Method: get, Path: "/chat/bind?access_token={{next_token}}&chatid={{chatid}}&agentid=300006", Status: ok, Golden: "chat_bind/49001_sixth_app"},
		{Name: "49002 the same suite again", Setup: bound(1), Method: get, Path: bindPath + agent1, Status: ok, Golden: "chat_bind/49002_bound_twice"},
		{Name: "800001 an internal app", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token={{token}}&chatid={{chatid}}&agentid=100001", Status: ok, Golden: "chat_bind/800001_internal_app"},
		{Name: "800001 before anything else", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token={{token}}", Status: ok, Golden: "chat_bind/800001_no_params"},
		{Name: "chatid missing", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token={{isv_token}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/chatid_missing"},
		{Name: "agentid missing", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token={{isv_token}}&chatid={{chatid}}", Status: ok, Golden: "chat_bind/agentid_missing"},
		{Name: "agentid not a number", Setup: isvGroup, Method: get, Path: bindPath + "abc", Status: ok, Golden: "chat_bind/agentid_not_number"},
		{Name: "another suite's agentid", Setup: isvGroup, Method: get, Path: bindPath + "300002", Status: ok, Golden: "chat_bind/agentid_other_suite"},
		{Name: "an internal app's agentid", Setup: isvGroup, Method: get, Path: bindPath + "100001", Status: ok, Golden: "chat_bind/agentid_internal_app"},
		{Name: "unknown chatid", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token={{isv_token}}&chatid=chat00000000000000000000000000000000&agentid=" + agent1, Status: ok, Golden: "chat_bind/chatid_unknown"},
		{Name: "another corp's group", Setup: otherGroup, Method: get, Path: "/chat/bind?access_token={{isv_token}}&chatid={{other_chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/other_corp_group"},
		{Name: "disbanded group", Setup: disbanded, Method: get, Path: bindPath + agent1, Status: ok, Golden: "chat_bind/disbanded"},
		{Name: "token missing", Setup: isvGroup, Method: get, Path: "/chat/bind?chatid={{chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/token_missing"},
		{Name: "unknown token", Setup: isvGroup, Method: get, Path: "/chat/bind?access_token=nosuchtoken&chatid={{chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/token_invalid"},
		{Name: "a suite token", Setup: func(e *servertest.Env) { isvGroup(e); suiteToken(e) }, Method: get, Path: "/chat/bind?access_token={{suite_token}}&chatid={{chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_bind/suite_token"},
		{Name: "expired corp token", Setup: func(e *servertest.Env) { isvGroup(e); e.Expire() }, Method: get, Path: bindPath + agent1, Status: ok, Golden: "chat_bind/token_expired"},
	}, *update)
}

func TestChatUnbindGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "unbind", Setup: bound(2), Method: get, Path: unbindPath + agent1, Status: ok, Golden: "chat_unbind/ok",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["agentidlist"]); jsonText(got) != `["300002"]` {
					t.Errorf("agentidlist = %v", got)
				}
				// bound again, it comes last
				wantErrcode(t, e.Get(bindPath+agent1), "0")
				if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["agentidlist"]); jsonText(got) != `["300002","300001"]` {
					t.Errorf("agentidlist after binding again = %v", got)
				}
			}},
		{Name: "not bound", Setup: bound(0), Method: get, Path: unbindPath + agent1, Status: ok, Golden: "chat_unbind/not_bound"},
		{Name: "bound by another suite only", Setup: boundSuites(2), Method: get, Path: unbindPath + agent1, Status: ok, Golden: "chat_unbind/other_suite_bound"},
		{Name: "800001 an internal app", Setup: bound(1), Method: get, Path: "/chat/unbind?access_token={{token}}&chatid={{chatid}}&agentid=" + agent1, Status: ok, Golden: "chat_unbind/800001_internal_app"},
		{Name: "another suite's agentid", Setup: bound(2), Method: get, Path: unbindPath + "300002", Status: ok, Golden: "chat_unbind/agentid_other_suite"},
		{Name: "agentid missing", Setup: bound(1), Method: get, Path: "/chat/unbind?access_token={{isv_token}}&chatid={{chatid}}", Status: ok, Golden: "chat_unbind/agentid_missing"},
		{Name: "chatid missing", Setup: bound(1), Method: get, Path: "/chat/unbind?access_token={{isv_token}}&agentid=" + agent1, Status: ok, Golden: "chat_unbind/chatid_missing"},
		{Name: "unknown chatid", Setup: bound(1), Method: get, Path: "/chat/unbind?access_token={{isv_token}}&chatid=chat00000000000000000000000000000000&agentid=" + agent1, Status: ok, Golden: "chat_unbind/chatid_unknown"},
	}, *update)
}

func TestChatGetAgentIDListGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "two bound apps", Setup: bound(2), Method: get, Path: chget, Status: ok, Golden: "chat_get/agentidlist"},
		{Name: "read by the suite's token", Setup: bound(2), Method: get, Path: "/chat/get?access_token={{isv_token}}&chatid={{chatid}}", Status: ok, Golden: "chat_get/agentidlist_isv"},
		{Name: "disbanded with bound apps", Setup: func(e *servertest.Env) {
			bound(1)(e)
			if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
				e.T.Fatal(err)
			}
		}, Method: get, Path: chget, Status: ok, Golden: "chat_get/agentidlist_disbanded",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				evs, err := e.Store.Events(context.Background(), dingtest.CorpID, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				last := evs[len(evs)-1]
				if last.Type != ding.EventChatDisbandMicroapp || !strings.Contains(string(last.Data), `"agentId":"300001"`) {
					t.Errorf("last event = %s %s, want chat_disband_microapp with agentId 300001", last.Type, last.Data)
				}
			}},
	}, *update)
}
