package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// upload posts content as an image and returns its media_id.
func upload(t *testing.T, base, token string, content []byte) string {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("media", "picture.png")
	fw.Write(content)
	mw.Close()
	resp, err := http.Post(base+"/media/upload?type=image&access_token="+url.QueryEscape(token), mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		errBody
		MediaID string `json:"media_id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(raw, &out) != nil || out.Errcode != 0 {
		t.Fatalf("media/upload = %s", raw)
	}
	return out.MediaID
}

// dingchat runs a dingchat subcommand and returns its output.
func dingchat(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = serverEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dingchat %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A backup taken while senders keep writing restores into a store that
// holds every message acknowledged before the backup began, a gap-free
// timeline, and the uploaded files.
func TestBackupUnderLoadRestores(t *testing.T) {
	needBinary(t)
	if dingtest.Postgres(t) {
		t.Skip("dingchat backup copies SQLite stores; PostgreSQL is backed up with pg_dump")
	}
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	org := writeOrg(t, dir)
	p := start(t, "--data", data, "--org", org, "--demo=false")
	token := getToken(t, p.Base, appKey, appSecret)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token),
		map[string]any{"name": "备份群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}}, &created)
	picture := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...)
	rand.Read(picture[8:])
	mediaID := upload(t, p.Base, token, picture)

	type ack struct {
		id string
		at time.Time
	}
	var mu sync.Mutex
	var acks []ack
	var stop atomic.Bool
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				var out struct {
					errBody
					MessageID string `json:"messageId"`
				}
				body := map[string]any{"chatid": created.ChatID, "msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": fmt.Sprintf("w%d-%d", w, n.Add(1))}}}
				b, _ := json.Marshal(body)
				resp, err := http.Post(p.Base+"/chat/send?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
				if err != nil {
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if json.Unmarshal(raw, &out) == nil && out.Errcode == 0 {
					mu.Lock()
					acks = append(acks, ack{out.MessageID, time.Now()})
					mu.Unlock()
				}
			}
		}()
	}
	// the load runs until enough sends are acknowledged, however busy the machine
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		got := len(acks)
		mu.Unlock()
		if got >= 50 || time.Now().After(deadline) {
			break
		}
	}
	archive := filepath.Join(dir, "backup.tar.gz")
	began := time.Now()
	out := dingchat(t, "backup", "--data", data, "--to", archive)
	time.Sleep(300 * time.Millisecond) // writes go on after the backup too
	stop.Store(true)
	wg.Wait()
	p.stop()
	t.Log(strings.TrimSpace(out))

	var before []string
	for _, a := range acks {
		if a.at.Before(began) {
			before = append(before, a.id)
		}
	}
	if len(before) < 20 {
		t.Fatalf("only %d messages acknowledged before the backup: the load did not run", len(before))
	}

	restored := filepath.Join(dir, "restored")
	dingchat(t, "restore", "--from", archive, "--data", restored)
	// restoring over a store is refused
	cmd := exec.Command(binary, "restore", "--from", archive, "--data", restored)
	if o, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(o), "exists") {
		t.Fatalf("restore over an existing store: %v %s", err, o)
	}

	q := start(t, "--data", restored, "--org", org, "--demo=false")
	if info := chatGet(t, q.Base, token, created.ChatID); info.Name != "备份群" {
		t.Fatalf("restored group = %+v", info)
	}
	resp, err := http.Get(q.Base + "/media/get?access_token=" + url.QueryEscape(token) + "&media_id=" + url.QueryEscape(mediaID))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, picture) {
		t.Fatalf("restored media: %d bytes, want the %d uploaded", len(got), len(picture))
	}
	q.stop()

	st, err := sqlite.Open(filepath.Join(restored, "dingchat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, err := st.Messages(context.Background(), created.ChatID, ding.MessageQuery{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for i, m := range msgs {
		have[m.ID] = true
		if m.Seq != int64(i+1) {
			t.Fatalf("restored timeline: message %d has seq %d", i, m.Seq)
		}
	}
	for _, id := range before {
		if !have[id] {
			t.Errorf("message %s acknowledged before the backup is missing from the restore", id)
		}
	}
	t.Logf("%d acknowledged before the backup, %d in all, %d restored", len(before), len(acks), len(msgs))
}
