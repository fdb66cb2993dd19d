package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/callback"
	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

const (
	cbToken  = "cbtoken123"
	cbAESKey = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
)

// receiver is a callback endpoint: it checks each push's signature,
// decrypts it, and answers as told.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	owner string

	mu       sync.Mutex
	got      []map[string]any
	keys     []string // trailing key of each push
	queries  []string
	behave   func(n int) string // "" = answer success; "fail", "wrong", "hang", "huge", "redirect", "reset", "500", "badsig"
	received chan struct{}
}

func newReceiver(t *testing.T, owner string) *receiver {
	rc := &receiver{t: t, owner: owner, received: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setBehave(f func(n int) string) {
	rc.mu.Lock()
	rc.behave = f
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var body struct{ Encrypt string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad body", 400)
		return
	}
	c, err := callback.New(cbToken, cbAESKey, rc.owner)
	if err != nil {
		panic(err)
	}
	if callback.Sign(cbToken, q.Get("timestamp"), q.Get("nonce"), body.Encrypt) != q.Get("msg_signature") || q.Get("signature") != q.Get("msg_signature") {
		rc.t.Errorf("push signature does not verify: %s", r.URL.RawQuery)
		http.Error(w, "bad signature", 400)
		return
	}
	msg, key, err := c.Decrypt(body.Encrypt)
	if err != nil {
		rc.t.Errorf("push does not decrypt: %v", err)
		return
	}
	var v map[string]any
	json.Unmarshal(msg, &v)
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, v)
	rc.keys = append(rc.keys, key)
	rc.queries = append(rc.queries, r.URL.RawQuery)
	behave := ""
	if rc.behave != nil {
		behave = rc.behave(n)
	}
	rc.mu.Unlock()
	rc.received <- struct{}{}
	reply := "success"
	switch behave {
	case "fail":
		reply = "fail"
	case "hang":
		time.Sleep(4 * time.Second)
	case "huge":
		w.Header().Set("Content-Type", "application/json")
		chunk := strings.Repeat("x", 1<<20)
		for i := 0; i < 100; i++ {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		return
	case "redirect":
		http.Redirect(w, r, "http://example.invalid/", http.StatusFound)
		return
	case "reset":
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
		return
	case "500":
		http.Error(w, "oops", 500)
		return
	}
	enc, _ := c.Encrypt([]byte(reply))
	ts := fmt.Sprint(time.Now().UnixMilli())
	sig := callback.Sign(cbToken, ts, "n0nce", enc)
	if behave == "badsig" {
		sig = strings.Repeat("0", 40)
	}
	if behave == "wrong" { // signed with another key
		other, _ := callback.New(cbToken, "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus", rc.owner)
		enc, _ = other.Encrypt([]byte("success"))
		sig = callback.Sign(cbToken, ts, "n0nce", enc)
	}
	json.NewEncoder(w).Encode(map[string]string{"msg_signature": sig, "timeStamp": ts, "nonce": "n0nce", "encrypt": enc})
}

func (rc *receiver) pushes() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.got...)
}

// waitFor waits until the receiver has n pushes.
func (rc *receiver) waitFor(n int) []map[string]any {
	rc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := rc.pushes(); len(got) >= n {
			return got
		}
		select {
		case <-rc.received:
		case <-time.After(50 * time.Millisecond):
		}
	}
	rc.t.Fatalf("receiver got %d pushes, want %d: %v", len(rc.pushes()), n, rc.pushes())
	return nil
}

func registerBody(url string, tags ...string) string {
	b, _ := json.Marshal(map[string]any{"call_back_tag": tags, "token": cbToken, "aes_key": cbAESKey, "url": url})
	return string(b)
}

func errcode(t *testing.T, r *servertest.Response) float64 {
	t.Helper()
	n, err := r.JSON(t)["errcode"].(json.Number).Float64()
	if err != nil {
		t.Fatalf("errcode in %s: %v", r.Body, err)
	}
	return n
}

