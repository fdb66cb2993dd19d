package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

func TestStreamOpenRefusals(t *testing.T) {
	e := servertest.New(t)
	for _, body := range []string{
		`{"clientId":"` + dingtest.AppKey + `","clientSecret":"wrong","subscriptions":[{"type":"EVENT","topic":"*"}]}`,
		`{"clientId":"nosuchapp","clientSecret":"x","subscriptions":[]}`,
		`{"clientSecret":"x"}`,
	} {
		r := e.Do(servertest.Request{Method: "POST", Path: "/v1.0/gateway/connections/open", Body: body})
		if r.Status != http.StatusUnauthorized || r.JSON(t)["code"] != "authFailed" || r.JSON(t)["requestid"] == nil {
			t.Errorf("open %s = %d %s, want 401 authFailed", body, r.Status, r.Body)
		}
	}
	r := e.Do(servertest.Request{Method: "POST", Path: "/v1.0/gateway/connections/open",
		Body: `{"clientId":"` + dingtest.AppKey + `","clientSecret":"` + dingtest.AppSecret + `","subscriptions":[{"type":"EVENT","topic":"chat"}]}`})
	if r.Status != 400 {
		t.Errorf("EVENT topic other than * = %d %s", r.Status, r.Body)
	}
	// a ticket admits one connection, within 90 s
	open := func() (string, string) {
		r := e.Do(servertest.Request{Method: "POST", Path: "/v1.0/gateway/connections/open",
			Body: `{"clientId":"` + dingtest.AppKey + `","clientSecret":"` + dingtest.AppSecret + `","subscriptions":[{"type":"EVENT","topic":"*"}]}`})
		m := r.JSON(t)
		ep, _ := m["endpoint"].(string)
		tk, _ := m["ticket"].(string)
		if !strings.HasPrefix(ep, "ws://") || strings.Contains(ep, "?") || len(tk) != 36 {
			t.Fatalf("open = %s", r.Body)
		}
		return ep, tk
	}
	ep, tk := open()
	c, _, err := websocket.Dial(t.Context(), ep+"?ticket="+tk, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if _, resp, err := websocket.Dial(t.Context(), ep+"?ticket="+tk, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("a used ticket connected again: %v", err)
	}
	ep, tk = open()
	e.Clock.Advance(ding.StreamTicketTTL + time.Second)
	if _, resp, err := websocket.Dial(t.Context(), ep+"?ticket="+tk, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("an expired ticket connected: %v", err)
	}
	// a frame that is not a JSON ACK closes the connection with a reason
	c.Write(t.Context(), websocket.MessageText, []byte("not json"))
	_, _, err = c.Read(t.Context())
	if websocket.CloseStatus(err) != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("after garbage: %v, want close 1007", err)
	}
}

