package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/jackc/pgx/v5"
)

// PGRestartEnv allows TestPostgresRestartUnderLoad to restart the local
// PostgreSQL cluster; every other test using that server sees its
// connections cut, so it is never on by default.
const PGRestartEnv = "DINGCHAT_TEST_PG_RESTART"

// TestPostgresRestartUnderLoad restarts PostgreSQL while senders keep
// writing: DingChat answers errors while the database is gone, health says
// so, both recover without a restart of DingChat, and every acknowledged
// message is in the database afterwards.
func TestPostgresRestartUnderLoad(t *testing.T) {
	needBinary(t)
	if os.Getenv(PGRestartEnv) != "1" {
		t.Skip(PGRestartEnv + "=1 not set: restarting the PostgreSQL cluster would cut every other test's connections")
	}
	restart := os.Getenv("DINGCHAT_TEST_PG_RESTART_CMD")
	if restart == "" {
		restart = "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
	}
	pg := dingtest.ClaimSchema(t, 4)
	dir := t.TempDir()
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false", "--db", pg)
	token := getToken(t, p.Base, appKey, appSecret)
	var created createBody
	legacy(t, http.MethodPost, p.Base+"/chat/create?access_token="+url.QueryEscape(token),
		map[string]any{"name": "重启群", "owner": "manager4220", "useridlist": []string{"manager4220"}}, &created)

	var mu sync.Mutex
	var acked []string
	var failed, okAfter atomic.Int64
	var restarted atomic.Bool
	var stop atomic.Bool
	var wg sync.WaitGroup
	var firstFail atomic.Value
	var firstFailAt, lastFailAt atomic.Int64
	t0 := time.Now()
	client := &http.Client{Timeout: 40 * time.Second}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				b, _ := json.Marshal(map[string]any{"chatid": created.ChatID, "msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": fmt.Sprintf("w%d-%d", w, i)}}})
				resp, err := client.Post(p.Base+"/chat/send?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
				if err != nil {
					failed.Add(1)
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					errBody
					MessageID string `json:"messageId"`
				}
				if json.Unmarshal(raw, &out) == nil && out.Errcode == 0 {
					mu.Lock()
					acked = append(acked, out.MessageID)
					mu.Unlock()
					if restarted.Load() {
						okAfter.Add(1)
					}
				} else {
					if failed.Add(1) == 1 {
						firstFail.Store(string(raw))
					}
					lastFailAt.Store(int64(time.Since(t0)))
					firstFailAt.CompareAndSwap(0, int64(time.Since(t0)))
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	var unhealthy atomic.Int64
	var lastReason atomic.Value
	var transitions []string // health over time, for the log
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := 0
		for !stop.Load() {
			asked := time.Now()
			resp, err := client.Get(p.Base + "/_dingchat/health")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					unhealthy.Add(1)
					lastReason.Store(string(b))
				}
				if resp.StatusCode != last {
					transitions = append(transitions, fmt.Sprintf("%v: %d (took %v)", asked.Sub(t0).Round(time.Millisecond), resp.StatusCode, time.Since(asked).Round(time.Millisecond)))
					last = resp.StatusCode
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	time.Sleep(time.Second)
	began := time.Now()
	t.Logf("restarting PostgreSQL at %v", began.Sub(t0).Round(time.Millisecond))
	if out, err := exec.Command("sh", "-c", restart).CombinedOutput(); err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("%s: %v\n%s", restart, err, out)
	}
	restarted.Store(true)
	t.Logf("PostgreSQL restarted in %v", time.Since(began).Round(time.Millisecond))
	// DingChat must come back by itself
	deadline := time.Now().Add(30 * time.Second)
	for okAfter.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if okAfter.Load() < 50 {
		t.Fatalf("only %d sends succeeded in the 30 s after PostgreSQL came back", okAfter.Load())
	}
	p.waitHealthy()
	t.Logf("health: %s", strings.Join(transitions, "; "))
	t.Logf("sends failed from %v to %v; first: %v", time.Duration(firstFailAt.Load()).Round(time.Millisecond), time.Duration(lastFailAt.Load()).Round(time.Millisecond), firstFail.Load())
	t.Logf("%d acknowledged, %d refused; health answered 503 %d times (last: %v)", len(acked), failed.Load(), unhealthy.Load(), lastReason.Load())
	if failed.Load() > 0 && unhealthy.Load() == 0 {
		t.Errorf("%d sends failed while PostgreSQL was down, but health never said so", failed.Load())
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.Replace(pg, "pool_max_conns=4&", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id FROM messages WHERE chat_id = $1`, created.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, id := range ids {
		have[id] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Errorf("acknowledged message %s is not in the database", id)
		}
	}
	p.stop()
}
