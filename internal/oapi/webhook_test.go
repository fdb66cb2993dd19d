package oapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	hookToken  = "b3c4f1e2d5a6978812ab34cd56ef7890a1b2c3d4e5f60718293a4b5c6d7e8f90"
	signToken  = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
	kwToken    = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	hookSecret = "SECb5c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"
	hookSend   = "/robot/send?access_token=" + hookToken
	docText    = `{"msgtype":"text","text":{"content":"我就是我, 是不一样的烟火"}}`

	// vectorTS signs to vectorSign with hookSecret. Both were derived once
	// with an HMAC-SHA256 outside DingChat; TestWebhookSignVector checks
	// them again with crypto/hmac. The value holds '+', '/' and '='.
	vectorTS   = "1767225600002"
	vectorSign = "QLY3Llt82oy1u3a/Uj5jBcvQZPCf0LzLBT+WCOwUcPw="
)

// hooks installs three custom robots in the fixture group: plain, signed
// with hookSecret, and one that wants the keyword 告警.
func hooks(e *servertest.Env) {
	e.T.Helper()
	group(e)
	for _, in := range []service.CreateWebhookInput{
		{Name: "普通机器人", AccessToken: hookToken},
		{Name: "加签机器人", AccessToken: signToken, Secret: hookSecret},
		{Name: "关键词机器人", AccessToken: kwToken, Keywords: []string{"告警"}},
	} {
		in.ChatID = e.Vars["chatid"]
		if _, err := e.Svc.CreateWebhook(context.Background(), in); err != nil {
			e.T.Fatal(err)
		}
	}
}

// flood sends as many messages as the plain robot may send in a minute.
func flood(e *servertest.Env) {
	e.T.Helper()
	for i := 0; i < ding.WebhookPerWindow; i++ {
		if _, err := e.Svc.SendWebhook(context.Background(), service.WebhookSendInput{Token: hookToken, Body: []byte(docText)}); err != nil {
			e.T.Fatalf("message %d: %v", i+1, err)
		}
	}
}

func disband(e *servertest.Env) {
	e.T.Helper()
	if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
		e.T.Fatal(err)
	}
}

