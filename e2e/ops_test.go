package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// groupsOrgYAML is the fixed corp with org robots and n declared groups, each
// with a robot and a custom robot of a fixed token.
func groupsOrgYAML(n int) string {
	var b strings.Builder
	b.WriteString(orgYAML)
	b.WriteString("    robots:\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "      - robotCode: dinge2erobot%04d\n        name: 机器人%d\n", i, i)
	}
	b.WriteString("    groups:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "      - name: 声明的群%d\n        owner: manager4220\n        members: [zhangsan, lisi]\n", i)
		fmt.Fprintf(&b, "        robots: [dinge2erobot%04d, dinge2erobot%04d]\n", i%3+1, (i+1)%3+1)
		fmt.Fprintf(&b, "        webhooks:\n          - name: 告警%d\n            accessToken: e2ewebhooktoken%04d\n", i, i)
		fmt.Fprintf(&b, "          - name: 加签%d\n            accessToken: e2ewebhooksigned%04d\n            secret: SECe2e%04d\n", i, i, i)
	}
	return b.String()
}

// TestNodesStartTogetherWithOrgGroups starts four nodes on one empty
// PostgreSQL schema at the same moment with an org file that declares groups,
// robots and custom robots: every node starts, and each group, robot placement
// and custom robot exists once.
func TestNodesStartTogetherWithOrgGroups(t *testing.T) {
	needBinary(t)
	db := dingtest.ClaimSchema(t, 4)
	t.Parallel()
	dir := t.TempDir()
	org := filepath.Join(dir, "org.yaml")
	const groups = 6
	if err := os.WriteFile(org, []byte(groupsOrgYAML(groups)), 0o600); err != nil {
		t.Fatal(err)
	}
	var nodes [4]*proc
	for i := range nodes {
		nodes[i] = launch(t, nil, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, fmt.Sprint("node", i)),
			"--org", org, "--demo=false", "--db", db)
	}
	for _, p := range nodes {
		p.ready()
	}
	tok := getToken(t, nodes[0].Base, appKey, appSecret)
	for i := 1; i <= groups; i++ {
		c := chatGet(t, nodes[i%len(nodes)].Base, tok, service.OrgChatID(corpID, fmt.Sprintf("声明的群%d", i)))
		if !sameSet(c.UserIDList, []string{"manager4220", "zhangsan", "lisi"}) {
			t.Errorf("group %d members = %v", i, c.UserIDList)
		}
		// each custom robot answers on every node
		var e errBody
		legacy(t, "POST", nodes[(i+1)%len(nodes)].Base+"/robot/send?access_token="+fmt.Sprintf("e2ewebhooktoken%04d", i),
			map[string]any{"msgtype": "text", "text": map[string]string{"content": "hello"}}, &e)
		if e.Errcode != 0 {
			t.Errorf("group %d webhook: errcode %d %s", i, e.Errcode, e.Errmsg)
		}
	}
	for _, p := range nodes {
		p.stop()
	}
}
