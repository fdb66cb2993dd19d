package service_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

const hookSecret = "SECb5c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"

// sign computes DingTalk's 加签 on the test's side, independently of the service.
func sign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", ts, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (e *env) webhook(in service.CreateWebhookInput) *ding.Webhook {
	e.t.Helper()
	w, err := e.svc.CreateWebhook(bg, in)
	if err != nil {
		e.t.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

const textBody = `{"msgtype":"text","text":{"content":"我就是我, 是不一样的烟火"}}`

func TestCreateWebhook(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "告警机器人", Sign: true})
	if len(w.Token) != 64 || !strings.HasPrefix(w.Secret, "SEC") || len(w.Secret) != 67 || w.CorpID != dingtest.CorpID || w.ChatID != g.ChatID {
		t.Fatalf("webhook = %+v, want a 64-hex token and a SEC secret", w)
	}
	plain := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "无签名", AccessToken: "kept-from-a-real-integration", Keywords: []string{"告警"}})
	if plain.Secret != "" || plain.Token != "kept-from-a-real-integration" {
		t.Fatalf("webhook = %+v, want the given token and no secret", plain)
	}
	given := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "自带密钥", Secret: hookSecret, Sign: true})
	if given.Secret != hookSecret {
		t.Fatalf("secret = %q, want the given one", given.Secret)
	}
	ws, err := e.svc.Webhooks(bg, g.ChatID)
	if err != nil || len(ws) != 3 || ws[0].Name != "告警机器人" || ws[1].Keywords[0] != "告警" {
		t.Fatalf("Webhooks = %+v, %v", ws, err)
	}
	for _, tc := range []struct {
		name   string
		in     service.CreateWebhookInput
		kind   ding.Kind
		reason ding.Reason
	}{
		{"no name", service.CreateWebhookInput{ChatID: g.ChatID}, ding.Invalid, ding.ReasonMissingParam},
		{"empty keyword", service.CreateWebhookInput{ChatID: g.ChatID, Name: "x", Keywords: []string{""}}, ding.Invalid, ding.ReasonInvalidParam},
		{"11 keywords", service.CreateWebhookInput{ChatID: g.ChatID, Name: "x", Keywords: strings.Split("a b c d e f g h i j k", " ")}, ding.Invalid, ding.ReasonInvalidParam},
		{"token taken", service.CreateWebhookInput{ChatID: g.ChatID, Name: "x", AccessToken: plain.Token}, ding.Conflict, ding.ReasonNone},
		{"unknown group", service.CreateWebhookInput{ChatID: "chatnosuch", Name: "x"}, ding.NotFound, ding.ReasonChatNotFound},
		{"no group", service.CreateWebhookInput{Name: "x"}, ding.Invalid, ding.ReasonChatIDMissing},
	} {
		_, err := e.svc.CreateWebhook(bg, tc.in)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}
}

func TestWebhookSign(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "签名", Secret: hookSecret})
	now := e.nowMs()
	send := func(ts, sig string) error {
		_, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Timestamp: ts, Sign: sig, Body: []byte(textBody)})
		return err
	}
	at := func(ts int64) error { return send(strconv.FormatInt(ts, 10), sign(hookSecret, ts)) }
	hour := time.Hour.Milliseconds()
	for _, ts := range []int64{now, now - hour, now + hour} {
		if err := at(ts); err != nil {
			t.Fatalf("timestamp now%+d ms: %v", ts-now, err)
		}
	}
	for _, ts := range []int64{now - hour - 1, now + hour + 1} {
		wantErr(t, at(ts), ding.Unauthenticated, ding.ReasonSignTimestamp, fmt.Sprintf("timestamp now%+d ms", ts-now))
	}
	ts := strconv.FormatInt(now, 10)
	wantErr(t, send("", sign(hookSecret, now)), ding.Unauthenticated, ding.ReasonSignTimestamp, "no timestamp")
	wantErr(t, send("yesterday", sign(hookSecret, now)), ding.Unauthenticated, ding.ReasonSignTimestamp, "timestamp not a number")
	wantErr(t, send(strconv.FormatInt(now/1000, 10), sign(hookSecret, now/1000)), ding.Unauthenticated, ding.ReasonSignTimestamp, "timestamp in seconds")
	wantErr(t, send(ts, ""), ding.Unauthenticated, ding.ReasonSignMismatch, "no sign")
	wantErr(t, send(ts, sign("SECwrong", now)), ding.Unauthenticated, ding.ReasonSignMismatch, "sign of another secret")
	wantErr(t, send(ts, sign(hookSecret, now+1)), ding.Unauthenticated, ding.ReasonSignMismatch, "sign of another timestamp")
	// 1767225600002 signs to a value with '+' and '/': sent without URL
	// encoding, its '+' arrives as a space
	const plus = int64(1767225600002)
	if s := sign(hookSecret, plus); !strings.Contains(s, "+") {
		t.Fatalf("vector %s has no '+'", s)
	}
	if err := send(strconv.FormatInt(plus, 10), strings.ReplaceAll(sign(hookSecret, plus), "+", " ")); err != nil {
		t.Fatalf("sign with '+' sent unencoded: %v", err)
	}
	// an unsigned robot ignores timestamp and sign
	open := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "不签名"})
	if _, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: open.Token, Timestamp: "junk", Sign: "junk", Body: []byte(textBody)}); err != nil {
		t.Fatalf("unsigned robot: %v", err)
	}
}

