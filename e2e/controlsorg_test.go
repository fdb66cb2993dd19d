package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The org file can switch the test controls on and declare where the
// clock starts and which faults a run begins with.
func TestOrgFileTestControls(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	org := orgYAML + `testControls:
  enabled: true
  clock: "2030-01-01T08:00:00+08:00"
  faults:
    - path: /chat/get
      action: error
      errcode: 90018
      errmsg: 当前请求被限流
`
	path := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(path, []byte(org), 0o600); err != nil {
		t.Fatal(err)
	}
	const admin = "e2e-org-controls-admin-token"
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", path, "--demo=false", "--admin-token", admin)
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/_dingchat/admin/clock", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var clock struct {
		Now     string `json:"now"`
		Movable bool   `json:"movable"`
		Pinned  bool   `json:"pinned"`
	}
	json.NewDecoder(resp.Body).Decode(&clock)
	resp.Body.Close()
	if resp.StatusCode != 200 || !clock.Movable || !clock.Pinned || !strings.HasPrefix(clock.Now, "2030-01-01T08:00:00") {
		t.Fatalf("clock = %d %+v, want pinned at the file's time", resp.StatusCode, clock)
	}
	token := getToken(t, p.Base, appKey, appSecret)
	var got struct {
		Errcode int
		Errmsg  string
	}
	legacy(t, "GET", p.Base+"/chat/get?access_token="+token+"&chatid=chat00000000000000000000000000000000", nil, &got)
	if got.Errcode != 90018 || got.Errmsg != "当前请求被限流" {
		t.Fatalf("chat/get = %+v, want the file's fault", got)
	}
}