// timeline is the fixture group's messages, oldest first.
func timeline(t testing.TB, e *servertest.Env) []ding.Message {
	t.Helper()
	ms, err := e.Store.Messages(context.Background(), e.Vars["chatid"], ding.MessageQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// storedAs checks the last message of the timeline is body from robot name.
func storedAs(name, msgtype string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		ms := timeline(t, e)
		if len(ms) == 0 {
			t.Fatal("nothing stored")
		}
		m := ms[len(ms)-1]
		if m.SenderType != ding.SenderWebhook || m.Sender != name || m.MsgType != msgtype {
			t.Errorf("stored as %+v", m)
		}
	}
}

func TestRobotSendGolden(t *testing.T) {
	signed := func(ts, sig string) string {
		return "/robot/send?access_token=" + signToken + "&timestamp=" + ts + "&sign=" + url.QueryEscape(sig)
	}
	kw := "/robot/send?access_token=" + kwToken
	servertest.Run(t, []servertest.Case{
		{Name: "text as the docs show it", Setup: hooks, Method: post, Path: hookSend, Body: docText, Status: ok, Golden: "robot_send/text", Check: storedAs("普通机器人", "text")},
		{Name: "text with at", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"text","text":{"content":"@13800000001 请看"},"at":{"atMobiles":["13800000001"],"atUserIds":["zhangsan"],"isAtAll":false}}`, Status: ok, Golden: "robot_send/text_at"},
		{Name: "link", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"link","link":{"text":"这个即将发布的新版本","title":"时代的火车向前开","picUrl":"","messageUrl":"https://www.dingtalk.com/s?__biz=MzA4NjMwMTA2Ng=="}}`, Status: ok, Golden: "robot_send/link", Check: storedAs("普通机器人", "link")},
		{Name: "markdown", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"markdown","markdown":{"title":"杭州天气","text":"#### 杭州天气 @150XXXXXXXX \n> 9度，西北风1级"},"at":{"atMobiles":["150XXXXXXXX"],"isAtAll":false}}`, Status: ok, Golden: "robot_send/markdown", Check: storedAs("普通机器人", "markdown")},
		{Name: "actionCard single", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"actionCard","actionCard":{"title":"乔布斯 20 年前想打造一间苹果咖啡厅","text":"![screenshot](https://example.com/a.png) \n #### 乔布斯","btnOrientation":"0","singleTitle":"阅读全文","singleURL":"https://www.dingtalk.com/"}}`, Status: ok, Golden: "robot_send/action_card_single", Check: storedAs("普通机器人", "actionCard")},
		{Name: "actionCard buttons", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btnOrientation":"1","btns":[{"title":"内容不错","actionURL":"https://www.dingtalk.com/"},{"title":"不感兴趣","actionURL":"https://www.dingtalk.com/"}]}}`, Status: ok, Golden: "robot_send/action_card_buttons"},
		{Name: "feedCard", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"feedCard","feedCard":{"links":[{"title":"时代的火车向前开1","messageURL":"https://www.dingtalk.com/","picURL":"https://img.example.com/1.png"},{"title":"时代的火车向前开2","messageURL":"https://www.dingtalk.com/","picURL":"https://img.example.com/2.png"}]}}`, Status: ok, Golden: "robot_send/feed_card", Check: storedAs("普通机器人", "feedCard")},

		{Name: "unknown token", Setup: hooks, Method: post, Path: "/robot/send?access_token=nosuch", Body: docText, Status: ok, Golden: "robot_send/token_unknown"},
		{Name: "no token", Setup: hooks, Method: post, Path: "/robot/send", Body: docText, Status: ok, Golden: "robot_send/token_missing"},
		{Name: "an app's token is not a robot's", Setup: hooks, Method: post, Path: "/robot/send?access_token={{token}}", Body: docText, Status: ok, Golden: "robot_send/app_token"},
		{Name: "unsupported msgtype", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"image","image":{"media_id":"@lADOADmaWMzazQKA"}}`, Status: ok, Golden: "robot_send/msgtype_unsupported"},
		{Name: "no msgtype", Setup: hooks, Method: post, Path: hookSend, Body: `{"text":{"content":"x"}}`, Status: ok, Golden: "robot_send/msgtype_missing"},
		{Name: "body not JSON", Setup: hooks, Method: post, Path: hookSend, Body: `msgtype=text`, Status: ok, Golden: "robot_send/body_not_json"},
		{Name: "text without content", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"text","text":{}}`, Status: ok, Golden: "robot_send/text_without_content"},
		{Name: "markdown without title", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"markdown","markdown":{"text":"x"}}`, Status: ok, Golden: "robot_send/markdown_without_title"},
		{Name: "51 atUserIds", Setup: hooks, Method: post, Path: hookSend, Body: `{"msgtype":"text","text":{"content":"x"},"at":{"atUserIds":` + users(1, 51) + `}}`, Status: ok, Golden: "robot_send/at_user_ids_51"},
		{Name: "group disbanded", Setup: both(hooks, disband), Method: post, Path: hookSend, Body: docText, Status: ok, Golden: "robot_send/group_disbanded"},
		{Name: "body of the largest size", Setup: hooks, Method: post, Path: hookSend, Body: textOfSize(ding.MaxWebhookBytes), Status: ok, Golden: "robot_send/body_largest"},
		{Name: "body one byte too long", Setup: hooks, Method: post, Path: hookSend, Body: textOfSize(ding.MaxWebhookBytes + 1), Status: ok, Golden: "robot_send/body_too_long"},

		{Name: "signed", Setup: hooks, Method: post, Path: signed(vectorTS, vectorSign), Body: docText, Status: ok, Golden: "robot_send/signed", Check: storedAs("加签机器人", "text")},
		{Name: "signed, sign not URL-encoded", Setup: hooks, Method: post, Path: "/robot/send?access_token=" + signToken + "&timestamp=" + vectorTS + "&sign=" + vectorSign, Body: docText, Status: ok, Golden: "robot_send/signed_unencoded"},
		{Name: "sign missing", Setup: hooks, Method: post, Path: "/robot/send?access_token=" + signToken + "&timestamp=" + vectorTS, Body: docText, Status: ok, Golden: "robot_send/sign_missing"},
		{Name: "sign wrong", Setup: hooks, Method: post, Path: signed(vectorTS, "AAAA"+vectorSign[4:]), Body: docText, Status: ok, Golden: "robot_send/sign_mismatch"},
		{Name: "timestamp missing", Setup: hooks, Method: post, Path: "/robot/send?access_token=" + signToken + "&sign=" + url.QueryEscape(vectorSign), Body: docText, Status: ok, Golden: "robot_send/timestamp_missing"},
		{Name: "timestamp over an hour old", Setup: func(e *servertest.Env) {
			hooks(e)
			e.Clock.Advance(time.Hour + 3*time.Millisecond)
		}, Method: post, Path: signed(vectorTS, vectorSign), Body: docText, Status: ok, Golden: "robot_send/timestamp_expired"},
		{Name: "timestamp exactly an hour old", Setup: func(e *servertest.Env) {
			hooks(e)
			e.Clock.Advance(time.Hour + 2*time.Millisecond)
		}, Method: post, Path: signed(vectorTS, vectorSign), Body: docText, Status: ok, Golden: "robot_send/timestamp_hour_old"},

		{Name: "keyword present", Setup: hooks, Method: post, Path: kw, Body: `{"msgtype":"text","text":{"content":"磁盘告警：90%"}}`, Status: ok, Golden: "robot_send/keyword_present"},
		{Name: "keyword absent", Setup: hooks, Method: post, Path: kw, Body: docText, Status: ok, Golden: "robot_send/keyword_absent"},

		{Name: "21st message of the minute", Setup: both(hooks, flood), Method: post, Path: hookSend, Body: docText, Status: ok, Golden: "robot_send/rate_limited"},
		{Name: "20th message of the minute", Setup: func(e *servertest.Env) {
			hooks(e)
			for i := 1; i < ding.WebhookPerWindow; i++ {
				if _, err := e.Svc.SendWebhook(context.Background(), service.WebhookSendInput{Token: hookToken, Body: []byte(docText)}); err != nil {
					e.T.Fatal(err)
				}
			}
		}, Method: post, Path: hookSend, Body: docText, Status: ok, Golden: "robot_send/rate_20th"},
	}, *update)
}

