package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func ctlAdminCall(t *testing.T, base, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, base+"/_dingchat/admin"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer adm-e2e-controls")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out
}

// TestBinaryResetsToTheOrgFile runs the binary with the test controls: the
// banner says so, a reset drops what a test made and keeps what the file
// declares, and a moved clock stays moved across a restart.
func TestBinaryResetsToTheOrgFile(t *testing.T) {
	t.Parallel()
	needBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	args := []string{"--data", data, "--org", writeOrg(t, dir), "--demo=false", "--test-controls", "--admin-token", "adm-e2e-controls"}
	p := start(t, args...)
	p.waitStdout("test controls: ON")
	tok := getToken(t, p.Base, appKey, appSecret)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+tok,
		map[string]any{"name": "临时群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}}, &created)
	if created.Errcode != 0 {
		t.Fatalf("chat/create: %+v", created)
	}
	ctlAdminCall(t, p.Base, http.MethodPost, "/reset", "")
	tok = getToken(t, p.Base, appKey, appSecret) // the org file's app is back
	var got chatGetBody
	legacy(t, http.MethodGet, p.Base+"/chat/get?"+url.Values{"access_token": {tok}, "chatid": {created.ChatID}}.Encode(), nil, &got)
	if got.Errcode == 0 {
		t.Fatalf("a group made before the reset: %+v", got)
	}
	ctlAdminCall(t, p.Base, http.MethodPost, "/clock", `{"advance":"+1h"}`)
	p.stop()
	p = start(t, args...)
	out := p.waitStdout("test controls: ON")
	if !strings.Contains(out, "clock: moved 1h0m0s ahead") {
		t.Fatalf("banner after restart:\n%s", out)
	}
	if c := ctlAdminCall(t, p.Base, http.MethodGet, "/clock", ""); c["offsetMs"] != float64(3600000) {
		t.Fatalf("clock after restart: %v", c)
	}
}