func TestWebhookKeywords(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "关键词", Keywords: []string{"告警", "Build"}})
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"msgtype":"text","text":{"content":"磁盘告警: 90%"}}`, true},
		{`{"msgtype":"text","text":{"content":"Build #12 passed"}}`, true},
		{`{"msgtype":"text","text":{"content":"build #12 passed"}}`, false}, // keywords are case-sensitive
		{`{"msgtype":"text","text":{"content":"一切正常"}}`, false},
		{`{"msgtype":"markdown","markdown":{"title":"告警","text":"正文"}}`, true},
		{`{"msgtype":"markdown","markdown":{"title":"标题","text":"#### Build 失败"}}`, true},
		{`{"msgtype":"link","link":{"title":"标题","text":"正文","messageUrl":"https://example.com/告警"}}`, false}, // URLs are not content
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btns":[{"title":"查看告警","actionURL":"https://example.com"}]}}`, true},
		{`{"msgtype":"feedCard","feedCard":{"links":[{"title":"告警一","messageURL":"https://a","picURL":"https://b"}]}}`, true},
	} {
		_, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Body: []byte(tc.body)})
		if tc.ok && err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if !tc.ok {
			wantErr(t, err, ding.Invalid, ding.ReasonKeywordMissing, tc.body)
		}
	}
}

func TestWebhookRateLimit(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "限流"})
	send := func() error {
		_, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Body: []byte(textBody)})
		return err
	}
	for i := 1; i <= ding.WebhookPerWindow; i++ {
		if err := send(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	wantErr(t, send(), ding.RateLimited, ding.ReasonWebhookRateLimited, "message 21 in the same minute")
	// the throttle outlasts the minute: 10 minutes from the refusal
	e.clock.Advance(ding.WebhookPeriod)
	wantErr(t, send(), ding.RateLimited, ding.ReasonWebhookRateLimited, "a minute later")
	e.clock.Advance(ding.WebhookThrottle - ding.WebhookPeriod - time.Millisecond)
	wantErr(t, send(), ding.RateLimited, ding.ReasonWebhookRateLimited, "1 ms before the throttle ends")
	e.clock.Advance(time.Millisecond)
	if err := send(); err != nil {
		t.Fatalf("after the throttle: %v", err)
	}
	// the window slides: with 20 sent now, the next is refused until they
	// are a minute old, and then it needs no throttle to pass
	for i := 2; i <= ding.WebhookPerWindow; i++ {
		if err := send(); err != nil {
			t.Fatalf("message %d after the throttle: %v", i, err)
		}
	}
	e.clock.Advance(ding.WebhookPeriod)
	if err := send(); err != nil {
		t.Fatalf("a minute after the first 20: %v", err)
	}
	// another robot of the same group has its own window
	other := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "另一个"})
	if _, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: other.Token, Body: []byte(textBody)}); err != nil {
		t.Fatalf("another robot: %v", err)
	}
	// refused and throttled sends are not stored
	ms, err := e.st.Messages(bg, g.ChatID, ding.MessageQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ms), 2*ding.WebhookPerWindow+2; got != want {
		t.Fatalf("%d messages stored, want %d", got, want)
	}
}

// TestWebhookRateLimitConcurrent: sends racing each other still get
// exactly the per-minute allowance.
func TestWebhookRateLimitConcurrent(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "并发"})
	const n = 2 * ding.WebhookPerWindow
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Body: []byte(textBody)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	sent, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			sent++
		case ding.ErrorReason(err) == ding.ReasonWebhookRateLimited:
			refused++
		default:
			t.Fatalf("send: %v", err)
		}
	}
	if sent != ding.WebhookPerWindow || refused != n-ding.WebhookPerWindow {
		t.Fatalf("%d sent, %d refused; want %d and %d", sent, refused, ding.WebhookPerWindow, n-ding.WebhookPerWindow)
	}
}

