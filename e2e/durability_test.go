package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// Every send the server answered is in the file after a kill -9, with the
// log synced on each commit (the default) and with --sqlite-sync normal,
// which leaves the log to the operating system: a killed process loses
// nothing of it, only a machine going down could.
func TestAcknowledgedSendsSurviveKill(t *testing.T) {
	needBinary(t)
	if dingtest.Postgres(t) {
		t.Skip("kills the process that owns the SQLite file; PostgreSQL's durability is its server's")
	}
	for _, mode := range []string{"full", "normal"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			p := start(t, "--data", data, "--org", writeOrg(t, dir), "--demo=false", "--sqlite-sync", mode)
			banner := p.waitStdout("health:")
			if warned := strings.Contains(banner, "commits are not synced"); warned != (mode == "normal") {
				t.Errorf("--sqlite-sync %s: the banner warns of unsynced commits: %v\n%s", mode, warned, banner)
			}
			token := getToken(t, p.Base, appKey, appSecret)
			chat := createGroup(t, p.Base, token)

			var (
				mu    sync.Mutex
				acked []string
				wg    sync.WaitGroup
			)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 25 {
						b, _ := json.Marshal(map[string]any{"chatid": chat, "msg": map[string]any{"msgtype": "text",
							"text": map[string]string{"content": fmt.Sprintf("写入 %d-%d", w, i)}}})
						resp, err := http.Post(p.Base+"/chat/send?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
						if err != nil {
							t.Error(err)
							return
						}
						raw, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						var out struct {
							errBody
							MessageID string `json:"messageId"`
						}
						if json.Unmarshal(raw, &out); out.Errcode != 0 || out.MessageID == "" {
							t.Errorf("chat/send = %s", raw)
							return
						}
						mu.Lock()
						acked = append(acked, out.MessageID)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-p.done

			stored := requireAcked(t, filepath.Join(data, "dingchat.db"), chat, acked)
			if len(acked) != 200 || stored != 200 {
				t.Errorf("%d sends acknowledged and %d messages stored, want 200 of each", len(acked), stored)
			}
		})
	}
}

// requireAcked opens the SQLite file at path after a crash and fails t for
// every acknowledged message of chat it lacks; it returns how many
// messages chat holds.
func requireAcked(t *testing.T, path, chat string, acked []string) int {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	msgs, err := st.Messages(context.Background(), chat, ding.MessageQuery{Limit: 1 << 20})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range msgs {
		have[m.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Errorf("acknowledged message %s lost", id)
		}
	}
	return len(msgs)
}
