package e2e

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
		"  data:   " + filepath.Join(data, "dingchat.db"),
		"  health: " + p.Base + "/_dingchat/health",
		"corp " + corpID + " (端到端测试企业)",
		"appKey    " + appKey,
		"appSecret " + appSecret,
		"users (4): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
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
	appKeyLine    = regexp.MustCompile(`(?m)^\s+appKey\s+(\S+)$`)
	appSecretLine = regexp.MustCompile(`(?m)^\s+appSecret\s+(\S+)$`)
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
	if n := strings.Count(out, "\ncorp "); n != 1 {
		t.Errorf("after restart the banner lists %d corps, want 1:\n%s", n, out)
	}
	if info := chatGet(t, p.Base, token, created.ChatID); info.Name != "演示群" {
		t.Errorf("demo group after restart = %+v", info)
	}
	p.stop()
}