func TestRegisterCallbackChecksURL(t *testing.T) {
	e := servertest.New(t)
	rc := newReceiver(t, dingtest.CorpID)
	r := e.Post("/call_back/register_call_back?access_token={{token}}", registerBody(rc.srv.URL+"/cb?x=1", "chat_update_title", "chat_add_member"))
	if got := errcode(t, r); got != 0 {
		t.Fatalf("register = %s", r.Body)
	}
	got := rc.waitFor(1)
	if got[0]["EventType"] != "check_url" || rc.keys[0] != dingtest.CorpID {
		t.Fatalf("check push = %v key %q, want check_url with the corp id", got[0], rc.keys[0])
	}
	if !strings.Contains(rc.queries[0], "x=1") {
		t.Errorf("the URL's own query was dropped: %s", rc.queries[0])
	}
	g := e.Get("/call_back/get_call_back?access_token={{token}}").JSON(t)
	if g["url"] != rc.srv.URL+"/cb?x=1" || g["token"] != cbToken || g["aes_key"] != cbAESKey || fmt.Sprint(g["call_back_tag"]) != "[chat_update_title chat_add_member]" {
		t.Fatalf("get_call_back = %v", g)
	}
	if got := errcode(t, e.Post("/call_back/register_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_quit"))); got != 71006 {
		t.Fatalf("second register errcode = %v, want 71006", got)
	}
	if got := errcode(t, e.Post("/call_back/update_call_back?access_token={{token}}", registerBody(rc.srv.URL+"/v2", "chat_quit"))); got != 0 {
		t.Fatalf("update errcode = %v", got)
	}
	if g := e.Get("/call_back/get_call_back?access_token={{token}}").JSON(t); g["url"] != rc.srv.URL+"/v2" {
		t.Fatalf("after update url = %v", g["url"])
	}
	if got := errcode(t, e.Get("/call_back/delete_call_back?access_token={{token}}")); got != 0 {
		t.Fatalf("delete errcode = %v", got)
	}
	for path, want := range map[string]float64{
		"/call_back/get_call_back":    71007,
		"/call_back/delete_call_back": 400040,
	} {
		if got := errcode(t, e.Get(path+"?access_token={{token}}")); got != want {
			t.Errorf("%s after delete errcode = %v, want %v", path, got, want)
		}
	}
	if got := errcode(t, e.Post("/call_back/update_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_quit"))); got != 71007 {
		t.Errorf("update without a callback errcode = %v, want 71007", got)
	}
}

func TestRegisterCallbackRefusals(t *testing.T) {
	e := servertest.New(t)
	rc := newReceiver(t, dingtest.CorpID)
	good := map[string]any{"call_back_tag": []string{"chat_quit"}, "token": cbToken, "aes_key": cbAESKey, "url": rc.srv.URL}
	with := func(k string, v any) string {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, c := range []struct {
		name, body string
		behave     string
		want       float64
	}{
		{"tag outside the list", with("call_back_tag", []string{"chat_quit", "no_such_event"}), "", 71008},
		{"no tags", with("call_back_tag", nil), "", 71010},
		{"empty tags", with("call_back_tag", []string{}), "", 71010},
		{"tags not a list", with("call_back_tag", map[string]any{"a": 1}), "", 71010},
		{"no token", with("token", nil), "", 71010},
		{"short token", with("token", "abc"), "", 71010},
		{"long token", with("token", strings.Repeat("t", 64)), "", 71010},
		{"no aes_key", with("aes_key", nil), "", 71010},
		{"aes_key 42", with("aes_key", cbAESKey[:42]), "", 900004},
		{"aes_key 44", with("aes_key", cbAESKey+"x"), "", 900004},
		{"aes_key symbol", with("aes_key", cbAESKey[:42]+"+"), "", 900004},
		{"no url", with("url", nil), "", 71010},
		{"ftp url", with("url", "ftp://example.com/cb"), "", 71011},
		{"relative url", with("url", "/cb"), "", 71011},
		{"url with credentials", with("url", "http://u:p@127.0.0.1/"), "", 71011},
		{"nobody listens", with("url", closedURL), "", 71012},
		{"reply not success", good["url"].(string), "fail", 71009},
		{"reply bad signature", good["url"].(string), "badsig", 900005},
		{"reply other key", good["url"].(string), "wrong", 71009},
		{"HTTP 500", good["url"].(string), "500", 400052},
		{"redirect", good["url"].(string), "redirect", 400052},
		{"100 MB answer", good["url"].(string), "huge", 400052},
		{"connection reset", good["url"].(string), "reset", 71012},
		{"hangs", good["url"].(string), "hang", 400054},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if c.behave != "" {
				body = with("url", rc.srv.URL)
				rc.setBehave(func(int) string { return c.behave })
				defer rc.setBehave(nil)
			}
			r := e.Post("/call_back/register_call_back?access_token={{token}}", body)
			if got := errcode(t, r); got != c.want {
				t.Fatalf("errcode = %v (%s), want %v", got, r.Body, c.want)
			}
			if got := errcode(t, e.Get("/call_back/get_call_back?access_token={{token}}")); got != 71007 {
				t.Fatalf("a refused register left a callback (get errcode %v)", got)
			}
		})
	}
}