// TestWebhookSignVector computes the fixed vector with crypto/hmac, apart
// from the service's code, and sends it over HTTP encoded as DingTalk's
// docs encode it.
func TestWebhookSignVector(t *testing.T) {
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte(vectorTS + "\n" + hookSecret))
	if got := base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != vectorSign {
		t.Fatalf("HmacSHA256 vector = %s, want %s", got, vectorSign)
	}
	if got, want := url.QueryEscape(vectorSign), "QLY3Llt82oy1u3a%2FUj5jBcvQZPCf0LzLBT%2BWCOwUcPw%3D"; got != want {
		t.Fatalf("URL-encoded sign = %s, want %s", got, want)
	}
	e := servertest.New(t)
	hooks(e)
	r := e.Post("/robot/send?access_token="+signToken+"&timestamp="+vectorTS+"&sign=QLY3Llt82oy1u3a%2FUj5jBcvQZPCf0LzLBT%2BWCOwUcPw%3D", docText)
	wantErrcode(t, r, "0")
}

// TestWebhookRateLimitBoundary: 20 in a minute pass, the 21st is refused,
// the robot stays throttled for 10 minutes, then sends again.
func TestWebhookRateLimitBoundary(t *testing.T) {
	e := servertest.New(t)
	hooks(e)
	for i := 1; i <= ding.WebhookPerWindow; i++ {
		wantErrcode(t, e.Post(hookSend, docText), "0")
	}
	r := e.Post(hookSend, docText)
	if got, want := string(r.Body), `{"errcode":660026,"errmsg":"sending too many messages per minute"}`; got != want {
		t.Fatalf("21st = %s, want %s", got, want)
	}
	e.Clock.Advance(ding.WebhookThrottle - time.Millisecond)
	wantErrcode(t, e.Post(hookSend, docText), "660026")
	e.Clock.Advance(time.Millisecond)
	wantErrcode(t, e.Post(hookSend, docText), "0")
	if got, want := len(timeline(t, e)), ding.WebhookPerWindow+1; got != want {
		t.Fatalf("%d messages stored, want %d", got, want)
	}
}

