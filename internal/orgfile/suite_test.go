package orgfile

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

const suitesDoc = `
corps:
  - corpId: dingcorpa
    apps:
      - {appKey: dingappa, appSecret: s, agentId: 1000}
  - corpId: dingcorpb
suites:
  - suiteKey: suitekey1
    suiteSecret: suite-secret-1
    suiteTicket: ticket-1
    name: ISV 应用
    authCorps:
      - corpId: dingcorpb
        permanentCode: perm-b
        agentId: 7001
        scopes: [qyapi_chat_manage]
      - corpId: dingcorpa
        permanentCode: perm-a
  - suiteKey: customkey1
    suiteSecret: custom-secret
    custom: true
`

func TestParseSuites(t *testing.T) {
	orgs, err := Parse(strings.NewReader(suitesDoc), 42)
	if err != nil {
		t.Fatal(err)
	}
	a, b := orgs[0], orgs[1]
	isv := ding.Suite{Key: "suitekey1", Secret: "suite-secret-1", Ticket: "ticket-1", Name: "ISV 应用", CreatedAt: 42}
	custom := ding.Suite{Key: "customkey1", Secret: "custom-secret", Custom: true, Name: "customkey1", CreatedAt: 42}
	// the first corp holds every suite; a corp that authorised one holds it too
	if got, want := a.Suites, []ding.Suite{isv, custom}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first corp's suites = %+v, want %+v", got, want)
	}
	if got, want := b.Suites, []ding.Suite{isv}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second corp's suites = %+v, want %+v", got, want)
	}
	if got, want := b.SuiteAuths, []ding.SuiteAuth{{SuiteKey: "suitekey1", CorpID: "dingcorpb", PermanentCode: "perm-b", AgentID: 7001,
		Scopes: []string{ding.ScopeChatManage}, CreatedAt: 42}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second corp's authorisations = %+v, want %+v", got, want)
	}
	// agentId defaults to 5000 + the suite's position; scopes to all
	if got, want := a.SuiteAuths, []ding.SuiteAuth{{SuiteKey: "suitekey1", CorpID: "dingcorpa", PermanentCode: "perm-a", AgentID: 5000, CreatedAt: 42}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first corp's authorisations = %+v, want %+v", got, want)
	}
	if app := a.SuiteAuths[0].App("ISV 应用"); !reflect.DeepEqual(app.Scopes, ding.DefaultScopes) || app.SuiteKey != "suitekey1" || app.Key != "suitekey1@dingcorpa" {
		t.Fatalf("authorisation's app = %+v", app)
	}
}

func TestParseSuitesRejects(t *testing.T) {
	const corp = "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s, agentId: 9}\n"
	for _, tc := range []struct{ name, doc string }{
		{"no suiteKey", corp + "suites:\n  - {suiteSecret: s}\n"},
		{"no suiteSecret", corp + "suites:\n  - {suiteKey: k1}\n"},
		{"suiteKey twice", corp + "suites:\n  - {suiteKey: k1, suiteSecret: s}\n  - {suiteKey: k1, suiteSecret: t}\n"},
		{"no corp in the file", "suites:\n  - {suiteKey: k1, suiteSecret: s}\n"},
		{"authCorp without permanentCode", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a}]\n"},
		{"authCorp without corpId", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{permanentCode: p}]\n"},
		{"authCorp not declared", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: b, permanentCode: p}]\n"},
		{"corp authorises twice", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p, agentId: 1}, {corpId: a, permanentCode: q, agentId: 2}]\n"},
		{"agentId of an app", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p, agentId: 9}]\n"},
		{"agentId of another suite", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p, agentId: 7}]\n" +
			"  - suiteKey: k2\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p, agentId: 7}]\n"},
		{"app key of the suite's app", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k1@a, appSecret: s}\nsuites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p}]\n"},
		{"unknown suite key", corp + "suites:\n  - {suiteKey: k1, suiteSecret: s, secret: x}\n"},
		{"unknown authCorp key", corp + "suites:\n  - suiteKey: k1\n    suiteSecret: s\n    authCorps: [{corpId: a, permanentCode: p, agentid: 3}]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(tc.doc), 0); err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
		})
	}
}

// TestReadmeSuites keeps the README's org file example declaring a suite.
func TestReadmeSuites(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no yaml example")
	}
	orgs, err := Parse(strings.NewReader(string(m[1])), 0)
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if len(orgs) == 0 || len(orgs[0].Suites) == 0 || len(orgs[0].SuiteAuths) == 0 {
		t.Fatalf("README example declares no suite authorised by its corp: %+v", orgs)
	}
}