func TestCallbackDeliversEvents(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond})
	rc := newReceiver(t, dingtest.CorpID)
	if got := errcode(t, e.Post("/call_back/register_call_back?access_token={{token}}",
		registerBody(rc.srv.URL, "chat_update_title", "chat_add_member", "chat_remove_member", "chat_update_owner", "chat_quit", "chat_disband"))); got != 0 {
		t.Fatal("register failed")
	}
	rc.waitFor(1) // check_url
	g := e.Group("事件群", "manager4220", "zhangsan")
	// legacy rename and member changes, then v1.0 owner change
	up := func(body string) {
		t.Helper()
		if r := e.Post("/chat/update?access_token={{token}}", body); errcode(t, r) != 0 {
			t.Fatalf("chat/update %s: %s", body, r.Body)
		}
	}
	up(fmt.Sprintf(`{"chatid":%q,"name":"新名字"}`, g.ChatID))
	up(fmt.Sprintf(`{"chatid":%q,"add_useridlist":[%q]}`, g.ChatID, "lisi"))
	up(fmt.Sprintf(`{"chatid":%q,"del_useridlist":[%q]}`, g.ChatID, "lisi"))
	up(fmt.Sprintf(`{"chatid":%q,"owner":%q}`, g.ChatID, "zhangsan"))
	got := rc.waitFor(5)
	// the group's creation came before the subscription's events? No: the
	// subscription was registered first, so creation's member add counts too
	types := []string{}
	for _, p := range got[1:] {
		types = append(types, p["EventType"].(string))
	}
	want := "chat_add_member chat_update_title chat_add_member chat_remove_member"
	if strings.Join(types[:4], " ") != want {
		t.Fatalf("pushed %v, want %s first", types, want)
	}
	title := got[2]
	for k, v := range map[string]any{"CorpId": dingtest.CorpID, "ChatId": g.ChatID, "OpenConversationId": g.OpenConversationID, "Title": "新名字", "Operator": "manager4220"} {
		if title[k] != v {
			t.Errorf("chat_update_title %s = %v, want %v (%v)", k, title[k], v, title)
		}
	}
	if _, ok := title["TimeStamp"].(float64); !ok {
		t.Errorf("TimeStamp is not a number: %v", title)
	}
	if fmt.Sprint(got[3]["UserId"]) != "["+"lisi"+"]" || fmt.Sprint(got[4]["UserId"]) != "["+"lisi"+"]" {
		t.Errorf("UserId lists = %v, %v", got[3]["UserId"], got[4]["UserId"])
	}
	owner := rc.waitFor(6)[5]
	if owner["EventType"] != "chat_update_owner" || owner["Owner"] != "zhangsan" {
		t.Errorf("owner event = %v", owner)
	}
	// attempts are listed with their payloads once the dispatcher saved them
	var ds []ding.Delivery
	var err error
	eventually(t, func() bool {
		ds, err = e.Store.Deliveries(t.Context(), ding.DeliveryFilter{CorpID: dingtest.CorpID, Limit: 10})
		return err != nil || len(ds) >= 5
	})
	if err != nil || len(ds) < 5 {
		t.Fatalf("deliveries = %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if d.Outcome != ding.DeliveryOK || d.Status != 200 || !strings.Contains(d.Payload, d.EventType) {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestCallbackRetriesThenFails(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	rc := newReceiver(t, dingtest.CorpID)
	if got := errcode(t, e.Post("/call_back/register_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_update_title"))); got != 0 {
		t.Fatal("register failed")
	}
	rc.waitFor(1)
	rc.setBehave(func(n int) string {
		if n <= 5 {
			return "fail" // every try at the first event fails
		}
		return ""
	})
	g := e.Group("重试群", "manager4220", "zhangsan")
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"第一"}`, g.ChatID))
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"第二"}`, g.ChatID))
	rc.waitFor(2)
	// the next try waits for the backoff on the server's clock
	for i, wait := range events.Retries {
		waitScheduled(t, e, "http:", i+1)
		if n := len(rc.pushes()); n != 2+i {
			t.Fatalf("before backoff %d: %d pushes, want %d", i, n, 2+i)
		}
		e.Clock.Advance(wait)
		rc.waitFor(3 + i)
	}
	// five tries at 第一, then 第二 is delivered: order kept, nothing lost
	got := rc.waitFor(7)
	for i := 1; i <= 5; i++ {
		if got[i]["Title"] != "第一" {
			t.Fatalf("push %d = %v, want a retry of 第一", i, got[i])
		}
	}
	if got[6]["Title"] != "第二" {
		t.Fatalf("push 6 = %v, want 第二", got[6])
	}
	var r map[string]any
	var list []any
	eventually(t, func() bool {
		r = e.Get("/call_back/get_call_back_failed_result?access_token={{token}}").JSON(t)
		list, _ = r["failed_list"].([]any)
		return len(list) > 0
	})
	if len(list) != 1 || r["has_more"] != false {
		t.Fatalf("failed result = %v", r)
	}
	item := list[0].(map[string]any)
	body, _ := item["chat_update_title"].(map[string]any)
	if item["call_back_tag"] != "chat_update_title" || body["Title"] != "第一" || body["corpid"] != dingtest.CorpID || item["event_time"] == nil {
		t.Fatalf("failed item = %v", item)
	}
	// handed out once
	r = e.Get("/call_back/get_call_back_failed_result?access_token={{token}}").JSON(t)
	if list, _ := r["failed_list"].([]any); len(list) != 0 {
		t.Fatalf("second read = %v", r)
	}
}

