package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
)

// tinyDisk mounts a tmpfs of size bytes for t, or skips t when it may not.
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root and mount rights): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	// the last partial blocks too
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
	return p
}

// On a full disk, sends fail with -1, health answers 503 and says why,
// and after a restart on a disk with room every acknowledged message is
// there and at most the one commit that failed is in doubt.
func TestDiskFull(t *testing.T) {
	needBinary(t)
	if dingtest.Postgres(t) {
		t.Skip("fills the SQLite store's disk; PostgreSQL's disk is the server's")
	}
	t.Parallel()
	disk := tinyDisk(t, "6m")
	dir := t.TempDir()
	data := filepath.Join(disk, "data")
	org := writeOrg(t, dir)
	p := start(t, "--data", data, "--org", org, "--demo=false")
	token := getToken(t, p.Base, appKey, appSecret)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token),
		map[string]any{"name": "满盘群", "owner": "manager4220", "useridlist": []string{"manager4220"}}, &created)

	send := func(i int) (string, string) {
		b, _ := json.Marshal(map[string]any{"chatid": created.ChatID, "msg": map[string]any{"msgtype": "text",
			"text": map[string]string{"content": fmt.Sprintf("%04d %s", i, strings.Repeat("满", 300))}}})
		resp, err := http.Post(p.Base+"/chat/send?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct {
			errBody
			MessageID string `json:"messageId"`
		}
		json.Unmarshal(raw, &out)
		return out.MessageID, string(raw)
	}
	var acked []string
	for i := range 20 {
		id, raw := send(i)
		if id == "" {
			t.Fatalf("send %d before the disk filled: %s", i, raw)
		}
		acked = append(acked, id)
	}
	filler := fill(t, disk)
	failedAt, refusals := -1, 0
	for i := 20; i < 5000 && refusals < 20; i++ {
		id, raw := send(i)
		if id != "" {
			if failedAt >= 0 {
				t.Logf("send %d succeeded after a failure", i)
			}
			acked = append(acked, id)
			continue
		}
		if raw != `{"errcode":-1,"errmsg":"系统繁忙"}` {
			t.Fatalf("send %d on a full disk = %s, want -1", i, raw)
		}
		if failedAt < 0 {
			failedAt = i
		}
		refusals++
	}
	if failedAt < 0 {
		t.Fatalf("5000 sends on a full disk all succeeded")
	}
	resp, err := http.Get(p.Base + "/_dingchat/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("first refusal at send %d; health: %d %s", failedAt, resp.StatusCode, body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"reason":`) {
		t.Fatalf("health on a full disk = %d %s, want 503 with a reason", resp.StatusCode, body)
	}
	// twenty refusals, one cause: a few error lines, not twenty
	if n := strings.Count(p.errb.String(), "level=ERROR"); n > 5 {
		t.Errorf("%d error lines for %d refusals of one cause, want at most 5:\n%s", n, refusals, p.errb)
	}
	os.Remove(filler)
	p.cmd.Process.Kill() // a crash, not a clean stop
	<-p.done

	stored := requireAcked(t, filepath.Join(data, "dingchat.db"), created.ChatID, acked)
	// one sender: a failed commit held at most this send and a health probe
	if extra := stored - len(acked); extra > 1 {
		t.Errorf("%d messages answered -1 are stored; at most the one of the failed commit may be", extra)
	}
	q := start(t, "--data", data, "--org", org, "--demo=false")
	q.stop()
}
