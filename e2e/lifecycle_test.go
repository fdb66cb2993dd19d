package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type createBody struct {
	errBody
	ChatID             string `json:"chatid"`
	OpenConversationID string `json:"openConversationId"`
	ConversationTag    int    `json:"conversationTag"`
}

func TestServeStopsCleanlyOnSIGTERM(t *testing.T) {
	t.Parallel()
	p, data := startOrg(t)
	out := p.waitStdout("try:")
	for _, want := range []string{
		bannerData(t, data),
		"  health: " + p.Base + "/_dingchat/health",
		"corp " + corpID + " (端到端测试企业)",
		"appKey    " + appKey,
		"appSecret e2e-…", // configured in the org file: masked
		"users (4): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, appSecret) {
		t.Errorf("banner shows the org file's app secret:\n%s", out)
	}
	for _, user := range []string{"manager4220", "zhangsan", "lisi", "wangwu"} {
		if !strings.Contains(out, user) {
			t.Errorf("banner does not name %s:\n%s", user, out)
		}
	}
	getToken(t, p.Base, appKey, appSecret)
	p.stop()
	if !strings.Contains(p.errb.String(), "shutting down") {
		t.Errorf("stderr does not log the shutdown:\n%s", p.errb)
	}
	if _, err := http.Get(p.Base + "/_dingchat/health"); err == nil {
		t.Errorf("server still answers after exit")
	}
}

// Clients cache tokens in files and never refresh on an invalid-token
// error, so a token must outlive a restart; so must the groups.
func TestTokensAndGroupsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	org := writeOrg(t, dir)

	p := start(t, "--data", data, "--org", org, "--demo=false")
	token := getToken(t, p.Base, appKey, appSecret)
	v1 := v1Token(t, p.Host)
	var created createBody
	raw := legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token), map[string]any{
		"name": "重启前的群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan", "lisi"},
		"searchable": 1,
	}, &created)
	if created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("chat/create = %s", raw)
	}
	v1Group := v1CreateGroup(t, p.Host, v1, "v1重启前", "zhangsan", "zhangsan", "wangwu")
	before := chatGet(t, p.Base, token, created.ChatID)
	p.stop()

	// the same org file is applied again: that must change nothing
	p = start(t, "--data", data, "--org", org, "--demo=false")
	after := chatGet(t, p.Base, token, created.ChatID)
	if after.Name != before.Name || after.Owner != before.Owner || !sameSet(after.UserIDList, before.UserIDList) ||
		after.Searchable != 1 || after.ConversationTag != before.ConversationTag || after.Status != 1 {
		t.Errorf("after restart chat_info = %+v, before %+v", after, before)
	}
	// the v1.0 token reaches the legacy surface and the legacy token the v1.0 one
	got := chatGet(t, p.Base, v1, *v1Group.Chatid)
	if got.Name != "v1重启前" || !sameSet(got.UserIDList, []string{"zhangsan", "wangwu"}) {
		t.Errorf("v1.0 group after restart = %+v", got)
	}
	open := v1Convert(t, p.Host, token, created.ChatID)
	if open != created.OpenConversationID {
		t.Errorf("openConversationId after restart = %q, want %q", open, created.OpenConversationID)
	}
	// within its validity the same token comes back
	if again := getToken(t, p.Base, appKey, appSecret); again != token {
		t.Errorf("gettoken after restart = %q, want the still-valid %q", again, token)
	}
	p.stop()
}

var (
	appKeyLine      = regexp.MustCompile(`(?m)^\s+appKey\s+(\S+)$`)
	appSecretLine   = regexp.MustCompile(`(?m)^\s+appSecret\s+(\S+)$`)
	memberTokenLine = regexp.MustCompile(`(?m)^\s+member token of (\S+) \(minted now, shown once\): (\S+)$`)
)

