package v1api_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

const (
	suiteTokenPath = "/v1.0/oauth2/suiteAccessToken"
	corpTokenPath  = "/v1.0/oauth2/corpAccessToken"
)

// suites seeds the ISV fixture.
func suites(e *servertest.Env) { dingtest.SeedSuites(e.T, e.Store) }

func suiteBody(key, secret, ticket string) string {
	return `{"suiteKey":"` + key + `","suiteSecret":"` + secret + `","suiteTicket":"` + ticket + `"}`
}

func corpBody(key, secret, corp, ticket string) string {
	return `{"suiteKey":"` + key + `","suiteSecret":"` + secret + `","authCorpId":"` + corp + `","suiteTicket":"` + ticket + `"}`
}

func TestSuiteAccessTokenGolden(t *testing.T) {
	good := suiteBody(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.SuiteTicket)
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: suites, Method: post, Path: suiteTokenPath, Body: good, Status: ok, Golden: "oauth2_suiteAccessToken/ok",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				tok := field(t, r, "accessToken")
				e.Clock.Advance(time.Minute)
				if again := field(t, e.PostV1(suiteTokenPath, "", good), "accessToken"); again != tok {
					t.Errorf("second suite token = %q, want %q (renewed within validity)", again, tok)
				}
				// a suite token opens no v1.0 API
				if res := e.PostV1(createPath, tok, `{"name":"群","owner":"manager4220","useridlist":["manager4220"]}`); res.Status != badRequest {
					t.Errorf("group create with a suite token: %d %s", res.Status, res.Body)
				}
			}},
		{Name: "custom app, any ticket", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody(dingtest.CustomSuiteKey, dingtest.CustomSuiteSecret, "anything"), Status: ok, Golden: "oauth2_suiteAccessToken/custom_any_ticket"},
		{Name: "suiteKey missing", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody("", dingtest.SuiteSecret, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_suiteAccessToken/suite_key_missing"},
		{Name: "suiteSecret missing", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody(dingtest.SuiteKey, "", dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_suiteAccessToken/suite_secret_missing"},
		{Name: "suiteTicket missing", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody(dingtest.SuiteKey, dingtest.SuiteSecret, ""), Status: badRequest, Golden: "oauth2_suiteAccessToken/suite_ticket_missing"},
		{Name: "unknown suiteKey", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody("suitenosuch", dingtest.SuiteSecret, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_suiteAccessToken/unknown_key"},
		{Name: "bad suiteSecret", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody(dingtest.SuiteKey, "wrong", dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_suiteAccessToken/bad_secret"},
		{Name: "bad suiteTicket", Setup: suites, Method: post, Path: suiteTokenPath, Body: suiteBody(dingtest.SuiteKey, dingtest.SuiteSecret, "stale"), Status: badRequest, Golden: "oauth2_suiteAccessToken/bad_ticket"},
		{Name: "legacy snake_case names", Setup: suites, Method: post, Path: suiteTokenPath,
			Body: `{"suite_key":"` + dingtest.SuiteKey + `","suite_secret":"` + dingtest.SuiteSecret + `","suite_ticket":"` + dingtest.SuiteTicket + `"}`, Status: badRequest, Golden: "oauth2_suiteAccessToken/snake_case"},
		{Name: "malformed JSON", Setup: suites, Method: post, Path: suiteTokenPath, Body: `{"suiteKey":`, Status: badRequest, Golden: "oauth2_suiteAccessToken/malformed_json"},
		{Name: "GET", Setup: suites, Method: get, Path: suiteTokenPath, Status: notFound, Golden: "oauth2_suiteAccessToken/get"},
	}, *update)
}

func TestCorpAccessTokenGolden(t *testing.T) {
	good := corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.CorpID, dingtest.SuiteTicket)
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: suites, Method: post, Path: corpTokenPath, Body: good, Status: ok, Golden: "oauth2_corpAccessToken/ok",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				first := field(t, r, "accessToken")
				second := field(t, e.PostV1(corpTokenPath, "", good), "accessToken")
				if second == first {
					t.Fatalf("second corp token = %q; want a new one", second)
				}
				// both act as the suite's app in the corp, on either surface
				for _, tok := range []string{first, second} {
					res := e.PostV1(createPath, tok, `{"name":"ISV群","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`)
					wantOK(t, res)
					if info := servertest.ChatInfo(t, e, field(t, res, "chatid")); info["owner"] != "manager4220" {
						t.Fatalf("chat_info = %v", info)
					}
				}
				c, err := e.Svc.Authenticate(context.Background(), second)
				if err != nil || c.App.SuiteKey != dingtest.SuiteKey || c.CorpID() != dingtest.CorpID {
					t.Fatalf("caller = %+v, %v", c, err)
				}
			}},
		{Name: "with a stray token header", Setup: suites, Method: post, Path: corpTokenPath, Header: hdr("token"), Body: good, Status: ok, Golden: "oauth2_corpAccessToken/token_header"},
		{Name: "the other corp", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.OtherCorpID, dingtest.SuiteTicket), Status: ok, Golden: "oauth2_corpAccessToken/other_corp",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				c, err := e.Svc.Authenticate(context.Background(), field(t, r, "accessToken"))
				if err != nil || c.CorpID() != dingtest.OtherCorpID || c.App.AgentID != dingtest.SuiteOtherAgentID {
					t.Fatalf("caller = %+v, %v", c, err)
				}
			}},
		{Name: "custom app, any ticket", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.CustomSuiteKey, dingtest.CustomSuiteSecret, dingtest.CorpID, "x"), Status: ok, Golden: "oauth2_corpAccessToken/custom_any_ticket"},
		{Name: "unknown suiteKey", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody("suitenosuch", dingtest.SuiteSecret, dingtest.CorpID, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/invalid_suite_key"},
		{Name: "bad suiteSecret", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, "wrong", dingtest.CorpID, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/bad_secret"},
		{Name: "bad suiteTicket", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.CorpID, "stale"), Status: badRequest, Golden: "oauth2_corpAccessToken/invalid_suite_ticket"},
		{Name: "corp that did not authorise", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.LoneSuiteKey, dingtest.LoneSuiteSecret, dingtest.CorpID, dingtest.LoneSuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/invalid_auth_info"},
		{Name: "unknown corp", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, "dingnosuchcorp", dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/unknown_corp"},
		{Name: "suiteKey missing", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody("", dingtest.SuiteSecret, dingtest.CorpID, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/suite_key_missing"},
		{Name: "suiteSecret missing", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, "", dingtest.CorpID, dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/suite_secret_missing"},
		{Name: "authCorpId missing", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, "", dingtest.SuiteTicket), Status: badRequest, Golden: "oauth2_corpAccessToken/auth_corp_missing"},
		{Name: "suiteTicket missing", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.SuiteKey, dingtest.SuiteSecret, dingtest.CorpID, ""), Status: badRequest, Golden: "oauth2_corpAccessToken/suite_ticket_missing"},
		{Name: "an app's key and secret", Setup: suites, Method: post, Path: corpTokenPath, Body: corpBody(dingtest.AppKey, dingtest.AppSecret, dingtest.CorpID, "x"), Status: badRequest, Golden: "oauth2_corpAccessToken/app_credentials"},
		{Name: "empty body", Setup: suites, Method: post, Path: corpTokenPath, Status: badRequest, Golden: "oauth2_corpAccessToken/empty_body"},
	}, *update)
}