// The official Go SDK connects unchanged, receives events caused through
// the API, and gets a redelivery with the same eventId after LATER.
func TestStreamSDKEvents(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	bot := dingtest.StartSDKBot(t, e.URL, dingtest.AppKey, dingtest.AppSecret, ding.EventChatUpdateTitle)
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	g := e.Group("流式群", "manager4220", "zhangsan")
	if r := e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"流式改名"}`, g.ChatID)); errcode(t, r) != 0 {
		t.Fatal(r.Body)
	}
	isType := func(typ string) func(map[string]any) bool {
		return func(m map[string]any) bool { return m["event"] == typ }
	}
	add := bot.Wait(isType(ding.EventChatAddMember), 10*time.Second)
	first := bot.Wait(isType(ding.EventChatUpdateTitle), 10*time.Second)
	if add["corpId"] != dingtest.CorpID || add["appId"] != dingtest.AppKey || add["bornTime"] == float64(0) {
		t.Errorf("event header = %v", add)
	}
	if first["later"] != true {
		t.Fatalf("the first title event was not answered LATER: %v", first)
	}
	// LATER: the same event comes back once the backoff has passed on the server's clock
	waitScheduled(t, e, "stream:", 1)
	e.Clock.Advance(events.Retries[0])
	again := bot.WaitN(isType(ding.EventChatUpdateTitle), 2, 10*time.Second)[1]
	if again["eventId"] != first["eventId"] {
		t.Fatalf("redelivery eventId %v, want %v", again["eventId"], first["eventId"])
	}
	title, _ := again["data"].(map[string]any)
	if title["title"] != "流式改名" || title["chatId"] != g.ChatID || title["openConversationId"] != g.OpenConversationID {
		t.Errorf("chat_update_title data = %v", title)
	}
}

// A robot tied to the app hears a member @-mention it and answers through
// the sessionWebhook with the SDK's own SimpleReplyText.
func TestStreamRobotReply(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	ctx := t.Context()
	if _, err := e.Svc.SaveRobot(ctx, dingtest.CorpID, dingtest.AppKey, "应用机器人"); err != nil {
		t.Fatal(err)
	}
	g := e.Group("机器人群", "manager4220", "zhangsan")
	if _, err := e.Svc.AddGroupRobot(ctx, g.ChatID, dingtest.AppKey); err != nil {
		t.Fatal(err)
	}
	bot := dingtest.StartSDKBot(t, e.URL, dingtest.AppKey, dingtest.AppSecret, "")
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	tok, err := e.Svc.IssueMemberToken(ctx, dingtest.CorpID, "zhangsan", 0)
	if err != nil {
		t.Fatal(err)
	}
	send := func(body string) *servertest.Response {
		return e.Do(servertest.Request{Method: "POST", Path: "/_dingchat/member/groups/" + g.ChatID + "/messages",
			Header: map[string]string{"Authorization": "Bearer " + tok.Value}, Body: body})
	}
	if r := send(`{"msgtype":"text","text":{"content":"不提机器人"}}`); r.Status != 200 {
		t.Fatalf("plain send = %d %s", r.Status, r.Body)
	}
	if r := send(`{"msgtype":"text","text":{"content":"@应用机器人 今天几号"},"at":{"atRobotCodes":["` + dingtest.AppKey + `"],"atUserIds":["manager4220"]}}`); r.Status != 200 {
		t.Fatalf("mention send = %d %s", r.Status, r.Body)
	}
	heard := bot.WaitN(func(m map[string]any) bool { return m["robot"] != nil }, 1, 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(bot.Matching(func(m map[string]any) bool { return m["robot"] != nil })); n != 1 {
		t.Fatalf("the robot heard %d messages, want only the one that mentions it", n)
	}
	m := heard[0]
	hook, _ := m["sessionWebhook"].(string)
	atUsers, _ := m["atUsers"].([]any)
	text, _ := m["text"].(map[string]any)
	if text["content"] != "@应用机器人 今天几号" || m["senderStaffId"] != "zhangsan" || m["conversationId"] != g.OpenConversationID ||
		m["conversationType"] != "2" || m["isInAtList"] != true || m["chatbotCorpId"] != dingtest.CorpID ||
		m["sessionWebhookExpiredTime"].(float64) <= m["createAt"].(float64) || !strings.HasPrefix(hook, e.URL+"/robot/sendBySession?session=") ||
		m["conversationTitle"] != "机器人群" || m["senderNick"] == "" || m["msgId"] == "" || len(atUsers) != 2 {
		t.Fatalf("robot callback = %v", m)
	}
	// the reply is in the timeline, as the robot
	eventually(t, func() bool {
		ms, _ := e.Store.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 1})
		return len(ms) == 1 && ms[0].SenderType == ding.SenderRobot
	})
	ms, _ := e.Store.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 1})
	if len(ms) != 1 || ms[0].Sender != dingtest.AppKey || !strings.Contains(string(ms[0].Body), "收到: @应用机器人 今天几号") {
		t.Fatalf("newest message = %+v", ms)
	}
	// the session expires
	e.Clock.Advance(ding.SessionWebhookTTL + time.Second)
	r := e.Do(servertest.Request{Method: "POST", Path: strings.TrimPrefix(hook, e.URL), Body: `{"msgtype":"text","text":{"content":"迟到"}}`})
	if errcode(t, r) == 0 {
		t.Fatalf("an expired sessionWebhook was accepted: %s", r.Body)
	}
	r = e.Do(servertest.Request{Method: "POST", Path: "/robot/sendBySession?session=forged.token", Body: `{"msgtype":"text","text":{"content":"x"}}`})
	if errcode(t, r) == 0 {
		t.Fatalf("a forged session was accepted: %s", r.Body)
	}
}

// A client that never reads is closed once its queue is full; the server
// keeps no more than the queue.
func TestStreamSlowClient(t *testing.T) {
	e := servertest.New(t)
	c := dialStream(t, e)
	defer c.CloseNow()
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	// frames sent without waiting for ACKs; the client reads nothing
	big := strings.Repeat("x", 32<<10)
	for i := 0; i < 2000 && len(e.Gateway.Clients()) == 1; i++ {
		e.Gateway.Send(t.Context(), dingtest.AppKey, ding.StreamFrame{Type: ding.StreamEvent, Headers: map[string]string{"topic": "*"}, Data: big}, false)
	}
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 0 })
	if n := len(e.Gateway.Clients()); n != 0 {
		t.Fatalf("a client that never reads is still connected")
	}
}

// A lost ACK (the Go SDK drops some when two frames arrive together) and an
// ACK for a frame nobody sent change nothing: the event comes again, with
// the same eventId, once the ACK timeout has passed.
func TestStreamLostAck(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond, AckTimeout: 200 * time.Millisecond})
	c := dialStream(t, e)
	defer c.CloseNow()
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	c.Write(t.Context(), websocket.MessageText, []byte(`{"code":200,"headers":{"messageId":"nobody-sent-this"},"message":"OK","data":""}`))
	g := e.Group("丢ACK群", "manager4220", "zhangsan")
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"丢了ACK"}`, g.ChatID))
	read := func() (map[string]string, string) {
		t.Helper()
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			_, raw, err := c.Read(ctx)
			cancel()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var f struct {
				Type    string
				Headers map[string]string
				Data    string
			}
			json.Unmarshal(raw, &f)
			if f.Type == "EVENT" && f.Headers["eventType"] == ding.EventChatUpdateTitle {
				return f.Headers, f.Data
			}
			if f.Type == "EVENT" { // acknowledge the others
				ack, _ := json.Marshal(map[string]any{"code": 200, "headers": map[string]string{"messageId": f.Headers["messageId"]}, "data": ""})
				c.Write(t.Context(), websocket.MessageText, ack)
			}
		}
	}
	first, _ := read() // not acknowledged
	waitScheduled(t, e, "stream:", 1)
	e.Clock.Advance(events.Retries[0])
	second, data := read()
	if second["eventId"] != first["eventId"] || second["messageId"] == first["messageId"] || !strings.Contains(data, "丢了ACK") {
		t.Fatalf("redelivery %v after %v", second, first)
	}
	if second["topic"] != "*" || second["contentType"] != "application/json" || second["time"] == "" || second["eventBornTime"] == "" {
		t.Fatalf("frame headers %v", second)
	}
}

