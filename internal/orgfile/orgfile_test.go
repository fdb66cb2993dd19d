package orgfile

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

const sample = `
corps:
  - corpId: dingcorp0001
    name: 示例企业
    monthlyQuota: 5000
    apps:
      - appKey: dingappkey0001
        appSecret: s3cret
        agentId: 3001
        name: CI 机器人
        scopes: [qyapi_chat_manage, qyapi_chat_read]
        visibility: [manager4220, zhangsan]
        ordinaryGroups: true
        limits: {qps: 20, ipAllowList: [10.0.0.0/8, 127.0.0.1]}
      - appKey: dingappkey0002
        appSecret: other
    users:
      - userid: manager4220
        name: 管理员
        mobile: "13800000000"
        unionId: union-manager
      - userid: zhangsan
        name: 张三
    externalContacts:
      - unionId: ext-001
        name: 外部客户
    robots:
      - robotCode: dingrobot0001
        name: 通知机器人
      - robotCode: dingrobot0002
`

func TestParse(t *testing.T) {
	orgs, err := Parse(strings.NewReader(sample), 42)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(orgs), 1; got != want {
		t.Fatalf("corps = %d, want %d", got, want)
	}
	o := orgs[0]
	if got, want := o.Corp.Name, "示例企业"; got != want {
		t.Fatalf("corp name = %q, want %q", got, want)
	}
	a := o.Apps[0]
	if a.VisibleAll || len(a.VisibleUsers) != 2 || !a.OrdinaryGroups || a.AgentID != 3001 || len(a.Scopes) != 2 {
		t.Fatalf("app = %+v", a)
	}
	b := o.Apps[1]
	if !b.VisibleAll || len(b.Scopes) != len(ding.DefaultScopes) || b.Name != "dingappkey0002" {
		t.Fatalf("defaults not applied: %+v", b)
	}
	if got, want := o.Users[0].UnionID, "union-manager"; got != want {
		t.Fatalf("unionId = %q, want %q", got, want)
	}
	derived := o.Users[1].UnionID
	if derived == "" || derived != DeriveUnionID("dingcorp0001", "zhangsan") {
		t.Fatalf("derived unionId = %q, want a stable one", derived)
	}
	if got, want := a.Limits, (ding.Limits{QPS: 20, IPAllowList: []string{"10.0.0.0/8", "127.0.0.1"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("limits = %+v, want %+v", got, want)
	}
	if got, want := o.Corp.MonthlyQuota, 5000; got != want {
		t.Fatalf("monthlyQuota = %d, want %d", got, want)
	}
	if got, want := o.Externals[0].UnionID, "ext-001"; got != want {
		t.Fatalf("external = %q, want %q", got, want)
	}
	if got, want := len(o.Robots), 2; got != want {
		t.Fatalf("robots = %d, want %d", got, want)
	}
	if r := o.Robots[0]; r.Code != "dingrobot0001" || r.Name != "通知机器人" || r.CorpID != "dingcorp0001" || r.CreatedAt != 42 {
		t.Fatalf("robot = %+v", r)
	}
	if got, want := o.Robots[1].Name, "dingrobot0002"; got != want {
		t.Fatalf("unnamed robot's name = %q, want its code %q", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"unknown key", "corps:\n  - corpId: a\n    nmae: typo\n"},
		{"missing corpId", "corps:\n  - name: x\n"},
		{"duplicate corp", "corps:\n  - corpId: a\n  - corpId: a\n"},
		{"app without secret", "corps:\n  - corpId: a\n    apps:\n      - appKey: k\n"},
		{"duplicate app key", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s}\n  - corpId: b\n    apps:\n      - {appKey: k, appSecret: s}\n"},
		{"user without userid", "corps:\n  - corpId: a\n    users:\n      - name: x\n"},
		{"duplicate userid", "corps:\n  - corpId: a\n    users:\n      - userid: u\n      - userid: u\n"},
		{"duplicate mobile", "corps:\n  - corpId: a\n    users:\n      - {userid: u, mobile: '1'}\n      - {userid: v, mobile: '1'}\n"},
		{"visibility word", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s, visibility: some}\n"},
		{"visibility unknown user", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s, visibility: [ghost]}\n"},
		{"external without unionId", "corps:\n  - corpId: a\n    externalContacts:\n      - name: x\n"},
		{"robot without robotCode", "corps:\n  - corpId: a\n    robots:\n      - name: x\n"},
		{"duplicate robotCode across corps", "corps:\n  - corpId: a\n    robots:\n      - robotCode: r\n  - corpId: b\n    robots:\n      - robotCode: r\n"},
		{"unknown robot key", "corps:\n  - corpId: a\n    robots:\n      - {robotCode: r, secret: s}\n"},
		{"not yaml", "corps: [\n"},
		{"negative qps", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s, limits: {qps: -1}}\n"},
		{"bad allow-list entry", "corps:\n  - corpId: a\n    apps:\n      - {appKey: k, appSecret: s, limits: {ipAllowList: [not-an-ip]}}\n"},
		{"negative quota", "corps:\n  - corpId: a\n    monthlyQuota: -5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(tc.doc), 0); err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
		})
	}
}

func TestEmptyDocument(t *testing.T) {
	orgs, err := Parse(strings.NewReader(""), 0)
	if err != nil || len(orgs) != 0 {
		t.Fatalf("Parse(\"\") = %v, %v; want nothing, nil", orgs, err)
	}
}

// TestReadmeExample keeps the README's org file example valid.
func TestReadmeExample(t *testing.T) {
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
	if len(orgs) == 0 || len(orgs[0].Apps) == 0 || len(orgs[0].Users) == 0 {
		t.Fatalf("README example declares no corp, app or user: %+v", orgs)
	}
}

func TestParseGroups(t *testing.T) {
	doc := `
corps:
  - corpId: c1
    users: [{userid: u1}, {userid: u2}]
    robots: [{robotCode: r1}]
    groups:
      - name: 告警群
        owner: u1
        members: [u2]
        robots: [r1]
        webhooks: [{name: ci, accessToken: tok1, secret: SEC1, keywords: [告警]}]
`
	orgs, err := Parse(strings.NewReader(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	g := orgs[0].Groups[0]
	if g.Name != "告警群" || g.Owner != "u1" || len(g.Members) != 1 || g.Robots[0] != "r1" || g.Webhooks[0].Token != "tok1" || g.Webhooks[0].Secret != "SEC1" {
		t.Fatalf("group = %+v", g)
	}
	for _, tc := range []struct{ name, doc string }{
		{"group without owner", "corps:\n  - corpId: c\n    users: [{userid: u}]\n    groups: [{name: g}]\n"},
		{"unknown member", "corps:\n  - corpId: c\n    users: [{userid: u}]\n    groups: [{name: g, owner: u, members: [ghost]}]\n"},
		{"robot of no corp", "corps:\n  - corpId: c\n    users: [{userid: u}]\n    groups: [{name: g, owner: u, robots: [r]}]\n"},
		{"webhook without token", "corps:\n  - corpId: c\n    users: [{userid: u}]\n    groups: [{name: g, owner: u, webhooks: [{name: w}]}]\n"},
		{"webhook token twice", "corps:\n  - corpId: c\n    users: [{userid: u}]\n    groups: [{name: g, owner: u, webhooks: [{name: a, accessToken: t}, {name: b, accessToken: t}]}]\n"},
	} {
		if _, err := Parse(strings.NewReader(tc.doc), 0); err == nil {
			t.Errorf("%s: Parse succeeded, want an error", tc.name)
		}
	}
}