func TestFailedResultPages(t *testing.T) {
	e := servertest.New(t)
	sub := ding.SubscriptionID(ding.SubRegister, dingtest.AppKey)
	if err := e.Store.SaveSubscription(t.Context(), &ding.Subscription{ID: sub, Kind: ding.SubRegister, Key: dingtest.AppKey,
		CorpID: dingtest.CorpID, OwnerKey: dingtest.CorpID, Token: cbToken, AESKey: cbAESKey, URL: "http://127.0.0.1:1/"}); err != nil {
		t.Fatal(err)
	}
	owner := "test"
	c, ok, err := e.Store.LeaseCursor(t.Context(), "http:"+sub, dingtest.CorpID, owner, 0, 1<<62)
	if err != nil || !ok {
		t.Fatal(err)
	}
	var failed []ding.FailedEvent
	for i := 1; i <= 250; i++ {
		failed = append(failed, ding.FailedEvent{SubID: sub, CorpID: dingtest.CorpID, Seq: int64(i), Type: "chat_quit", EventTime: int64(i), Payload: `{"EventType":"chat_quit"}`})
	}
	if err := e.Store.SaveProgress(t.Context(), &ding.Progress{Consumer: c.Consumer, CorpID: c.CorpID, Owner: owner, Seq: c.Seq, Failed: failed}); err != nil {
		t.Fatal(err)
	}
	r := e.Get("/call_back/get_call_back_failed_result?access_token={{token}}").JSON(t)
	if l, _ := r["failed_list"].([]any); len(l) != 200 || r["has_more"] != true {
		t.Fatalf("first page: %d items, has_more %v", len(l), r["has_more"])
	}
	r = e.Get("/call_back/get_call_back_failed_result?access_token={{token}}").JSON(t)
	if l, _ := r["failed_list"].([]any); len(l) != 50 || r["has_more"] != false {
		t.Fatalf("second page: %d items, has_more %v", len(l), r["has_more"])
	}
}