// An oversized frame closes the connection with 1009.
func TestStreamOversizedFrame(t *testing.T) {
	e := servertest.New(t)
	c := dialStream(t, e)
	defer c.CloseNow()
	c.Write(t.Context(), websocket.MessageText, []byte(`{"code":200,"headers":{},"data":"`+strings.Repeat("x", 128<<10)+`"}`))
	_, _, err := c.Read(t.Context())
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("after a 128 KiB frame: %v, want close 1009", err)
	}
}

// A robot in HTTP mode gets the @-mention as a POST signed with its app's
// secret, and replies through the sessionWebhook in the body.
func TestRobotHTTPMode(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	ctx := t.Context()
	type post struct {
		ts, sign string
		body     map[string]any
	}
	got := make(chan post, 4)
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		got <- post{r.Header.Get("timestamp"), r.Header.Get("sign"), b}
	}))
	defer robot.Close()
	if err := e.Svc.SetRobotURL(ctx, dingtest.AppKey, robot.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.SaveRobot(ctx, dingtest.CorpID, dingtest.AppKey, "HTTP机器人"); err != nil {
		t.Fatal(err)
	}
	g := e.Group("HTTP机器人群", "manager4220", "zhangsan")
	if _, err := e.Svc.AddGroupRobot(ctx, g.ChatID, dingtest.AppKey); err != nil {
		t.Fatal(err)
	}
	tok, _ := e.Svc.IssueMemberToken(ctx, dingtest.CorpID, "manager4220", 0)
	r := e.Do(servertest.Request{Method: "POST", Path: "/_dingchat/member/groups/" + g.ChatID + "/messages",
		Header: map[string]string{"Authorization": "Bearer " + tok.Value},
		Body:   `{"msgtype":"text","text":{"content":"@HTTP机器人 状态"},"at":{"atRobotCodes":["` + dingtest.AppKey + `"]}}`})
	if r.Status != 200 {
		t.Fatalf("send: %s", r.Body)
	}
	var p post
	select {
	case p = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the robot's URL was never called")
	}
	mac := hmac.New(sha256.New, []byte(dingtest.AppSecret))
	mac.Write([]byte(p.ts + "\n" + dingtest.AppSecret))
	if p.sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("sign %q does not verify with the app secret", p.sign)
	}
	text, _ := p.body["text"].(map[string]any)
	hook, _ := p.body["sessionWebhook"].(string)
	if text["content"] != "@HTTP机器人 状态" || p.body["senderStaffId"] != "manager4220" || !strings.HasPrefix(hook, e.URL+"/robot/sendBySession?session=") {
		t.Fatalf("robot body = %v", p.body)
	}
	reply := e.Do(servertest.Request{Method: "POST", Path: strings.TrimPrefix(hook, e.URL), Body: `{"msgtype":"markdown","markdown":{"title":"状态","text":"**一切正常**"}}`})
	if errcode(t, reply) != 0 {
		t.Fatalf("reply: %s", reply.Body)
	}
}

