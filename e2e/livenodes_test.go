package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/dingtest"
)

// liveFrame is what the member's live socket sends, as the README shows it.
type liveFrame struct {
	Type   string `json:"type"`
	ChatID string `json:"chatid"`
	Seq    int64  `json:"seq"`
	Events int64  `json:"events"`
	Groups []struct {
		ChatID  string `json:"chatid"`
		LastSeq int64  `json:"lastSeq"`
	} `json:"groups"`
	Message struct {
		MessageID string `json:"messageId"`
		Msg       struct {
			Text struct {
				Content string `json:"content"`
			} `json:"text"`
		} `json:"msg"`
	} `json:"message"`
	Event struct {
		Type   string `json:"type"`
		ChatID string `json:"chatid"`
	} `json:"event"`
}

// liveConn is a member's socket on one node.
type liveConn struct {
	t *testing.T
	c *websocket.Conn
}

// dialLive opens /_dingchat/member/live on base and sends the first frame.
func dialLive(t *testing.T, host, token string, resume map[string]any) *liveConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+host+"/_dingchat/member/live", nil)
	if err != nil {
		t.Fatalf("dial the live socket of %s: %v", host, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	start := map[string]any{"token": token}
	for k, v := range resume {
		start[k] = v
	}
	b, _ := json.Marshal(start)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	return &liveConn{t: t, c: c}
}

// next reads one frame, failing after wait.
func (l *liveConn) next(wait time.Duration) liveFrame {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := l.c.Read(ctx)
	if err != nil {
		l.t.Fatalf("no frame within %v: %v", wait, err)
	}
	var f liveFrame
	if err := json.Unmarshal(b, &f); err != nil {
		l.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// TestLiveTwoNodes starts two dingchat processes on one PostgreSQL schema. A
// member connected to node A hears a message sent through the legacy
// chat/send of node B; after a disconnect during which both nodes take
// messages and a change of the group, a reconnect to A with the last
// sequence numbers gets every missed message and event once, in order, and
// then what both nodes commit while it catches up.
func TestLiveTwoNodes(t *testing.T) {
	needBinary(t)
	db := dingtest.ClaimSchema(t, 8) // skips without DINGCHAT_TEST_POSTGRES
	t.Parallel()
	dir := t.TempDir()
	nodes := startNodes(t, 2, dir, writeOrg(t, dir), db)
	a, b := nodes[0], nodes[1]
	token := getToken(t, b.Base, appKey, appSecret)
	chatID := consoleGroup(t, b.Base, token, "跨进程群 two nodes", "manager4220", "wangwu", "zhangsan")
	send := func(p *proc, text string) error {
		var out errBody
		if err := call(http.MethodPost, p.Base+"/chat/send?access_token="+url.QueryEscape(token), map[string]any{
			"chatid": chatID, "msg": map[string]any{"msgtype": "text", "text": map[string]any{"content": text}}}, &out); err != nil {
			return err
		}
		if out.Errcode != 0 {
			return fmt.Errorf("chat/send through %s: errcode %d %s", p.Host, out.Errcode, out.Errmsg)
		}
		return nil
	}

	// wangwu (member token from the org file) on node A
	ws := dialLive(t, a.Host, wangwuToken, nil)
	hello := ws.next(5 * time.Second)
	if hello.Type != "hello" || len(hello.Groups) != 1 || hello.Groups[0].ChatID != chatID || hello.Groups[0].LastSeq != 0 {
		t.Fatalf("hello = %+v, want %s with no message yet", hello, chatID)
	}
	events := hello.Events

	// a message through node B reaches the member on node A
	sent := time.Now()
	if err := send(b, "你好 from node B"); err != nil {
		t.Fatal(err)
	}
	f := ws.next(5 * time.Second)
	if f.Type != "message" || f.ChatID != chatID || f.Seq != 1 || f.Message.Msg.Text.Content != "你好 from node B" {
		t.Fatalf("frame on node A = %+v, want message #1 sent through node B", f)
	}
	t.Logf("node B's message reached the member on node A after %v", time.Since(sent).Round(time.Millisecond))
	for i := 2; i <= 3; i++ {
		if err := send(b, fmt.Sprint("B ", i)); err != nil {
			t.Fatal(err)
		}
		if f := ws.next(5 * time.Second); f.Type != "message" || f.Seq != int64(i) {
			t.Fatalf("frame = %+v, want message #%d", f, i)
		}
	}
	ws.c.Close(websocket.StatusNormalClosure, "")

	// while the member is away: messages through both nodes and a new title through B
	for i := 4; i <= 13; i++ {
		if err := send(nodes[i%2], fmt.Sprint("away ", i)); err != nil {
			t.Fatal(err)
		}
	}
	var upd errBody
	raw := legacy(t, http.MethodPost, b.Base+"/chat/update?access_token="+url.QueryEscape(token), map[string]any{"chatid": chatID, "name": "离线时改名"}, &upd)
	if upd.Errcode != 0 {
		t.Fatalf("chat/update = %s", raw)
	}

	// reconnect to A with the last numbers seen, while both nodes keep sending
	const more = 30
	var wg sync.WaitGroup
	errs := make(chan error, more)
	ws = dialLive(t, a.Host, wangwuToken, map[string]any{"events": events, "groups": map[string]int64{chatID: 3}})
	wg.Go(func() {
		for i := 14; i < 14+more; i++ {
			if err := send(nodes[i%2], fmt.Sprint("during catch-up ", i)); err != nil {
				errs <- err
				return
			}
		}
	})
	if h := ws.next(5 * time.Second); h.Type != "hello" || h.Groups[0].LastSeq < 13 {
		t.Fatalf("hello on reconnect = %+v, want lastSeq 13 or more", h)
	}
	const last = 13 + more
	var seqs []int64
	var titles int
	for len(seqs) < last-3 || titles == 0 {
		f := ws.next(10 * time.Second)
		switch {
		case f.Type == "message" && f.ChatID == chatID:
			seqs = append(seqs, f.Seq)
		case f.Type == "event" && f.Event.Type == "chat_update_title" && f.Event.ChatID == chatID:
			titles++
		case f.Type == "read":
		default:
			t.Fatalf("unexpected frame %+v", f)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var bad []string
	for i, s := range seqs {
		if s != int64(4+i) {
			bad = append(bad, fmt.Sprint(s))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("resumed messages %v, want 4…%d once each in order (out of place: %s)", seqs, last, strings.Join(bad, ","))
	}
	if titles != 1 {
		t.Fatalf("heard the title change %d times, want once", titles)
	}
	// nothing more: no duplicate trails the catch-up
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, b, err := ws.c.Read(ctx); err == nil {
		t.Fatalf("unexpected frame after the catch-up: %s", b)
	}
}