func TestAdminPushDialectAndSurfaces(t *testing.T) {
	e := servertest.New(t, server.WithAdminToken("admin-token-for-tests"))
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond})
	admin := map[string]string{"Authorization": "Bearer admin-token-for-tests"}
	rc := newReceiver(t, dingtest.AppKey) // console pushes sign with the AppKey
	put := func(body string) *servertest.Response {
		return e.Do(servertest.Request{Method: "PUT", Path: "/_dingchat/admin/apps/" + dingtest.AppKey + "/callback", Header: admin, Body: body})
	}
	if r := put(fmt.Sprintf(`{"url":%q,"token":%q,"aesKey":%q,"eventTypes":["no_such"]}`, rc.srv.URL, cbToken, cbAESKey)); r.Status < 400 {
		t.Fatalf("an unknown event type was accepted: %s", r.Body)
	}
	if r := put(fmt.Sprintf(`{"url":%q,"token":%q,"aesKey":%q}`, rc.srv.URL, cbToken, cbAESKey)); r.Status != 200 {
		t.Fatalf("set push = %d %s", r.Status, r.Body)
	}
	if got := rc.waitFor(1); got[0]["EventType"] != "check_url" || rc.keys[0] != dingtest.AppKey {
		t.Fatalf("verify push = %v with key %q", got[0], rc.keys[0])
	}
	if r := e.Do(servertest.Request{Path: "/_dingchat/admin/apps/" + dingtest.AppKey + "/callback", Header: admin}).JSON(t); r["url"] != rc.srv.URL || r["ownerKey"] != dingtest.AppKey {
		t.Fatalf("get push = %v", r)
	}
	// a change through the member API: a member quits
	g := e.Group("退群", "manager4220", "zhangsan", "lisi")
	tok, err := e.Svc.IssueMemberToken(t.Context(), dingtest.CorpID, "lisi", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Do(servertest.Request{Method: "POST", Path: "/_dingchat/member/groups/" + g.ChatID + "/quit", Header: map[string]string{"Authorization": "Bearer " + tok.Value}}); r.Status != 200 {
		t.Fatalf("quit = %d %s", r.Status, r.Body)
	}
	// and one through the admin API: disband
	if r := e.Do(servertest.Request{Method: "POST", Path: "/_dingchat/admin/corps/" + dingtest.CorpID + "/groups/" + g.ChatID + "/disband", Header: admin}); r.Status != 200 {
		t.Fatalf("disband = %d %s", r.Status, r.Body)
	}
	got := rc.waitFor(4) // check_url, add (create), quit, disband
	add, quit, disband := got[1], got[2], got[3]
	if add["EventType"] != "chat_add_member" || quit["EventType"] != "chat_quit" || disband["EventType"] != "chat_disband" {
		t.Fatalf("pushed %v, %v, %v", add["EventType"], quit["EventType"], disband["EventType"])
	}
	for k, want := range map[string]any{"CorpId": dingtest.CorpID, "corpId": dingtest.CorpID, "chatId": g.ChatID, "BizId": g.ChatID, "operator": "lisi"} {
		if quit[k] != want {
			t.Errorf("chat_quit %s = %v, want %v (%v)", k, quit[k], want, quit)
		}
	}
	for _, k := range []string{"EventTime", "eventId", "timeStamp", "openConversationId", "operatorUnionId"} {
		if quit[k] == nil || quit[k] == "" {
			t.Errorf("chat_quit lacks %s: %v", k, quit)
		}
	}
	if u, _ := add["unionId"].([]any); len(u) != 3 {
		t.Errorf("chat_add_member unionId = %v, want one per user", add["unionId"])
	}
	// the event log lists each event with its attempts, saved within the
	// dispatcher's flush interval
	var r map[string]any
	var delivered int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r = e.Do(servertest.Request{Path: "/_dingchat/admin/corps/" + dingtest.CorpID + "/events?limit=200", Header: admin}).JSON(t)
		if strings.Count(fmt.Sprint(r), "outcome:ok") >= 3 {
			break
		}
	}
	evs, _ := r["events"].([]any)
	for _, x := range evs {
		ev := x.(map[string]any)
		ds, _ := ev["deliveries"].([]any)
		for _, d := range ds {
			dm := d.(map[string]any)
			if dm["outcome"] != "ok" || dm["consumer"] != "http:app:"+dingtest.AppKey {
				t.Errorf("delivery %v", dm)
			}
			if p, _ := dm["payload"].(map[string]any); p["EventType"] != ev["type"] {
				t.Errorf("delivery payload %v for event %v", dm["payload"], ev["type"])
			}
			delivered++
		}
	}
	if delivered < 3 {
		t.Fatalf("event log shows %d deliveries: %v", delivered, r)
	}
	// newest first, a page at a time, the same entries
	var walked []any
	before := "0"
	for range len(evs) + 1 {
		page := e.Do(servertest.Request{Path: fmt.Sprintf("/_dingchat/admin/corps/%s/events?order=desc&limit=2&before=%s", dingtest.CorpID, before), Header: admin}).JSON(t)
		walked = append(walked, page["events"].([]any)...)
		if before = fmt.Sprint(page["next"]); before == "0" {
			break
		}
	}
	if len(walked) != len(evs) {
		t.Fatalf("newest first walked %d events, want %d", len(walked), len(evs))
	}
	for i := range walked {
		if got, want := fmt.Sprint(walked[i]), fmt.Sprint(evs[len(evs)-1-i]); got != want {
			t.Fatalf("newest first, entry %d = %s, want %s", i, got, want)
		}
	}
	if r := e.Do(servertest.Request{Path: "/_dingchat/admin/deliveries?limit=2", Header: admin}).JSON(t); len(r["deliveries"].([]any)) != 2 {
		t.Fatalf("deliveries page = %v", r)
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
}

