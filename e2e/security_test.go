package e2e

import (
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	_ "modernc.org/sqlite"
)

var adminTokenLine = regexp.MustCompile(`(?m)^\s+admin token: (adm[0-9a-f]+)$`)

// adminCall issues a member token through the admin API with bearer and
// returns the status.
func adminCall(t *testing.T, base, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/_dingchat/admin/member-tokens",
		strings.NewReader(`{"corpId":"nosuchcorp","userid":"nobody"}`))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A secret is printed only by the start that minted it; the data file is
// readable by its owner alone.
func TestBannerShowsSecretsOnlyWhenMinted(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, "--data", data)
	out := p.waitStdout("try:")
	adm := adminTokenLine.FindStringSubmatch(out)
	secret := appSecretLine.FindStringSubmatch(out)
	if adm == nil || secret == nil {
		t.Fatalf("first start shows no minted admin token or app secret:\n%s", out)
	}
	if !strings.Contains(out, "&appsecret="+secret[1]) {
		t.Errorf("first start's curl line lacks the minted secret:\n%s", out)
	}
	if got := adminCall(t, p.Base, adm[1]); got != http.StatusNotFound {
		t.Errorf("admin call with the printed token = %d, want 404 (authenticated, unknown user)", got)
	}
	p.stop()
	if !dingtest.Postgres(t) {
		fi, err := os.Stat(filepath.Join(data, "dingchat.db"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("dingchat.db mode = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}

	p = start(t, "--data", data)
	out = p.waitStdout("try:")
	for _, s := range []string{adm[1], secret[1]} {
		if strings.Contains(out, s) {
			t.Errorf("restart prints the secret %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "appsecret=APPSECRET") {
		t.Errorf("restart's curl line does not use a placeholder:\n%s", out)
	}
	if got := adminCall(t, p.Base, adm[1]); got != http.StatusNotFound {
		t.Errorf("admin call after restart = %d, want 404: the kept token still works", got)
	}
	if got := adminCall(t, p.Base, adm[1]+"x"); got != http.StatusUnauthorized {
		t.Errorf("admin call with a wrong token = %d, want 401", got)
	}
	p.stop()

	// --show-secrets prints the recoverable app secret, never the hashed admin token
	p = start(t, "--data", data, "--show-secrets")
	out = p.waitStdout("try:")
	if !strings.Contains(out, "&appsecret="+secret[1]) || strings.Contains(out, adm[1]) {
		t.Errorf("--show-secrets banner:\n%s", out)
	}
	p.stop()
}

// Configured secrets (org file, admin token file) are never printed.
func TestBannerMasksConfiguredSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "admin-token")
	const adminTok = "e2e-admin-token-from-a-file"
	if err := os.WriteFile(tokFile, []byte(adminTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false", "--admin-token-file", tokFile)
	out := p.waitStdout("try:")
	for _, s := range []string{adminTok, appSecret} {
		if strings.Contains(out, s) {
			t.Errorf("banner prints the configured secret %q:\n%s", s, out)
		}
	}
	if got := adminCall(t, p.Base, adminTok); got != http.StatusNotFound {
		t.Errorf("admin call with the file's token = %d, want 404", got)
	}
	p.stop()
}

// migrationsBefore applies the SQLite migrations numbered below n from the
// source tree: the schema a store had before that migration.
func migrationsBefore(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	names, err := filepath.Glob("../internal/store/sqlite/migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v %v", names, err)
	}
	sort.Strings(names)
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil || v >= n {
			continue
		}
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 0)`, v); err != nil {
			t.Fatal(err)
		}
	}
}

// A store written before secrets were hashed keeps working: the access
// token, member token, admin token and join link issued then are accepted
// by the new binary, and none of them is left in the file in plaintext.
func TestOldStoreSecretsKeepWorking(t *testing.T) {
	t.Parallel()
	if dingtest.Postgres(t) {
		t.Skip("the SQLite file format; PostgreSQL's migration is tested in store/postgres")
	}
	needBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, "dingchat.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	migrationsBefore(t, db, 9)
	now := time.Now().UnixMilli()
	const (
		oldAccess = "0123456789abcdef0123456789abcdef"
		oldMember = "mtoldmembertoken0123456789abcdef0123456789abcdef"
		oldAdmin  = "admoldadmintoken0123456789abcdef0123456789abcdef0123456789abcdef"
		oldJoin   = "v1,00112233445566778899aabbccddeeff"
		oldChat   = "chatfedcba9876543210fedcba9876543210"
	)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO corps (id, name, created_at) VALUES (?, '旧企业', ?)`, []any{corpID, now}},
		{`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at)
			VALUES (?, ?, ?, 1001, '旧应用', '["qyapi_chat_manage","qyapi_chat_read","qyapi_chat_base_read","qyapi_robot_sendmsg","qyapi_get_member"]', 1, '[]', 0, ?)`,
			[]any{appKey, corpID, appSecret, now}},
		{`INSERT INTO users (corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at)
			VALUES (?, 'manager4220', 'union-m', '管理员', '13800000000', '', '', '', 1, 1, '[1]', ?)`, []any{corpID, now}},
		{`INSERT INTO tokens (token, app_key, corp_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`, []any{oldAccess, appKey, corpID, now, now + 3600_000}},
		{`INSERT INTO member_tokens (token, corp_id, userid, created_at) VALUES (?, ?, 'manager4220', ?)`, []any{oldMember, corpID, now}},
		{`INSERT INTO settings (key, value) VALUES ('admin_token', ?)`, []any{oldAdmin}},
		{`INSERT INTO chats (chat_id, open_conversation_id, corp_id, name, owner, owner_type, conversation_tag, icon, show_history_type,
			searchable, validation_type, mention_all_authority, management_type, chat_banned_type, status, creator_app, member_count, created_at, updated_at)
			VALUES (?, 'cidold', ?, '旧链接的群', 'manager4220', 'emp', 2, '', 0, 0, 0, 0, 0, 0, 1, ?, 1, ?, ?)`, []any{oldChat, corpID, appKey, now, now}},
		{`INSERT INTO chat_members (chat_id, kind, member_id, role, pos, joined_at) VALUES (?, 'emp', 'manager4220', 1, 0, ?)`, []any{oldChat, now}},
		{`INSERT INTO join_codes (code, corp_id, chat_id, sharer, created_at) VALUES (?, ?, ?, 'manager4220', ?)`, []any{oldJoin, corpID, oldChat, now}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			db.Close()
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	p := start(t, "--data", data, "--demo=false")
	out := p.waitStdout("corp " + corpID)
	if strings.Contains(out, oldAdmin) {
		t.Errorf("banner prints the kept admin token:\n%s", out)
	}
	// the old access token still authenticates
	var created createBody
	raw := legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(oldAccess), map[string]any{
		"name": "旧令牌建的群", "owner": "manager4220", "useridlist": []string{"manager4220"},
	}, &created)
	if created.Errcode != 0 {
		t.Fatalf("chat/create with the old access token = %s", raw)
	}
	// and gettoken hands out a new one rather than the old (it cannot derive it)
	if tok := getToken(t, p.Base, appKey, appSecret); tok == oldAccess {
		t.Errorf("gettoken returned the old plaintext token")
	}
	// the old member token
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/_dingchat/member/me", nil)
	req.Header.Set("Authorization", "Bearer "+oldMember)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("member/me with the old member token = %d, want 200", resp.StatusCode)
	}
	// the old admin token
	if got := adminCall(t, p.Base, oldAdmin); got != http.StatusNotFound {
		t.Errorf("admin call with the old admin token = %d, want 404", got)
	}
	// the old join link opens its group; qrcode/get hands out a new one, the
	// same each time, since the old one cannot be derived
	oldLink := p.Base + "/_dingchat/joingroup?code=" + url.QueryEscape(oldJoin)
	if status, body := getPage(t, oldLink); status != http.StatusOK || !strings.Contains(body, "旧链接的群") {
		t.Errorf("the old join link = %d:\n%s", status, body)
	}
	var links []string
	for range 2 {
		var qr struct {
			errBody
			Result string `json:"result"`
		}
		raw := post(t, p.Base+"/topapi/chat/qrcode/get?access_token="+url.QueryEscape(oldAccess), nil,
			map[string]string{"chatid": oldChat, "userid": "manager4220"}, http.StatusOK, &qr)
		if qr.Errcode != 0 || qr.Result == "" {
			t.Fatalf("qrcode/get on the old store = %s", raw)
		}
		links = append(links, qr.Result)
	}
	if links[0] != links[1] || strings.Contains(links[0], url.QueryEscape(oldJoin)) {
		t.Errorf("qrcode/get on the old store handed out %q then %q; want one new link", links[0], links[1])
	}
	if status, _ := getPage(t, oldLink); status != http.StatusOK {
		t.Errorf("the old join link after a new one = %d", status)
	}
	p.stop()

	raw2, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{oldAccess, oldMember, oldAdmin, oldJoin} {
		if strings.Contains(string(raw2), s) {
			t.Errorf("the store file still holds %q in plaintext", s)
		}
	}
}

// getPage fetches rawURL and returns its status and body.
func getPage(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp.StatusCode, string(b)
}