func TestWebhookMessages(t *testing.T) {
	e := newEnv(t)
	g := e.group("zhangsan")
	w := e.webhook(service.CreateWebhookInput{ChatID: g.ChatID, Name: "消息"})
	atIDs := make([]string, ding.MaxAtUserIDs+1)
	for i := range atIDs {
		atIDs[i] = fmt.Sprintf("%q", dingtest.UserID(i+1))
	}
	at := func(n int) string { return `{"atUserIds":[` + strings.Join(atIDs[:n], ",") + `]}` }
	for _, tc := range []struct {
		body   string
		reason ding.Reason // "" = accepted
	}{
		{textBody, ""},
		{`{"msgtype":"text","text":{"content":"@张三 看一下"},"at":{"atMobiles":["13800000001"],"isAtAll":false}}`, ""},
		{`{"msgtype":"text","text":{"content":"x"},"at":` + at(50) + `}`, ""},
		{`{"msgtype":"text","text":{"content":"x"},"at":` + at(51) + `}`, ding.ReasonInvalidParam},
		{`{"msgtype":"text","text":{"content":"x"},"msgUuid":"once"}`, ""},
		{`{"msgtype":"link","link":{"title":"标题","text":"正文","messageUrl":"https://example.com","picUrl":""}}`, ""},
		{`{"msgtype":"markdown","markdown":{"title":"标题","text":"#### 正文"}}`, ""},
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","singleTitle":"阅读全文","singleURL":"https://example.com"}}`, ""},
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btnOrientation":0,"hideAvatar":1,"btns":[{"title":"a","actionURL":"u"},{"title":"b","actionURL":"v"}]}}`, ""},
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btns":[]}}`, ""},
		{`{"msgtype":"feedCard","feedCard":{"links":[{"title":"a","messageURL":"u","picURL":"p"},{"title":"b","messageUrl":"u","picUrl":"p"}]}}`, ""},
		{`{"msgtype":"text","text":{"content":""}}`, ding.ReasonTextEmpty},
		{`{"msgtype":"text"}`, ding.ReasonTextEmpty},
		{`{"msgtype":"image","image":{"media_id":"@x"}}`, ding.ReasonMsgType},
		{`{"text":{"content":"x"}}`, ding.ReasonMsgType},
		{`{"msgtype":"link","link":{"title":"标题","text":"正文"}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"markdown","markdown":{"title":"标题"}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"markdown","markdown":{"text":"正文"}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","singleTitle":"只有标题"}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btns":[{"title":"a"}]}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"feedCard","feedCard":{"links":[]}}`, ding.ReasonMsgMalformed},
		{`{"msgtype":"feedCard","feedCard":{"links":[{"title":"a","messageURL":"u"}]}}`, ding.ReasonMsgMalformed},
		{`not json`, ding.ReasonMalformedBody},
		{``, ding.ReasonMalformedBody},
		{`[]`, ding.ReasonMalformedBody},
		{"{\"msgtype\":\"text\",\"text\":{\"content\":\"\xff\"}}", ding.ReasonMalformedBody},
	} {
		m, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Body: []byte(tc.body)})
		if tc.reason != "" {
			wantErr(t, err, ding.Invalid, tc.reason, tc.body)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		stored, err := e.st.Message(bg, dingtest.CorpID, m.ID)
		if err != nil || stored.SenderType != ding.SenderWebhook || stored.Sender != "消息" || string(stored.Body) != tc.body {
			t.Fatalf("%s stored as %+v, %v", tc.body, stored, err)
		}
		e.clock.Advance(ding.WebhookPeriod) // stay under the rate limit
	}

	_, err := e.svc.SendWebhook(bg, service.WebhookSendInput{Token: "nosuch", Body: []byte(textBody)})
	wantErr(t, err, ding.Unauthenticated, ding.ReasonWebhookToken, "unknown token")
	_, err = e.svc.SendWebhook(bg, service.WebhookSendInput{Body: []byte(textBody)})
	wantErr(t, err, ding.Unauthenticated, ding.ReasonWebhookToken, "no token")
	if err := e.svc.DisbandGroup(bg, service.AdminActor(dingtest.CorpID), g.ChatID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.SendWebhook(bg, service.WebhookSendInput{Token: w.Token, Body: []byte(textBody)})
	wantErr(t, err, ding.Conflict, ding.ReasonChatDisbanded, "disbanded group")
}
