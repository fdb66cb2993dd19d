package orgfile

import (
	"strings"
	"testing"
)

// TestErrorsNameLinesAndKeys: every error points at the line to fix and
// speaks of YAML keys, never of Go types.
func TestErrorsNameLinesAndKeys(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      []string
	}{
		{"indent too shallow", "corps:\n  - corpId: a\n    apps:\n      - appKey: k\n        appSecret: s\n       agentId: 3\n",
			[]string{"line 6: ", "indentation"}},
		{"indent too deep", "corps:\n  - corpId: a\n    users:\n      - userid: u\n         name: x\n",
			[]string{"line 5: "}},
		{"tab indent", "corps:\n\t- corpId: a\n", []string{"line 2: "}},
		{"not a number", "corps:\n  - corpId: a\n    monthlyQuota: abc\n",
			[]string{`line 3: corps[0].monthlyQuota must be a number, not "abc"`}},
		{"not a boolean", "corps:\n  - corpId: a\n    users:\n      - userid: u\n        admin: maybe\n",
			[]string{`line 5: corps[0].users[0].admin must be true or false, not "maybe"`}},
		{"mapping for a list", "corps:\n  - corpId: a\n    apps: {appKey: x}\n",
			[]string{"line 3: corps[0].apps must be a list, not a mapping"}},
		{"unknown key", "corps:\n  - corpId: a\n    users:\n      - userid: u\n        nmae: x\n",
			[]string{"line 5: unknown key nmae in corps[0].users[0]", "memberToken", "name"}},
		{"unknown top-level key", "corp:\n  - corpId: a\n", []string{"line 1: unknown key corp in the top level (known keys: corps, suites, testControls)"}},
		{"several at once", "corps:\n  - corpId: a\n    monthlyQuota: x\n    users:\n      - userid: u\n        admin: maybe\n",
			[]string{"line 3: corps[0].monthlyQuota", "\nline 6: corps[0].users[0].admin"}},
		{"rule broken", "corps:\n  - corpId: a\n    users:\n      - userid: u\n      - userid: u\n",
			[]string{"line 5: corps[0].users[1]: userid u appears twice"}},
		{"rule on a key", "corps:\n  - corpId: a\n    monthlyQuota: -1\n",
			[]string{"line 3: corps[0].monthlyQuota: must not be negative, got -1"}},
		{"limit rule, shared with the admin API", "corps:\n  - corpId: a\n    apps:\n      - appKey: k\n        appSecret: s\n        limits:\n          ipAllowList: [10.0.0.300]\n",
			[]string{`line 6: corps[0].apps[0].limits: "10.0.0.300" is neither an IP nor a CIDR`}},
		{"suite rule", "corps:\n  - corpId: a\nsuites:\n  - suiteKey: k\n    suiteSecret: s\n    authCorps:\n      - corpId: b\n        permanentCode: p\n",
			[]string{"line 7: suites[0].authCorps[0]: corpId b is not declared under corps"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.doc), 0)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, goWord := range []string{"orgfile.", "int64", "[]string", "unmarshal", "!!"} {
				if strings.Contains(err.Error(), goWord) {
					t.Errorf("error %q speaks of Go or YAML internals (%s)", err, goWord)
				}
			}
		})
	}
}
