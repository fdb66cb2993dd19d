package dingchatapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const liveAdmin = "adm-live-test"

// liveEnv is a server with live delivery over the fixture store (SQLite,
// or PostgreSQL when DINGCHAT_TEST_STORE=postgres). Other is another node
// over the same store, with a hub of its own (which announces its commits
// where the store has head notices); Mute is one whose commits no hub
// observes, as those of a node that died before announcing them.
type liveEnv struct {
	t     *testing.T
	URL   string
	Svc   *service.Service
	Other *service.Service
	Mute  *service.Service
	Hub   *live.Hub
	app   *service.Caller
	// Sole: only this process writes the store (SQLite), so Other is not a
	// node a deployment can have
	Sole bool
}

func newLive(t *testing.T, cfg live.Config) *liveEnv {
	t.Helper()
	st := servertest.OpenStore(t)
	hub := live.New(st, cfg)
	svc := service.New(live.Observe(st, hub), nil, nil)
	hubB := live.New(st, cfg)
	other := service.New(live.Observe(st, hubB), nil, nil)
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(server.Handler(svc, log, server.WithAdminToken(liveAdmin), server.WithLive(hub)))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { hub.Run(ctx) })
	wg.Go(func() { hubB.Run(ctx) })
	t.Cleanup(func() { srv.Close(); cancel(); wg.Wait() })
	if _, ok := st.(ding.HeadNotices); ok {
		for deadline := time.Now().Add(5 * time.Second); !hub.Hearing() || !hubB.Hearing(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the hubs never heard the store's head notices")
			}
		}
	}
	tok, err := svc.IssueToken(context.Background(), dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	app, err := svc.Authenticate(context.Background(), tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	sole, _ := st.(ding.SoleWriter)
	return &liveEnv{t: t, URL: srv.URL, Svc: svc, Other: other, Mute: service.New(st, nil, nil), Hub: hub, app: app, Sole: sole != nil && sole.SoleWriter()}
}

func (e *liveEnv) token(user string) string {
	e.t.Helper()
	mt, err := e.Svc.IssueMemberToken(context.Background(), dingtest.CorpID, user, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return mt.Value
}

func (e *liveEnv) group(name string, users ...string) *ding.Group {
	e.t.Helper()
	g, err := e.Svc.CreateGroup(context.Background(), e.app, service.CreateGroupInput{Name: name, Owner: users[0], UserIDs: users})
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *liveEnv) send(svc *service.Service, chatID, text string) *ding.Message {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
	m, err := svc.SendMessage(context.Background(), e.app, service.SendInput{ChatID: chatID, Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

type frame struct {
	Type    string           `json:"type"`
	ChatID  string           `json:"chatid"`
	Seq     int64            `json:"seq"`
	UserID  string           `json:"userid"`
	Events  int64            `json:"events"`
	Groups  []live.GroupHead `json:"groups"`
	Message live.MessageJSON `json:"message"`
	Event   live.EventJSON   `json:"event"`
}

type sock struct {
	t *testing.T
	c *websocket.Conn
}

// dial opens path and sends start as the first frame.
func (e *liveEnv) dial(path string, header http.Header, start any) (*sock, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+path, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	e.t.Cleanup(func() { c.CloseNow() })
	b, _ := json.Marshal(start)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, resp, err
	}
	return &sock{t: e.t, c: c}, resp, nil
}

func (e *liveEnv) member(token string, resume map[string]any) *sock {
	e.t.Helper()
	start := map[string]any{"token": token}
	for k, v := range resume {
		start[k] = v
	}
	s, _, err := e.dial("/_dingchat/member/live", nil, start)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return s
}

func (s *sock) next() frame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := s.c.Read(ctx)
	if err != nil {
		s.t.Fatalf("read frame: %v (close status %v)", err, websocket.CloseStatus(err))
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		s.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// until reads frames until one of typ arrives, failing on any other type
// except those in skip.
func (s *sock) until(typ string, skip ...string) frame {
	s.t.Helper()
	for {
		f := s.next()
		if f.Type == typ {
			return f
		}
		ok := false
		for _, k := range skip {
			ok = ok || f.Type == k
		}
		if !ok {
			s.t.Fatalf("got a %s frame (%+v) waiting for %s", f.Type, f, typ)
		}
	}
}

// quiet fails if a frame arrives within d.
func (s *sock) quiet(d time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, b, err := s.c.Read(ctx); err == nil {
		s.t.Fatalf("unexpected frame %s", b)
	}
}

func closeCode(t *testing.T, s *sock) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := s.c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func textOf(m live.MessageJSON) string {
	var b struct {
		Text struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	json.Unmarshal(m.Msg, &b)
	return b.Text.Content
}

// TestLiveDelivers: a member hears every message, group change and read
// mark of their groups as it commits, and nothing of other groups.
func TestLiveDelivers(t *testing.T) {
	e := newLive(t, live.Config{})
	g := e.group("实时群", "manager4220", "zhangsan", "lisi")
	other := e.group("别人的群", "manager4220", "lisi")
	s := e.member(e.token("zhangsan"), nil)
	hello := s.until("hello")
	if hello.UserID != "zhangsan" || len(hello.Groups) != 1 || hello.Groups[0].ChatID != g.ChatID {
		t.Fatalf("hello = %+v, want zhangsan with %s alone", hello, g.ChatID)
	}

	e.send(e.Svc, other.ChatID, "not for zhangsan")
	m := e.send(e.Svc, g.ChatID, "你好 live")
	f := s.until("message")
	if f.ChatID != g.ChatID || f.Seq != 1 || f.Message.MessageID != m.ID || textOf(f.Message) != "你好 live" {
		t.Fatalf("message frame = %+v", f)
	}

	if _, err := e.Svc.MemberMarkRead(context.Background(), &service.MemberCaller{CorpID: dingtest.CorpID, UserID: "lisi"}, g.ChatID, 1); err != nil {
		t.Fatal(err)
	}
	if f := s.until("read"); f.ChatID != g.ChatID || f.UserID != "lisi" || f.Seq != 1 {
		t.Fatalf("read frame = %+v", f)
	}

	name := "改名了"
	if _, err := e.Svc.UpdateGroup(context.Background(), e.app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if f := s.until("event"); f.Event.Type != ding.EventChatUpdateTitle || f.Event.ChatID != g.ChatID {
		t.Fatalf("event frame = %+v", f)
	}

	// a group created with zhangsan is followed from its first message
	g2 := e.group("新群", "lisi", "zhangsan")
	if f := s.until("event"); f.Event.Type != ding.EventChatCreate || f.Event.ChatID != g2.ChatID {
		t.Fatalf("event frame = %+v, want chat_create of %s", f, g2.ChatID)
	}
	e.send(e.Svc, g2.ChatID, "first")
	if f := s.until("message", "event"); f.ChatID != g2.ChatID || f.Seq != 1 {
		t.Fatalf("message frame = %+v, want %s #1", f, g2.ChatID)
	}

	// removed from a group: the removal is the last thing heard of it
	if _, err := e.Svc.UpdateGroup(context.Background(), e.app, service.UpdateGroupInput{ChatID: g.ChatID, DelUserIDs: []string{"zhangsan"}}); err != nil {
		t.Fatal(err)
	}
	if f := s.until("event"); f.Event.Type != ding.EventChatRemoveMember {
		t.Fatalf("event frame = %+v, want chat_remove_member", f)
	}
	e.send(e.Svc, g.ChatID, "after removal")
	s.quiet(300 * time.Millisecond)
}

// TestLiveResume: a client that reconnects with its last sequence numbers
// gets exactly what it missed, in order, then what comes next.
func TestLiveResume(t *testing.T) {
	e := newLive(t, live.Config{Window: 4, Batch: 3}) // small window and batch: the store path is taken too
	g := e.group("续传群", "manager4220", "zhangsan")
	tok := e.token("zhangsan")
	s := e.member(tok, nil)
	hello := s.until("hello")
	for i := 1; i <= 3; i++ {
		e.send(e.Svc, g.ChatID, fmt.Sprint("m", i))
	}
	for i := int64(1); i <= 3; i++ {
		if f := s.until("message"); f.Seq != i {
			t.Fatalf("got #%d, want #%d", f.Seq, i)
		}
	}
	s.c.Close(websocket.StatusNormalClosure, "")
	for i := 4; i <= 12; i++ {
		e.send(e.Svc, g.ChatID, fmt.Sprint("m", i))
	}
	name := "离线时改名"
	if _, err := e.Svc.UpdateGroup(context.Background(), e.app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	s = e.member(tok, map[string]any{"events": hello.Events, "groups": map[string]int64{g.ChatID: 3}})
	if h := s.until("hello"); h.Groups[0].LastSeq != 12 {
		t.Fatalf("hello lastSeq = %d, want 12", h.Groups[0].LastSeq)
	}
	var seqs []int64
	var sawEvent bool
	for len(seqs) < 9 || !sawEvent {
		f := s.next()
		switch f.Type {
		case "message":
			seqs = append(seqs, f.Seq)
		case "event":
			if f.Event.Type != ding.EventChatUpdateTitle || sawEvent {
				t.Fatalf("event = %+v", f.Event)
			}
			sawEvent = true
		default:
			t.Fatalf("frame %+v", f)
		}
	}
	for i, s := range seqs {
		if s != int64(i+4) {
			t.Fatalf("resumed with %v, want 4…12 once each in order", seqs)
		}
	}
	e.send(e.Svc, g.ChatID, "m13")
	if f := s.until("message"); f.Seq != 13 {
		t.Fatalf("then #%d, want #13", f.Seq)
	}
	s.quiet(200 * time.Millisecond)
}

// TestLiveOtherNode: a commit this node did not make (another node's, on
// a shared database) reaches its clients through the poll.
func TestLiveOtherNode(t *testing.T) {
	// no sweep during the test: the other node's notices carry its messages
	e := newLive(t, live.Config{Poll: 20 * time.Millisecond, Sweep: time.Hour})
	if e.Sole {
		t.Skip("one process owns a SQLite file: other nodes share PostgreSQL (DINGCHAT_TEST_STORE=postgres)")
	}
	g := e.group("跨节点群", "manager4220", "zhangsan")
	s := e.member(e.token("zhangsan"), nil)
	s.until("hello")
	for i := 1; i <= 5; i++ {
		e.send(e.Other, g.ChatID, fmt.Sprint("from B ", i))
	}
	for i := int64(1); i <= 5; i++ {
		if f := s.until("message"); f.Seq != i {
			t.Fatalf("got #%d, want #%d", f.Seq, i)
		}
	}
	name := "B 改名"
	if _, err := e.Other.UpdateGroup(context.Background(), e.app, service.UpdateGroupInput{ChatID: g.ChatID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if f := s.until("event"); f.Event.Type != ding.EventChatUpdateTitle {
		t.Fatalf("event = %+v", f)
	}
}

// TestLiveSweep: a commit no node announced (its node died first) still
// reaches the member, at the next sweep of every head.
func TestLiveSweep(t *testing.T) {
	e := newLive(t, live.Config{Poll: 20 * time.Millisecond, Sweep: 100 * time.Millisecond})
	g := e.group("无人通知群", "manager4220", "zhangsan")
	s := e.member(e.token("zhangsan"), nil)
	s.until("hello")
	for i := int64(1); i <= 3; i++ {
		e.send(e.Mute, g.ChatID, fmt.Sprint("unannounced ", i))
		if f := s.until("message"); f.Seq != i {
			t.Fatalf("got #%d, want #%d", f.Seq, i)
		}
	}
}

// TestLiveTooSlow: a client further behind than MaxLag is closed with
// 4008 and a reason instead of being buffered for.
func TestLiveTooSlow(t *testing.T) {
	e := newLive(t, live.Config{MaxLag: 5})
	g := e.group("慢群", "manager4220", "zhangsan")
	for i := 0; i < 8; i++ {
		e.send(e.Svc, g.ChatID, "x")
	}
	s := e.member(e.token("zhangsan"), map[string]any{"groups": map[string]int64{g.ChatID: 0}})
	s.until("hello")
	if code := closeCode(t, s); code != 4008 {
		t.Fatalf("close code = %d, want 4008", code)
	}
	// within MaxLag it catches up
	s = e.member(e.token("zhangsan"), map[string]any{"groups": map[string]int64{g.ChatID: 4}})
	s.until("hello")
	for i := int64(5); i <= 8; i++ {
		if f := s.until("message"); f.Seq != i {
			t.Fatalf("got #%d, want #%d", f.Seq, i)
		}
	}
}

// TestLiveRefuses: a wrong or missing token gets nothing; pages of other
// origins cannot open the socket; the admin socket wants the admin token.
func TestLiveRefuses(t *testing.T) {
	e := newLive(t, live.Config{})
	g := e.group("秘密群", "manager4220", "zhangsan")
	e.send(e.Svc, g.ChatID, "secret")

	s := e.member("not-a-token", map[string]any{"groups": map[string]int64{g.ChatID: 0}})
	if code := closeCode(t, s); code != 4001 {
		t.Fatalf("bad token in the first frame: close %d, want 4001", code)
	}
	_, resp, err := e.dial("/_dingchat/member/live", http.Header{"Authorization": {"Bearer nope"}}, map[string]any{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad bearer header: err %v, response %v, want 401 before the upgrade", err, resp)
	}
	_, resp, err = e.dial("/_dingchat/member/live", http.Header{"Origin": {"https://evil.example"}}, map[string]any{"token": e.token("zhangsan")})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other origin: err %v, response %v, want 403", err, resp)
	}
	s, _, err = e.dial("/_dingchat/admin/live", nil, map[string]any{"token": e.token("zhangsan"), "corpId": dingtest.CorpID, "chats": []string{g.ChatID}})
	if err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, s); code != 4001 {
		t.Fatalf("member token on the admin socket: close %d, want 4001", code)
	}
	// the admin token watches a corp's events and the chosen group
	s, _, err = e.dial("/_dingchat/admin/live", nil, map[string]any{"token": liveAdmin, "corpId": dingtest.CorpID, "chats": []string{g.ChatID}})
	if err != nil {
		t.Fatal(err)
	}
	s.until("hello")
	e.send(e.Svc, g.ChatID, "seen by the operator")
	if f := s.until("message"); f.Seq != 2 {
		t.Fatalf("operator got %+v", f)
	}
	e.group("又一个群", "lisi", "wangwu")
	if f := s.until("event", "message"); f.Event.Type != ding.EventChatCreate {
		t.Fatalf("operator got %+v, want chat_create", f)
	}
}

// TestLiveReset: a reset of the store closes every client with 1012, so
// none keeps sequence numbers the store no longer has.
func TestLiveReset(t *testing.T) {
	e := newLive(t, live.Config{})
	g := e.group("重置群", "manager4220", "zhangsan")
	e.send(e.Svc, g.ChatID, "before")
	s := e.member(e.token("zhangsan"), nil)
	s.until("hello")
	e.Hub.Reset()
	if code := closeCode(t, s); code != websocket.StatusServiceRestart {
		t.Fatalf("close code = %d, want 1012", code)
	}
	// a new connection is served as usual
	s = e.member(e.token("zhangsan"), nil)
	s.until("hello")
	e.send(e.Svc, g.ChatID, "after")
	if f := s.until("message"); f.Seq != 2 {
		t.Fatalf("after the reset: %+v", f)
	}
}

// TestLiveLocalAndOtherCommits: sends committed on this node go to clients
// from memory, another node's from the store; interleaved and concurrent,
// every client still gets each message once, in order, and the same frame
// a client resuming from the store reads.
func TestLiveLocalAndOtherCommits(t *testing.T) {
	e := newLive(t, live.Config{Window: 8, Poll: 10 * time.Millisecond})
	g := e.group("混合群", "manager4220", "zhangsan")
	tok := e.token("zhangsan")
	s := e.member(tok, nil)
	s.until("hello")
	const perSender, senders = 15, 4
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := e.Svc
			if w%2 == 1 {
				svc = e.Other
			}
			for i := range perSender {
				e.send(svc, g.ChatID, fmt.Sprintf("w%d-%d 消息", w, i))
			}
		}()
	}
	wg.Wait()
	const total = perSender * senders
	live := map[int64]live.MessageJSON{}
	for i := int64(1); i <= total; i++ {
		f := s.until("message")
		if f.Seq != i {
			t.Fatalf("live: got #%d, want #%d", f.Seq, i)
		}
		live[i] = f.Message
	}
	// another node's message right before this node's: the window has no
	// room for the latter, which must come with the former, from the store
	next := int64(total)
	for i := range 10 {
		e.send(e.Other, g.ChatID, fmt.Sprint("B ", i))
		e.send(e.Svc, g.ChatID, fmt.Sprint("A ", i))
		for range 2 {
			next++
			f := s.until("message")
			if f.Seq != next {
				t.Fatalf("live: got #%d, want #%d", f.Seq, next)
			}
			live[next] = f.Message
		}
	}
	s.quiet(100 * time.Millisecond)
	r := e.member(tok, map[string]any{"groups": map[string]int64{g.ChatID: 0}})
	r.until("hello")
	for i := int64(1); i <= next; i++ {
		f := r.until("message")
		if f.Seq != i {
			t.Fatalf("resumed: got #%d, want #%d", f.Seq, i)
		}
		a, b := live[i], f.Message
		if a.MessageID != b.MessageID || string(a.Msg) != string(b.Msg) || a.CreatedAt != b.CreatedAt || a.Sender != b.Sender || a.MsgType != b.MsgType {
			t.Fatalf("#%d live %+v, from the store %+v", i, a, b)
		}
	}
}