// A receiver that hangs holds up only its own subscription: API calls
// answer at once and another subscription gets its pushes.
func TestCallbackHungReceiverIsolated(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond})
	hung := newReceiver(t, dingtest.CorpID)
	fine := newReceiver(t, dingtest.CorpID)
	ctx := t.Context()
	for i, rc := range []*receiver{hung, fine} {
		key := fmt.Sprintf("isolated-%d", i)
		if err := e.Store.SaveSubscription(ctx, &ding.Subscription{ID: ding.SubscriptionID(ding.SubAppPush, key), Kind: ding.SubAppPush, Key: key,
			CorpID: dingtest.CorpID, OwnerKey: dingtest.CorpID, Token: cbToken, AESKey: cbAESKey, URL: rc.srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	hung.setBehave(func(int) string { return "hang" })
	g := e.Group("隔离群", "manager4220", "zhangsan")
	hung.waitFor(1) // it is hanging on the group's first event now
	for i := 0; i < 3; i++ {
		start := time.Now()
		e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"隔离%d"}`, g.ChatID, i))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("chat/update took %v while a receiver hangs", d)
		}
	}
	got := fine.waitFor(4) // add_member and three renames
	if got[3]["title"] != "隔离2" {
		t.Fatalf("the healthy subscription got %v", got)
	}
	if n := len(hung.pushes()); n != 1 {
		t.Fatalf("the hung receiver got %d pushes while hanging, want 1", n)
	}
}

// Neither the token nor the aes_key of a subscription reaches the log,
// whatever fails.
func TestCallbackSecretsNotLogged(t *testing.T) {
	var buf safeBuffer
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	rc := newReceiver(t, dingtest.CorpID)
	if got := errcode(t, e.Post("/call_back/register_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_update_title"))); got != 0 {
		t.Fatal("register failed")
	}
	rc.setBehave(func(int) string { return "badsig" })
	g := e.Group("密钥群", "manager4220", "zhangsan")
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"不泄露"}`, g.ChatID))
	rc.waitFor(2)
	e.Post("/call_back/update_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_update_title"))
	time.Sleep(200 * time.Millisecond)
	if s := buf.String(); strings.Contains(s, cbToken) || strings.Contains(s, cbAESKey) {
		t.Fatalf("a secret reached the log:\n%s", s)
	}
	ds, _ := e.Store.Deliveries(t.Context(), ding.DeliveryFilter{Limit: 10})
	for _, d := range ds {
		if strings.Contains(d.Error, cbToken) || strings.Contains(d.Error, cbAESKey) || strings.Contains(d.Error, "signature=") {
			t.Fatalf("a secret reached a delivery record: %+v", d)
		}
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitScheduled waits until a consumer whose name starts with prefix has
// failed attempts times at its next event (its retry is scheduled on the
// server's clock), so that moving the clock then reaches it.
func waitScheduled(t *testing.T, e *servertest.Env, prefix string, attempts int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		cs, _ := e.Store.Cursors(t.Context(), prefix)
		for _, c := range cs {
			if c.Attempts >= attempts && c.NextAt > 0 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s consumer has a retry scheduled after %d attempts", prefix, attempts)
}