// TestWebhookCurl runs curl exactly as DingTalk's docs show it.
func TestWebhookCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the webhook is not tried through curl")
	}
	e := servertest.New(t)
	hooks(e)
	out, err := exec.Command(curl, "-sS", e.URL+"/robot/send?access_token="+hookToken,
		"-H", "Content-Type: application/json",
		"-d", `{"msgtype":"text","text":{"content":"我就是我, 是不一样的烟火"}}`).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if got, want := string(out), `{"errcode":0,"errmsg":"ok"}`; got != want {
		t.Fatalf("curl got %s, want %s", got, want)
	}
	ms := timeline(t, e)
	if len(ms) != 1 || string(ms[0].Body) != docText {
		t.Fatalf("timeline = %+v, want the message as curl sent it", ms)
	}
}

// TestWebhookNodeClient drives the npm package dingtalk-robot-sender, signed
// and unsigned, with node. It installs the package into a temp dir.
func TestWebhookNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("installs an npm package: skipped under -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: dingtalk-robot-sender is not tried")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: dingtalk-robot-sender is not tried")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", "dingtalk-robot-sender@1.2.0")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm cannot install dingtalk-robot-sender@1.2.0 here (%v): %s", err, out)
	}
	e := servertest.New(t)
	// the client signs with the real time: bring the server's clock to it
	e.Clock.Advance(time.Since(e.Clock.Now()))
	hooks(e)
	script := `
const ChatBot = require('dingtalk-robot-sender');
const [base, token, signToken, secret] = process.argv.slice(2);
(async () => {
  const plain = new ChatBot({ baseUrl: base + '/robot/send', accessToken: token });
  const signed = new ChatBot({ webhook: base + '/robot/send?access_token=' + signToken, secret });
  const out = [];
  out.push((await plain.text('我就是我, 是不一样的烟火', { atMobiles: ['13800000001'], isAtAll: false })).data);
  out.push((await plain.markdown('杭州天气', '#### 杭州天气\n> 9度')).data);
  out.push((await plain.link({ title: '标题', text: '正文', messageUrl: 'https://www.dingtalk.com/', picUrl: '' })).data);
  out.push((await plain.actionCard({ title: '卡片', text: '正文', btns: [{ title: '查看', actionURL: 'https://www.dingtalk.com/' }] })).data);
  out.push((await plain.feedCard([{ title: '一', messageURL: 'https://a', picURL: 'https://b' }])).data);
  out.push((await signed.text('加签消息')).data);
  out.push((await new ChatBot({ webhook: base + '/robot/send?access_token=nosuch' }).text('x')).data);
  console.log(JSON.stringify(out));
})().catch(err => { console.error(err); process.exit(1); });
`
	path := filepath.Join(dir, "send.js")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.CommandContext(ctx, node, path, e.URL, hookToken, signToken, hookSecret)
	run.Dir = dir
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var answers []map[string]any
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatalf("node printed %s: %v", out, err)
	}
	want := []string{"0", "0", "0", "0", "0", "0", "300005"}
	if len(answers) != len(want) {
		t.Fatalf("answers = %v", answers)
	}
	for i, a := range answers {
		if got := strconv.FormatFloat(a["errcode"].(float64), 'f', -1, 64); got != want[i] {
			t.Errorf("answer %d = %v, want errcode %s", i, a, want[i])
		}
	}
	ms := timeline(t, e)
	var types []string
	for _, m := range ms {
		types = append(types, m.Sender+"/"+m.MsgType)
	}
	if got, want := strings.Join(types, ","), "普通机器人/text,普通机器人/markdown,普通机器人/link,普通机器人/actionCard,普通机器人/feedCard,加签机器人/text"; got != want {
		t.Fatalf("timeline = %s, want %s", got, want)
	}
}

// textOfSize is a text message whose JSON body is exactly n bytes.
func textOfSize(n int) string {
	const head, tail = `{"msgtype":"text","text":{"content":"`, `"}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}
