package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// npmBot is a bot written against the npm dingtalk-stream client: its
// hosts are constants, so an axios interceptor points them at DingChat.
const npmBot = `
import axios from 'axios';
import { DWClient, EventAck, TOPIC_ROBOT } from 'dingtalk-stream';
const [base, key, secret] = process.argv.slice(2);
axios.interceptors.request.use(cfg => { cfg.url = cfg.url.replace(/^https:\/\/(api|oapi)\.dingtalk\.com/, base); return cfg; });
const client = new DWClient({ clientId: key, clientSecret: secret, debug: !!process.env.DEBUG_BOT });
let later = true;
client.registerAllEventListener(msg => {
  const d = JSON.parse(msg.data);
  if (msg.headers.eventType === 'chat_update_title' && later) {
    later = false;
    console.log(JSON.stringify({ later: msg.headers.eventId }));
    return { status: EventAck.LATER };
  }
  console.log(JSON.stringify({ event: msg.headers.eventType, eventId: msg.headers.eventId, title: d.title || '' }));
  return { status: EventAck.SUCCESS };
});
client.registerCallbackListener(TOPIC_ROBOT, async res => {
  const d = JSON.parse(res.data);
  await axios.post(d.sessionWebhook, { msgtype: 'text', text: { content: 'npm收到: ' + d.text.content } },
    { headers: { 'x-acs-dingtalk-access-token': 'ignored' } });
  client.socketCallBackResponse(res.headers.messageId, { ok: true });
  console.log(JSON.stringify({ robot: d.text.content }));
});
await client.connect();
console.log(JSON.stringify({ started: "yes" }));
`

// TestStreamNodeClient runs the npm dingtalk-stream 2.1.5 client with node:
// events caused through the API, a LATER answered with a redelivery, and
// a robot that replies through its sessionWebhook.
func TestStreamNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("installs an npm package: skipped under -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the npm dingtalk-stream client is not tried")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the npm dingtalk-stream client is not tried")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", "dingtalk-stream@2.1.5")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm cannot install dingtalk-stream@2.1.5 here (%v): %s", err, out)
	}
	script := filepath.Join(dir, "bot.mjs")
	if err := os.WriteFile(script, []byte(npmBot), 0o600); err != nil {
		t.Fatal(err)
	}

	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	if _, err := e.Svc.SaveRobot(ctx, dingtest.CorpID, dingtest.AppKey, "npm机器人"); err != nil {
		t.Fatal(err)
	}
	g := e.Group("npm群", "manager4220", "zhangsan")
	if _, err := e.Svc.AddGroupRobot(ctx, g.ChatID, dingtest.AppKey); err != nil {
		t.Fatal(err)
	}
	run := exec.CommandContext(ctx, node, script, e.URL, dingtest.AppKey, dingtest.AppSecret)
	run.Dir = dir
	stdout, _ := run.StdoutPipe()
	var stderr strings.Builder
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { run.Process.Kill(); run.Wait() }()
	var mu sync.Mutex
	var lines []map[string]string
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]string
			if os.Getenv("DEBUG_BOT") != "" {
				t.Log(sc.Text())
			}
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				mu.Lock()
				lines = append(lines, m)
				mu.Unlock()
			}
		}
	}()
	waitLine := func(key, val string) map[string]string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, l := range lines {
				if _, ok := l[key]; ok && (val == "" || l[key] == val) {
					mu.Unlock()
					return l
				}
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("node printed no %s=%q; printed %v; stderr:\n%s", key, val, lines, stderr.String())
		return nil
	}
	waitLine("started", "")
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"add_useridlist":["lisi"]}`, g.ChatID))
	waitLine("event", ding.EventChatAddMember)
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"npm改名"}`, g.ChatID))
	later := waitLine("later", "")
	waitScheduled(t, e, "stream:", 1)
	e.Clock.Advance(events.Retries[0])
	again := waitLine("title", "npm改名")
	if again["eventId"] != later["later"] {
		t.Fatalf("redelivered eventId %s, want %s", again["eventId"], later["later"])
	}
	tok, err := e.Svc.IssueMemberToken(ctx, dingtest.CorpID, "zhangsan", 0)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Do(servertest.Request{Method: "POST", Path: "/_dingchat/member/groups/" + g.ChatID + "/messages",
		Header: map[string]string{"Authorization": "Bearer " + tok.Value},
		Body:   `{"msgtype":"text","text":{"content":"@npm机器人 在吗"},"at":{"atRobotCodes":["` + dingtest.AppKey + `"]}}`})
	if r.Status != 200 {
		t.Fatalf("member send = %d %s", r.Status, r.Body)
	}
	waitLine("robot", "@npm机器人 在吗")
	eventually(t, func() bool {
		ms, _ := e.Store.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 1})
		return len(ms) == 1 && strings.Contains(string(ms[0].Body), "npm收到: @npm机器人 在吗")
	})
	ms, _ := e.Store.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 1})
	if len(ms) != 1 || ms[0].SenderType != ding.SenderRobot {
		t.Fatalf("the npm bot's reply is not in the timeline: %+v", ms)
	}
}
