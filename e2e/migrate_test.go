package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// getRaw GETs rawURL with header and returns the body, requiring 200.
func getRaw(t *testing.T, rawURL string, header map[string]string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", rawURL, resp.StatusCode, b)
	}
	return b
}

// A SQLite store built through the API (groups, members, messages, read
// marks, a recall-free timeline, media, tokens, robots, custom robots, a
// suite and its token) moves into an empty PostgreSQL schema; a node on
// PostgreSQL then answers what the SQLite node answered, and goes on from
// there: the next message takes the next number, tokens are the same.
func TestMigrateToPostgres(t *testing.T) {
	needBinary(t)
	if dingtest.Postgres(t) {
		t.Skip("moves a SQLite store: runs in the SQLite pass (with " + dingtest.PostgresEnv + " set)")
	}
	pg := dingtest.ClaimSchema(t, 4)
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte(groupsOrgYAML(2)+strings.TrimPrefix(isvOrgYAML, orgYAML)), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(data, "dingchat.db")
	p := start(t, "--data", data, "--org", org, "--demo=false", "--db", "sqlite:"+dbPath)
	token := getToken(t, p.Base, appKey, appSecret)
	q := "?access_token=" + url.QueryEscape(token)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create"+q, map[string]any{"name": "迁移群", "owner": "manager4220",
		"useridlist": []string{"manager4220", "zhangsan", "lisi"}}, &created)
	var e errBody
	legacy(t, http.MethodPost, p.Base+"/chat/update"+q, map[string]any{"chatid": created.ChatID, "name": "迁移群改名"}, &e)
	declared := service.OrgChatID(corpID, "声明的群1")
	for i := range 12 {
		for _, chat := range []string{created.ChatID, declared} {
			legacy(t, http.MethodPost, p.Base+"/chat/send"+q, map[string]any{"chatid": chat,
				"msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": fmt.Sprintf("消息 %d", i)}}}, &e)
			if e.Errcode != 0 {
				t.Fatalf("send: %+v", e)
			}
		}
	}
	legacy(t, http.MethodPost, p.Base+"/robot/send?access_token=e2ewebhooktoken0001", map[string]any{"msgtype": "text", "text": map[string]string{"content": "来自自定义机器人"}}, &e)
	owner := map[string]string{"Authorization": "Bearer " + ownerToken}
	post(t, p.Base+"/_dingchat/member/groups/"+created.ChatID+"/read", owner, map[string]any{"seq": 7}, http.StatusOK, nil)
	post(t, p.Base+"/_dingchat/member/groups/"+declared+"/messages", owner, map[string]any{"msgtype": "text", "text": map[string]string{"content": "成员发的"}}, http.StatusOK, nil)
	picture := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2048)...)
	rand.Read(picture[8:])
	mediaID := upload(t, p.Base, token, picture)
	var suite struct {
		errBody
		SuiteAccessToken string `json:"suite_access_token"`
	}
	legacy(t, http.MethodPost, p.Base+"/service/get_suite_token", map[string]any{"suite_key": isvSuiteKey, "suite_secret": isvSuiteSecret, "suite_ticket": isvTicket}, &suite)
	if suite.Errcode != 0 {
		t.Fatalf("get_suite_token: %+v", suite)
	}
	views := func(base string) map[string]string {
		v := map[string]string{"groups": string(getRaw(t, base+"/_dingchat/member/groups", owner))}
		for _, chat := range []string{created.ChatID, declared} {
			v[chat] = string(getRaw(t, base+"/_dingchat/member/groups/"+chat+"/messages?order=asc&limit=100", owner))
		}
		return v
	}
	before := views(p.Base)
	p.stop()

	out := dingchat(t, "migrate", "--from", "sqlite:"+dbPath, "--to", pg)
	t.Log(out)
	for _, table := range []string{"messages", "chats", "webhooks", "suite_tokens", "read_marks", "media", "events"} {
		if !strings.Contains(out, "verified "+table) {
			t.Errorf("migrate did not verify %s:\n%s", table, out)
		}
	}
	// a second run finds the target full and changes nothing
	cmd := exec.Command(binary, "migrate", "--from", "sqlite:"+dbPath, "--to", pg)
	if o, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(o), "not empty") {
		t.Fatalf("migrate into a full schema: %v %s", err, o)
	}

	n := start(t, "--data", data, "--org", org, "--demo=false", "--db", pg)
	after := views(n.Base)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s on PostgreSQL:\n%s\nwant (as on SQLite):\n%s", k, after[k], v)
		}
	}
	if got := getToken(t, n.Base, appKey, appSecret); got != token {
		t.Errorf("token after migrating = %s, want the same %s", got, token)
	}
	legacy(t, http.MethodPost, n.Base+"/service/get_suite_token", map[string]any{"suite_key": isvSuiteKey, "suite_secret": isvSuiteSecret, "suite_ticket": isvTicket}, &suite)
	if suite.Errcode != 0 {
		t.Errorf("get_suite_token after migrating: %+v", suite)
	}
	var sent struct {
		errBody
		MessageID string `json:"messageId"`
	}
	legacy(t, http.MethodPost, n.Base+"/chat/send"+q, map[string]any{"chatid": created.ChatID,
		"msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": "迁移之后"}}}, &sent)
	if sent.Errcode != 0 {
		t.Fatalf("send after migrating: %+v", sent)
	}
	page := string(getRaw(t, n.Base+"/_dingchat/member/groups/"+created.ChatID+"/messages?order=desc&limit=1", owner))
	if !strings.Contains(page, `"seq":13`) || !strings.Contains(page, "迁移之后") {
		t.Errorf("newest message after migrating: %s, want seq 13", page)
	}
	legacy(t, http.MethodPost, n.Base+"/robot/send?access_token=e2ewebhooktoken0001", map[string]any{"msgtype": "text", "text": map[string]string{"content": "迁移后的机器人"}}, &e)
	if e.Errcode != 0 {
		t.Errorf("custom robot after migrating: %+v", e)
	}
	if got := getRaw(t, n.Base+"/media/get"+q+"&media_id="+url.QueryEscape(mediaID), nil); !bytes.Equal(got, picture) {
		t.Errorf("media after migrating: %d bytes, want %d", len(got), len(picture))
	}
	n.stop()
}