// A plain `dingchat serve` creates the demo organisation and tells the
// user everything needed to make the first call.
func TestDemoBanner(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, "--data", data)
	out := p.waitStdout("try:")
	for _, user := range []string{"manager4220", "zhangsan", "lisi"} {
		if !strings.Contains(out, user) {
			t.Errorf("banner does not name %s:\n%s", user, out)
		}
	}
	key, secret := appKeyLine.FindStringSubmatch(out), appSecretLine.FindStringSubmatch(out)
	if key == nil || secret == nil {
		t.Fatalf("banner names no appKey/appSecret:\n%s", out)
	}
	if !strings.Contains(out, "/gettoken?appkey="+key[1]+"&appsecret="+secret[1]) {
		t.Errorf("banner's curl line does not use the printed key and secret:\n%s", out)
	}
	token := getToken(t, p.Base, key[1], secret[1])

	// a fresh demo prints a member token that signs in, and how to get more
	mt := memberTokenLine.FindStringSubmatch(out)
	if mt == nil || !strings.Contains(out, "/_dingchat/admin/member-tokens") {
		t.Fatalf("banner has no member token or no way to get one:\n%s", out)
	}
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/_dingchat/member/me", nil)
	req.Header.Set("Authorization", "Bearer "+mt[2])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	me, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(me), `"userid":"`+mt[1]+`"`) {
		t.Errorf("the banner's member token: /_dingchat/member/me = %d %s", resp.StatusCode, me)
	}

	var created createBody
	raw := legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token), map[string]any{
		"name": "演示群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan", "lisi"},
	}, &created)
	if created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("chat/create in the demo corp = %s", raw)
	}
	p.stop()

	// the demo corp is created once: a restart keeps its keys
	p = start(t, "--data", data)
	out = p.waitStdout("try:")
	if again := appKeyLine.FindStringSubmatch(out); again == nil || again[1] != key[1] {
		t.Errorf("after restart appKey = %v, want %s", again, key[1])
	}
	if memberTokenLine.MatchString(out) {
		t.Errorf("a restart prints a member token it did not mint:\n%s", out)
	}
	if n := strings.Count(out, "\ncorp "); n != 1 {
		t.Errorf("after restart the banner lists %d corps, want 1:\n%s", n, out)
	}
	if info := chatGet(t, p.Base, token, created.ChatID); info.Name != "演示群" {
		t.Errorf("demo group after restart = %+v", info)
	}
	p.stop()
}

// A request that is in flight when SIGTERM arrives is answered, and what
// it wrote is there after a restart.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	org := writeOrg(t, dir)
	p := start(t, "--data", data, "--org", org, "--demo=false")
	token := getToken(t, p.Base, appKey, appSecret)

	body := `{"name":"关机中创建的群","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`
	conn, err := net.Dial("tcp", p.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// one whole request first: once it is answered the server has accepted
	// the connection (a connection still in the listen queue at SIGTERM is
	// dropped with the listener, not waited for), and reads the next one
	br := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, "GET /_dingchat/health HTTP/1.1\r\nHost: "+p.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(br, nil); err != nil {
		t.Fatalf("health on the connection: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	head := "POST /chat/create?access_token=" + url.QueryEscape(token) + " HTTP/1.1\r\nHost: " + p.Host +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}

	// the request counts as in flight once the server has read its headers;
	// nothing outside the process shows when that happened, and under the
	// race detector on a loaded machine it has taken over 50 ms
	time.Sleep(500 * time.Millisecond)
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
		t.Fatalf("dingchat exited (%v) with a request in flight", p.waitEr)
	case <-time.After(100 * time.Millisecond):
	}

	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created createBody
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &created) != nil || created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("in-flight chat/create = %d %s", resp.StatusCode, raw)
	}
	p.wait()

	p = start(t, "--data", data, "--org", org, "--demo=false")
	if info := chatGet(t, p.Base, token, created.ChatID); info.Name != "关机中创建的群" {
		t.Errorf("group created during shutdown = %+v", info)
	}
	p.stop()
}

// Every flag has a DINGCHAT_* twin; a flag on the command line wins.
func TestServeFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startEnv(t, []string{
		"DINGCHAT_ADDR=127.0.0.1:0",
		"DINGCHAT_DATA=" + data,
		"DINGCHAT_ORG=" + writeOrg(t, dir),
		"DINGCHAT_DEMO=false",
		"DINGCHAT_LOG_FORMAT=json",
	}, "--log-format", "text")
	out := p.waitStdout("try:")
	if !strings.Contains(out, bannerData(t, data)) || strings.Count(out, "\ncorp ") != 1 {
		t.Errorf("banner does not show the environment's data dir and org alone:\n%s", out)
	}
	getToken(t, p.Base, appKey, appSecret)
	p.stop()
	if log := p.errb.String(); !strings.Contains(log, `level=INFO msg="shutting down"`) {
		t.Errorf("--log-format text did not win over DINGCHAT_LOG_FORMAT=json:\n%s", log)
	}
}