// Each connection gets a SYSTEM ping now and then; the client's echo needs
// no answer, and a client that does not echo is not dropped for it.
func TestStreamPing(t *testing.T) {
	e := servertest.New(t)
	e.Gateway.SetPingEvery(50 * time.Millisecond)
	c := dialStream(t, e)
	defer c.CloseNow()
	for i := 0; i < 3; i++ {
		_, raw, err := c.Read(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Type    string
			Headers map[string]string
			Data    string
		}
		json.Unmarshal(raw, &f)
		var d map[string]string
		json.Unmarshal([]byte(f.Data), &d)
		if f.Type != "SYSTEM" || f.Headers["topic"] != "ping" || d["opaque"] == "" || f.Headers["messageId"] == "" {
			t.Fatalf("frame %s", raw)
		}
	}
	if len(e.Gateway.Clients()) != 1 {
		t.Fatal("a client that never echoed a ping was dropped")
	}
}

// With two connections of one app each event goes to one of them: every
// event arrives once in all, and both connections get some.
func TestStreamTwoConnectionsShare(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	var mu sync.Mutex
	per := map[int]int{}
	seen := map[string]int{}
	for i := 0; i < 2; i++ {
		c := dialStream(t, e)
		defer c.CloseNow()
		go func(i int) {
			for {
				_, raw, err := c.Read(context.Background())
				if err != nil {
					return
				}
				var f struct {
					Type    string
					Headers map[string]string
				}
				json.Unmarshal(raw, &f)
				if f.Type != "EVENT" {
					continue
				}
				ack, _ := json.Marshal(map[string]any{"code": 200, "headers": map[string]string{"messageId": f.Headers["messageId"]}, "data": `{"status":"SUCCESS"}`})
				c.Write(context.Background(), websocket.MessageText, ack)
				mu.Lock()
				per[i]++
				seen[f.Headers["eventId"]]++
				mu.Unlock()
			}
		}(i)
	}
	eventually(t, func() bool { return len(e.Gateway.Connections()) == 2 })
	g := e.Group("两条连接", "manager4220", "zhangsan")
	for i := 0; i < 20; i++ {
		e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"分%d"}`, g.ChatID, i))
	}
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 21 })
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 21 {
		t.Fatalf("%d distinct events arrived, want 21 (an add and 20 renames)", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s arrived %d times", id, n)
		}
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("one connection got everything: %v", per)
	}
}

// A page of another site cannot open a Stream connection, and its attempt
// does not spend the ticket.
func TestStreamRefusesOtherOrigin(t *testing.T) {
	e := servertest.New(t)
	url := openStream(t, e)
	_, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-origin dial: %v", err)
	}
	c, _, err := websocket.Dial(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("the ticket was spent by the refused attempt: %v", err)
	}
	c.CloseNow()
}

// openStream opens a Stream connection for the fixture app's events and
// returns the URL its WebSocket dials, ticket included.
func openStream(t *testing.T, e *servertest.Env) string {
	t.Helper()
	r := e.Do(servertest.Request{Method: "POST", Path: "/v1.0/gateway/connections/open",
		Body: `{"clientId":"` + dingtest.AppKey + `","clientSecret":"` + dingtest.AppSecret + `","subscriptions":[{"type":"EVENT","topic":"*"}]}`})
	m := r.JSON(t)
	ep, _ := m["endpoint"].(string)
	tk, _ := m["ticket"].(string)
	if ep == "" || tk == "" {
		t.Fatalf("connections/open = %d %s", r.Status, r.Body)
	}
	return ep + "?ticket=" + tk
}

// dialStream opens and connects a Stream connection of the fixture app.
func dialStream(t *testing.T, e *servertest.Env) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(t.Context(), openStream(t, e), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
