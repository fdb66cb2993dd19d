package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	// the whole file: users, robots, groups with robots and custom robots, a suite
	full := groupsOrgYAML(groups) + strings.TrimPrefix(isvOrgYAML, orgYAML)
	if err := os.WriteFile(org, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := startNodes(t, 4, dir, org, db)
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

// A second SIGTERM during the grace period ends the process at once, and
// what was acknowledged before is there after a restart.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	org := writeOrg(t, dir)
	p := start(t, "--data", data, "--org", org, "--demo=false", "--shutdown-timeout", "60s")
	token := getToken(t, p.Base, appKey, appSecret)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token),
		map[string]any{"name": "信号前的群", "owner": "manager4220", "useridlist": []string{"manager4220"}}, &created)
	if created.Errcode != 0 {
		t.Fatalf("chat/create: %+v", created)
	}
	// a request that never completes holds the graceful stop open
	conn, err := net.Dial("tcp", p.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	io.WriteString(conn, "GET /_dingchat/health HTTP/1.1\r\nHost: "+p.Host+"\r\n\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil {
		t.Fatalf("health on the connection: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	io.WriteString(conn, "POST /chat/create?access_token="+url.QueryEscape(token)+" HTTP/1.1\r\nHost: "+p.Host+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	time.Sleep(500 * time.Millisecond) // until the server has read the headers
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.errb.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown logged after SIGTERM; stderr:\n%s", p.errb)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-p.done:
		t.Fatalf("dingchat exited (%v) with a request in flight after one signal", p.waitEr)
	case <-time.After(200 * time.Millisecond):
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("dingchat still running 5s after the second SIGTERM (grace period 60s)")
	}
	if !strings.Contains(p.errb.String(), "second signal") {
		t.Errorf("stderr does not say why it exited:\n%s", p.errb)
	}
	t.Logf("exited %v after the second signal", time.Since(sent).Round(time.Millisecond))
	p = start(t, "--data", data, "--org", org, "--demo=false")
	if info := chatGet(t, p.Base, token, created.ChatID); info.Name != "信号前的群" {
		t.Errorf("group created before the signals = %+v", info)
	}
	p.stop()
}

// The running binary serves its metrics to the admin token, connections and
// store commits included.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false", "--admin-token", "e2e-admin-token-0001")
	getToken(t, p.Base, appKey, appSecret)
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/_dingchat/metrics", nil)
	req.Header.Set("Authorization", "Bearer e2e-admin-token-0001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics = %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`dingchat_http_connections{state="active"} 1`,
		`dingchat_http_requests_total{code="0",route="/gettoken",status="200",surface="legacy"} 1`,
		"dingchat_store_commit_batch_size_count ",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop()
}
