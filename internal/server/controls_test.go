package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	ctlAdmin       = "adm-controls-test"
	ctlCorp        = "dingctlcorp000000001"
	ctlApp         = "dingctlapp0000000001"
	ctlSecret      = "ctl-secret-0000000001"
	ctlOtherCorp   = "dingctlcorp000000002"
	ctlOtherApp    = "dingctlapp0000000002"
	ctlOtherSecret = "ctl-secret-0000000002"
)

// declaredChat is the group the declared org file holds.
var declaredChat = service.OrgChatID(ctlCorp, "声明群")

// ctlEnv is a server with the test controls on, over the fixture store,
// declaring the fixture corps (one with a group) as an org file would.
type ctlEnv struct {
	t     testing.TB
	url   string
	svc   *service.Service
	store ding.Store
	hooks atomic.Int64
}

// declaredOrgs are two small corps, the first with a declared group: what
// an org file would hold.
func declaredOrgs() []*ding.Org {
	const t0 = 1767225600000
	org := func(corp, app, secret string, users ...string) *ding.Org {
		o := &ding.Org{Corp: ding.Corp{ID: corp, Name: "企业" + corp[len(corp)-1:], CreatedAt: t0},
			Apps: []ding.App{{Key: app, CorpID: corp, Secret: secret, AgentID: 5001, Name: "应用", Scopes: ding.DefaultScopes,
				VisibleAll: true, CreatedAt: t0}}}
		for i, u := range users {
			o.Users = append(o.Users, ding.User{CorpID: corp, UserID: u, UnionID: "union-" + corp + u, Name: u,
				Mobile: fmt.Sprintf("1380000%04d", i), Active: true, DeptIDs: []int64{1}, Created: t0})
		}
		return o
	}
	a := org(ctlCorp, ctlApp, ctlSecret, "manager4220", "zhangsan", "lisi", "wangwu")
	a.Groups = []ding.OrgGroup{{Name: "声明群", Owner: "manager4220", Members: []string{"zhangsan", "wangwu"}}}
	return []*ding.Org{a, org(ctlOtherCorp, ctlOtherApp, ctlOtherSecret, "manager4220", "zhaoliu")}
}

func newCtlEnv(t testing.TB, controls, demo bool) *ctlEnv {
	t.Helper()
	st := servertest.OpenStore(t)
	// from empty: the fixture's big corp would only slow every reset
	if _, err := st.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := []service.Option{service.WithBlobs(blobs)}
	var clock ding.Clock
	if controls {
		opts = append(opts, service.WithTestControls())
		clock = ding.NewControlClock(nil)
	}
	svc := service.New(st, clock, nil, opts...)
	svc.Declare(declaredOrgs(), demo)
	if _, err := svc.ApplyDeclared(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &ctlEnv{t: t, svc: svc, store: st}
	svc.OnReset(func(context.Context) { e.hooks.Add(1) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.Handler(svc, log, server.WithAdminToken(ctlAdmin)))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d %q is not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

func (e *ctlEnv) call(method, path, body string, hdr ...string) reply {
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b, err: err}
}

func (e *ctlEnv) admin(method, path, body string) reply {
	return e.call(method, "/_dingchat/admin"+path, body, "Authorization", "Bearer "+ctlAdmin)
}

func (e *ctlEnv) mustAdmin(method, path, body string) map[string]any {
	e.t.Helper()
	r := e.admin(method, path, body)
	if r.err != nil || r.status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s %v", method, path, r.status, r.body, r.err)
	}
	return r.json(e.t)
}

func (e *ctlEnv) token(key, secret string) string {
	e.t.Helper()
	m := e.call("GET", "/gettoken?appkey="+key+"&appsecret="+secret, "").json(e.t)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		e.t.Fatalf("gettoken: %v", m)
	}
	return tok
}

func ctlErrcode(t testing.TB, r reply) float64 {
	t.Helper()
	c, ok := r.json(t)["errcode"].(float64)
	if !ok {
		t.Fatalf("no errcode in %s", r.body)
	}
	return c
}

func (e *ctlEnv) createGroup(tok, name string, members ...string) string {
	e.t.Helper()
	ms, _ := json.Marshal(append([]string{"manager4220"}, members...))
	r := e.call("POST", "/chat/create?access_token="+tok, `{"name":"`+name+`","owner":"manager4220","useridlist":`+string(ms)+`}`)
	m := r.json(e.t)
	id, _ := m["chatid"].(string)
	if id == "" {
		e.t.Fatalf("chat/create: %s", r.body)
	}
	return id
}

func (e *ctlEnv) requests(query string) []map[string]any {
	e.t.Helper()
	m := e.mustAdmin("GET", "/requests?"+query, "")
	var out []map[string]any
	for _, c := range m["requests"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func TestFaultAnswersLegacyErrorOnceAndIsLogged(t *testing.T) {
	e := newCtlEnv(t, true, false)
	rule := e.mustAdmin("POST", "/faults", `{"path":"/gettoken","action":"error","errcode":90018,"errmsg":"当前请求被限流","count":1}`)
	id, _ := rule["id"].(string)
	first := e.call("GET", "/gettoken?appkey="+ctlApp+"&appsecret="+ctlSecret, "")
	if first.status != 200 || ctlErrcode(t, first) != 90018 || first.json(t)["errmsg"] != "当前请求被限流" {
		t.Fatalf("first call: %d %s", first.status, first.body)
	}
	tok := e.token(ctlApp, ctlSecret) // the rule is spent
	hit := e.requests("path=/gettoken&faulted=true")
	if len(hit) != 1 || hit[0]["fault"] != id || hit[0]["faultAction"] != "error" || hit[0]["errcode"] != "90018" {
		t.Fatalf("faulted calls in the log: %v", hit)
	}
	all := e.requests("path=/gettoken")
	if len(all) != 2 {
		t.Fatalf("log holds %d gettoken calls, want 2", len(all))
	}
	ok := all[1]
	if ok["appKey"] != ctlApp || ok["errcode"] != "0" || ok["surface"] != "legacy" || ok["status"] != float64(200) {
		t.Fatalf("logged call: %v", ok)
	}
	if q := ok["query"].(string); strings.Contains(q, ctlSecret) || !strings.Contains(q, "appsecret=ctl-") {
		t.Fatalf("secret not masked in query %q", q)
	}
	if b, _ := json.Marshal(ok["responseBody"]); bytes.Contains(b, []byte(tok)) || !bytes.Contains(b, []byte(`"access_token":"`+tok[:4])) {
		t.Fatalf("token not masked in the logged answer %s", b)
	}
	rules := e.mustAdmin("GET", "/faults", "")["faults"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["hits"] != float64(1) {
		t.Fatalf("rules: %v", rules)
	}
}

func TestFaultAnswersPerSurface(t *testing.T) {
	e := newCtlEnv(t, true, false)
	e.mustAdmin("POST", "/faults", `{"surface":"v1.0","path":"/v1.0/oauth2/*","action":"error"}`)
	e.mustAdmin("POST", "/faults", `{"surface":"topapi","action":"error","errcode":-1}`)
	e.mustAdmin("POST", "/faults", `{"surface":"v1.0","path":"/v1.0/im/*","action":"error","status":403,"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"限流"}`)
	v1 := e.call("POST", "/v1.0/oauth2/accessToken", `{"appKey":"`+ctlApp+`","appSecret":"`+ctlSecret+`"}`)
	m := v1.json(t)
	if v1.status != 503 || m["code"] != "ServiceUnavailable" || m["requestid"] == "" || v1.header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("v1.0 fault: %d %s", v1.status, v1.body)
	}
	im := e.call("POST", "/v1.0/im/group/create", `{}`)
	if m := im.json(t); im.status != 403 || m["code"] != "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" || m["message"] != "限流" {
		t.Fatalf("v1.0 403 fault: %d %s", im.status, im.body)
	}
	top := e.call("POST", "/topapi/v2/user/get", `{"userid":"zhangsan"}`)
	tm := top.json(t)
	if top.status != 200 || tm["errcode"] != float64(-1) || tm["errmsg"] != "系统繁忙" || len(tm["request_id"].(string)) != 13 {
		t.Fatalf("topapi fault: %s", top.body)
	}
	logged := e.requests("faulted=true")
	if len(logged) != 3 || logged[0]["surface"] != "v1.0" || logged[0]["errcode"] != "ServiceUnavailable" || logged[2]["surface"] != "topapi" {
		t.Fatalf("faulted calls: %v", logged)
	}
	// the v1.0 body's appSecret is masked in the log
	if b, _ := json.Marshal(logged[0]["requestBody"]); bytes.Contains(b, []byte(ctlSecret)) {
		t.Fatalf("appSecret in the log: %s", b)
	}
}

func TestFaultMatchesAppAndBody(t *testing.T) {
	e := newCtlEnv(t, true, false)
	tok := e.token(ctlApp, ctlSecret)
	other := e.token(ctlOtherApp, ctlOtherSecret)
	e.mustAdmin("POST", "/faults", `{"path":"/chat/create","appKey":"`+ctlOtherApp+`","bodyContains":"故障","action":"error","errcode":-1}`)
	// another app, or a body without the substring, passes
	e.createGroup(tok, "故障群")
	e.createGroup(other, "正常群")
	r := e.call("POST", "/chat/create?access_token="+other, `{"name":"故障群","owner":"manager4220","useridlist":["manager4220"]}`)
	if ctlErrcode(t, r) != -1 {
		t.Fatalf("matching call: %s", r.body)
	}
	if got := e.requests("faulted=true&app=" + ctlOtherApp); len(got) != 1 {
		t.Fatalf("faulted calls of the other app: %v", got)
	}
}

func TestFaultLatencyAndDrop(t *testing.T) {
	e := newCtlEnv(t, true, false)
	e.mustAdmin("POST", "/faults", `{"path":"/user/get","action":"latency","latencyMs":150,"count":1}`)
	e.mustAdmin("POST", "/faults", `{"path":"/chat/get","action":"drop"}`)
	start := time.Now()
	r := e.call("GET", "/user/get?userid=zhangsan", "")
	if took := time.Since(start); took < 150*time.Millisecond || r.err != nil {
		t.Fatalf("latency rule: answered after %v, %v", took, r.err)
	}
	if d := e.call("GET", "/chat/get?chatid=x", ""); d.err == nil {
		t.Fatalf("dropped call answered %d %s", d.status, d.body)
	}
	// Go's client tries an idempotent request again on a fresh connection once
	logged := e.requests("path=/chat/get")
	if len(logged) == 0 {
		t.Fatal("dropped call not in the log")
	}
	for _, c := range logged {
		if c["faultAction"] != "drop" || c["status"] != float64(0) {
			t.Fatalf("dropped call in the log: %v", c)
		}
	}
	// clearing the rules lets calls through
	e.mustAdmin("DELETE", "/faults", "")
	if r := e.call("GET", "/chat/get?chatid=x", ""); r.err != nil {
		t.Fatalf("after clear: %v", r.err)
	}
}

func TestFaultRulesRefuseNonsense(t *testing.T) {
	e := newCtlEnv(t, true, false)
	for _, body := range []string{
		`{}`,
		`{"action":"explode"}`,
		`{"action":"error","probability":2}`,
		`{"action":"error","count":-1}`,
		`{"action":"latency"}`,
		`{"action":"error","surface":"smtp"}`,
		`{"action":"error","status":200}`,
		`{"action":"error","path":"chat/send"}`,
		`{"action":"error","pathh":"/chat/send"}`,
		`{"surface":"callback","action":"error"}`,
		`{"action":"error","eventType":"chat_disband"}`,
		`{"action":"error"} {}`,
		`[]`,
	} {
		if r := e.admin("POST", "/faults", body); r.status != http.StatusBadRequest {
			t.Errorf("rule %s: %d %s, want 400", body, r.status, r.body)
		}
	}
	if got := e.mustAdmin("GET", "/faults", "")["faults"].([]any); len(got) != 0 {
		t.Fatalf("refused rules were kept: %v", got)
	}
	if r := e.admin("DELETE", "/faults/fault-99", ""); r.status != http.StatusNotFound {
		t.Fatalf("removing an unknown rule: %d", r.status)
	}
}

func TestControlsOffByDefault(t *testing.T) {
	e := newCtlEnv(t, false, false)
	for _, c := range [][3]string{
		{"POST", "/reset", ""},
		{"POST", "/clock", `{"advance":"+2h"}`},
		{"POST", "/faults", `{"action":"drop"}`},
	} {
		if r := e.admin(c[0], c[1], c[2]); r.status != http.StatusForbidden {
			t.Errorf("%s %s with controls off: %d %s", c[0], c[1], r.status, r.body)
		}
	}
	if c := e.mustAdmin("GET", "/clock", ""); c["movable"] != false {
		t.Fatalf("clock: %v", c)
	}
	// the logs read without the controls
	e.token(ctlApp, ctlSecret)
	if got := e.requests("path=/gettoken"); len(got) != 1 {
		t.Fatalf("request log: %v", got)
	}
	if r := e.call("POST", "/_dingchat/admin/reset", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("reset without the admin token: %d", r.status)
	}
}

func TestClockExpiresTokensAndNeverRunsBack(t *testing.T) {
	e := newCtlEnv(t, true, false)
	tok := e.token(ctlApp, ctlSecret)
	before := e.mustAdmin("GET", "/clock", "")
	c := e.mustAdmin("POST", "/clock", `{"advance":"+2h"}`)
	if c["offsetMs"] != float64(7200000) || c["nowMs"].(float64)-before["nowMs"].(float64) < 7200000 {
		t.Fatalf("after +2h: %v (before %v)", c, before)
	}
	if r := e.call("GET", "/chat/get?access_token="+tok+"&chatid="+declaredChat, ""); ctlErrcode(t, r) != 40014 {
		t.Fatalf("a token 2 h old: %s", r.body)
	}
	if _, err := e.svc.Authenticate(context.Background(), tok); ding.ErrorReason(err) != ding.ReasonTokenExpired {
		t.Fatalf("authenticate: %v, want token_expired", err)
	}
	fresh := e.token(ctlApp, ctlSecret)
	if fresh == tok {
		t.Fatal("an expired token was handed out again")
	}
	// pinned: the clock stops; moving back is refused and changes nothing
	p := e.mustAdmin("POST", "/clock", `{"pin":"2031-01-31T23:59:00+08:00"}`)
	if p["pinned"] != true || p["now"] != "2031-01-31T23:59:00.000+08:00" {
		t.Fatalf("pinned: %v", p)
	}
	for _, bad := range []string{`{"pin":"2030-01-01T00:00:00Z"}`, `{"real":true}`, `{"advance":"-1h"}`, `{"advance":"soon"}`,
		`{"pin":"tomorrow"}`, `{}`, `{"advance":"1h","real":true}`} {
		if r := e.admin("POST", "/clock", bad); r.status != http.StatusBadRequest {
			t.Errorf("clock %s: %d %s, want 400", bad, r.status, r.body)
		}
	}
	if now := e.mustAdmin("GET", "/clock", "")["now"]; now != "2031-01-31T23:59:00.000+08:00" {
		t.Fatalf("after refused moves the clock reads %v", now)
	}
	e.mustAdmin("POST", "/clock", `{"advance":"2m"}`)
	if r := e.mustAdmin("POST", "/clock", `{"resume":true}`); r["pinned"] != false {
		t.Fatalf("resume: %v", r)
	}
	if got := e.svc.Clock().Now(); got.Before(time.Date(2031, 1, 31, 16, 1, 0, 0, time.UTC)) {
		t.Fatalf("resumed clock reads %v", got)
	}
	// freezing a ticking clock stops it where it stands (to the millisecond), again and again
	for i := 0; i < 20; i++ {
		e.svc.Clock().Now()
		e.mustAdmin("POST", "/clock", `{"freeze":true}`)
		e.mustAdmin("POST", "/clock", `{"resume":true}`)
	}
}

func TestMonthlyQuotaRollsOverAtChinaMidnight(t *testing.T) {
	e := newCtlEnv(t, true, false)
	e.mustAdmin("POST", "/clock", `{"pin":"2031-01-31T23:59:00+08:00"}`)
	e.mustAdmin("PUT", "/corps/"+ctlCorp+"/quota", `{"monthlyQuota":1}`)
	tok := e.token(ctlApp, ctlSecret)
	get := func() float64 {
		return ctlErrcode(t, e.call("GET", "/chat/get?access_token="+tok+"&chatid="+declaredChat, ""))
	}
	if c := get(); c != 0 {
		t.Fatalf("first call: %v", c)
	}
	if c := get(); c != 90020 {
		t.Fatalf("over the quota: %v, want 90020", c)
	}
	e.mustAdmin("POST", "/clock", `{"advance":"1m"}`) // 2031-02-01 00:00 in China
	if c := get(); c != 0 {
		t.Fatalf("after China midnight: %v, want 0", c)
	}
}

func TestResetRestoresDeclaredState(t *testing.T) {
	e := newCtlEnv(t, true, true)
	tok := e.token(ctlApp, ctlSecret)
	chat := e.createGroup(tok, "临时群", "lisi")
	e.mustAdmin("PUT", "/apps/"+ctlApp+"/limits", `{"qps":1}`)
	e.mustAdmin("POST", "/clock", `{"advance":"24h"}`)
	e.mustAdmin("POST", "/faults", `{"path":"/nothing","action":"drop"}`)
	r := e.mustAdmin("POST", "/reset", "")
	gen, _ := r["generation"].(float64)
	if gen < 1 || e.svc.ResetGeneration() != int64(gen) {
		t.Fatalf("reset: %v", r)
	}
	if e.hooks.Load() != 1 {
		t.Fatalf("reset hooks ran %d times", e.hooks.Load())
	}
	if c := e.mustAdmin("GET", "/clock", ""); c["offsetMs"] != float64(0) || c["pinned"] != false {
		t.Fatalf("clock after reset: %v", c)
	}
	if r := e.call("GET", "/chat/get?access_token="+tok+"&chatid="+chat, ""); ctlErrcode(t, r) != 40014 {
		t.Fatalf("a token from before the reset: %s", r.body)
	}
	tok = e.token(ctlApp, ctlSecret)
	if r := e.call("GET", "/chat/get?access_token="+tok+"&chatid="+chat, ""); ctlErrcode(t, r) == 0 {
		t.Fatalf("a group created before the reset: %s", r.body)
	}
	// the declared group is back with its members, and the limits are the declared ones (none)
	for i := 0; i < 3; i++ {
		g := e.call("GET", "/chat/get?access_token="+tok+"&chatid="+declaredChat, "")
		if ctlErrcode(t, g) != 0 {
			t.Fatalf("declared group after reset: %s", g.body)
		}
		if ids := g.json(t)["chat_info"].(map[string]any)["useridlist"].([]any); len(ids) != 3 {
			t.Fatalf("declared group's members: %v", ids)
		}
	}
	// the demo comes back with the same keys
	corps, err := e.store.Corps(context.Background())
	if err != nil || len(corps) != 2 {
		t.Fatalf("corps after reset: %v %v (want the two declared; the demo only when none is)", corps, err)
	}
	// fault rules are controls, not state: they stay
	if got := e.mustAdmin("GET", "/faults", "")["faults"].([]any); len(got) != 1 {
		t.Fatalf("fault rules after reset: %v", got)
	}
	if r := e.mustAdmin("POST", "/reset", ""); r["generation"] != gen+1 {
		t.Fatalf("second reset: %v", r)
	}
}

func TestResetBringsTheDemoBack(t *testing.T) {
	st := dingtest.OpenStore(t) // no corp: the demo's turn
	svc := service.New(st, ding.NewControlClock(nil), nil, service.WithTestControls())
	svc.Declare(nil, true)
	if created, err := svc.ApplyDeclared(context.Background()); err != nil || created == "" {
		t.Fatalf("demo: %v %v", created, err)
	}
	mt, err := svc.IssueDemoMemberToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	svc.DeclareMemberToken(*mt)
	before, _ := svc.Summarize(context.Background(), 100)
	if _, err := svc.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := svc.Summarize(context.Background(), 100)
	if len(before) != 1 || len(after) != 1 || before[0].Corp.ID != after[0].Corp.ID || before[0].Apps[0].Secret != after[0].Apps[0].Secret ||
		len(after[0].Users) != len(before[0].Users) || len(after[0].Users) < 50 {
		t.Fatalf("demo before %d users, after %d", len(before[0].Users), len(after[0].Users))
	}
	// the member token the banner printed still signs in
	if _, err := svc.AuthenticateMember(context.Background(), mt.Value); err != nil {
		t.Fatalf("the demo's member token after a reset: %v", err)
	}
}

// TestResetRacingTraffic resets while clients create groups and send: a
// group whose creation was answered before the reset began is gone, one
// created after it ended is there, and any group is whole; the declared
// state is exactly back.
func TestResetRacingTraffic(t *testing.T) {
	e := newCtlEnv(t, true, false)
	type created struct {
		chat       string
		start, end time.Time
	}
	var (
		mu   sync.Mutex
		made []created
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := ""
			for i := 0; !stop.Load(); i++ {
				if tok == "" {
					m := e.call("GET", "/gettoken?appkey="+ctlApp+"&appsecret="+ctlSecret, "")
					if m.err != nil {
						continue
					}
					tok, _ = m.json(t)["access_token"].(string)
					continue
				}
				start := time.Now()
				r := e.call("POST", "/chat/create?access_token="+tok,
					fmt.Sprintf(`{"name":"竞争群%d-%d","owner":"manager4220","useridlist":["manager4220","zhangsan","lisi"]}`, w, i))
				end := time.Now()
				if r.err != nil {
					continue
				}
				m := r.json(t)
				if m["errcode"] != float64(0) {
					tok = "" // the reset took the token
					continue
				}
				chat := m["chatid"].(string)
				e.call("POST", "/chat/send?access_token="+tok, `{"chatid":"`+chat+`","msg":{"msgtype":"text","text":{"content":"hi"}}}`)
				mu.Lock()
				made = append(made, created{chat, start, end})
				mu.Unlock()
			}
		}()
	}
	// wait for groups, not for time: on a busy machine a fixed pause may see none
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(made)
	}
	waitFor := func(n int) {
		for deadline := time.Now().Add(30 * time.Second); count() < n && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(8)
	resetStart := time.Now()
	e.mustAdmin("POST", "/reset", "")
	resetEnd := time.Now()
	waitFor(count() + 8)
	stop.Store(true)
	wg.Wait()

	ctx := context.Background()
	var gone, kept int
	for _, c := range made {
		g, err := e.store.Group(ctx, ctlCorp, c.chat)
		switch {
		case c.end.Before(resetStart):
			if err == nil {
				t.Errorf("group %s answered before the reset survived it", c.chat)
			}
			gone++
		case c.start.After(resetEnd):
			if err != nil {
				t.Errorf("group %s created after the reset: %v", c.chat, err)
			}
			kept++
		}
		if err == nil {
			if ms, err := e.store.Members(ctx, c.chat); err != nil || len(ms) != 3 || g.MemberCount != 3 {
				t.Errorf("group %s is torn: %d members (%v), count %d", c.chat, len(ms), err, g.MemberCount)
			}
		}
	}
	if gone == 0 || kept == 0 {
		t.Fatalf("the traffic did not straddle the reset: %d before, %d after", gone, kept)
	}
	ms, err := e.store.Members(ctx, declaredChat)
	if err != nil || len(ms) != 3 {
		t.Fatalf("declared group after the race: %v %v", ms, err)
	}
}

func TestThrowawayCorps(t *testing.T) {
	e := newCtlEnv(t, false, false) // no test controls needed
	a := e.mustAdmin("POST", "/corps", `{"users":["boss","dev1","dev2"],"robots":1}`)
	b := e.mustAdmin("POST", "/corps", ``)
	appOf := func(c map[string]any) (string, string) {
		app := c["apps"].([]any)[0].(map[string]any)
		return app["appKey"].(string), app["appSecret"].(string)
	}
	ka, sa := appOf(a)
	kb, sb := appOf(b)
	if a["corpId"] == b["corpId"] || ka == kb || len(b["users"].([]any)) != 5 || len(a["robots"].([]any)) != 1 {
		t.Fatalf("corps %v and %v", a, b)
	}
	ta, tb := e.token(ka, sa), e.token(kb, sb)
	r := e.call("POST", "/chat/create?access_token="+ta, `{"name":"甲群","owner":"boss","useridlist":["boss","dev1"]}`)
	chat, _ := r.json(t)["chatid"].(string)
	if chat == "" {
		t.Fatalf("create in a throwaway corp: %s", r.body)
	}
	if r := e.call("GET", "/chat/get?access_token="+tb+"&chatid="+chat, ""); ctlErrcode(t, r) == 0 {
		t.Fatalf("another corp sees the group: %s", r.body)
	}
	if got := e.mustAdmin("GET", "/events?corpId="+a["corpId"].(string), ""); len(got["events"].([]any)) == 0 {
		t.Fatalf("events of the corp: %v", got)
	}
	e.mustAdmin("DELETE", "/corps/"+a["corpId"].(string), "")
	if r := e.call("GET", "/chat/get?access_token="+ta+"&chatid="+chat, ""); ctlErrcode(t, r) != 40014 {
		t.Fatalf("token of a deleted corp: %s", r.body)
	}
	if r := e.call("GET", "/gettoken?appkey="+ka+"&appsecret="+sa, ""); ctlErrcode(t, r) == 0 {
		t.Fatalf("app of a deleted corp: %s", r.body)
	}
	if r := e.admin("GET", "/events?corpId="+a["corpId"].(string), ""); r.status != http.StatusNotFound {
		t.Fatalf("events of a deleted corp: %d", r.status)
	}
	if r := e.admin("DELETE", "/corps/"+a["corpId"].(string), ""); r.status != http.StatusNotFound {
		t.Fatalf("deleting twice: %d", r.status)
	}
	e.token(kb, sb) // the other corp is untouched
	for _, bad := range []string{`{"users":["a","a"]}`, `{"users":["a b"]}`, `{"robots":-1}`, `{"user":["a"]}`, `{"users":"a"}`} {
		if r := e.admin("POST", "/corps", bad); r.status != http.StatusBadRequest {
			t.Errorf("corp %s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestEventLogFilters(t *testing.T) {
	e := newCtlEnv(t, false, false)
	tok := e.token(ctlApp, ctlSecret)
	e.createGroup(tok, "事件群", "lisi")
	m := e.mustAdmin("GET", "/events?corpId="+ctlCorp+"&type=chat_create", "")
	evs := m["events"].([]any)
	if len(evs) != 2 { // the declared group and this one
		t.Fatalf("chat_create events: %v", m)
	}
	last := evs[1].(map[string]any)
	if last["type"] != "chat_create" || last["data"].(map[string]any)["title"] != "事件群" {
		t.Fatalf("event: %v", last)
	}
	page := e.mustAdmin("GET", "/events?corpId="+ctlCorp+"&limit=1", "")
	if len(page["events"].([]any)) != 1 || page["hasMore"] != true {
		t.Fatalf("first page: %v", page)
	}
	next := e.mustAdmin("GET", fmt.Sprintf("/events?corpId=%s&limit=1&after=%v", ctlCorp, page["nextAfter"]), "")
	if next["events"].([]any)[0].(map[string]any)["seq"] != float64(2) {
		t.Fatalf("second page: %v", next)
	}
	future := e.mustAdmin("GET", "/events?corpId="+ctlCorp+"&since=2099-01-01T00:00:00Z", "")
	if len(future["events"].([]any)) != 0 {
		t.Fatalf("events since 2099: %v", future)
	}
	for _, q := range []string{"", "?corpId=" + ctlCorp + "&limit=0", "?corpId=" + ctlCorp + "&since=yesterday",
		"?corpId=" + ctlCorp + "&after=-1"} {
		if r := e.admin("GET", "/events"+q, ""); r.status != http.StatusBadRequest {
			t.Errorf("events%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestRequestLogFiltersAndPages(t *testing.T) {
	e := newCtlEnv(t, false, false)
	for i := 0; i < 3; i++ {
		e.call("GET", "/user/get?userid=nobody", "")
	}
	tok := e.token(ctlApp, ctlSecret)
	e.call("GET", "/user/get?access_token="+tok+"&userid=zhangsan", "")
	p1 := e.mustAdmin("GET", "/requests?path=/user/*&limit=2", "")
	if len(p1["requests"].([]any)) != 2 || p1["hasMore"] != true {
		t.Fatalf("first page: %v", p1)
	}
	p2 := e.mustAdmin("GET", fmt.Sprintf("/requests?path=/user/*&limit=2&after=%v", p1["nextAfter"]), "")
	rs := p2["requests"].([]any)
	if len(rs) != 2 || p2["hasMore"] != false {
		t.Fatalf("second page: %v", p2)
	}
	if last := rs[1].(map[string]any); last["appKey"] != ctlApp || last["errcode"] != "0" {
		t.Fatalf("last call: %v", last)
	}
	if got := e.requests("errcode=0&path=/user/get"); len(got) != 1 {
		t.Fatalf("errcode filter: %v", got)
	}
	// a refusal carries DingChat's reason
	if first := p1["requests"].([]any)[0].(map[string]any); first["reason"] == nil || first["reason"] == "" || first["errcode"] == "0" {
		t.Fatalf("refused call in the log: %v", first)
	}
	if got := e.requests("since=2099-01-01T00:00:00Z"); len(got) != 0 {
		t.Fatalf("since filter: %v", got)
	}
	if got := e.requests("path=/_dingchat/admin/*"); len(got) != 0 {
		t.Fatalf("the admin API logs itself: %v", got)
	}
	e.mustAdmin("DELETE", "/requests", "")
	if got := e.requests(""); len(got) != 0 {
		t.Fatalf("after clear: %v", got)
	}
	for _, q := range []string{"limit=0", "limit=x", "after=-1", "since=soon", "status=999"} {
		if r := e.admin("GET", "/requests?"+q, ""); r.status != http.StatusBadRequest {
			t.Errorf("requests?%s: %d", q, r.status)
		}
	}
}

func TestClockEndsTheWebhookThrottle(t *testing.T) {
	e := newCtlEnv(t, true, false)
	w := e.mustAdmin("POST", "/groups/"+declaredChat+"/webhooks", `{"name":"CI"}`)
	send := func() float64 {
		return ctlErrcode(t, e.call("POST", "/robot/send?access_token="+w["access_token"].(string), `{"msgtype":"text","text":{"content":"告警"}}`))
	}
	for i := 0; i < ding.WebhookPerWindow; i++ {
		if c := send(); c != 0 {
			t.Fatalf("send %d: %v", i+1, c)
		}
	}
	if c := send(); c != 660026 {
		t.Fatalf("send over the limit: %v, want 660026", c)
	}
	e.mustAdmin("POST", "/clock", `{"advance":"9m"}`)
	if c := send(); c != 660026 {
		t.Fatalf("9 minutes into the throttle: %v, want 660026", c)
	}
	e.mustAdmin("POST", "/clock", `{"advance":"1m1s"}`)
	if c := send(); c != 0 {
		t.Fatalf("after the throttle: %v, want 0", c)
	}
}

// The request log's errcode is the one the surface answered with, on every
// surface, and every secret a call carried is masked when the log is read:
// in the query, a form, a JSON request and a JSON answer.
func TestRequestLogErrcodesAndMasking(t *testing.T) {
	e := newCtlEnv(t, false, false)
	tok := e.token(ctlApp, ctlSecret)
	e.call("POST", "/topapi/v2/user/get?access_token="+tok, `{"userid":"zhangsan"}`)
	e.call("POST", "/topapi/v2/user/get?access_token=nosuchtoken0000000", `{"userid":"zhangsan"}`)
	v1 := e.call("POST", "/v1.0/oauth2/accessToken", `{"appKey":"`+ctlApp+`","appSecret":"`+ctlSecret+`"}`)
	v1tok, _ := v1.json(t)["accessToken"].(string)
	e.call("POST", "/v1.0/oauth2/accessToken", `{"appKey":"`+ctlApp+`","appSecret":"wrong-secret-000000001"}`)
	e.call("POST", "/gettoken", "corpid="+ctlCorp+"&corpsecret="+ctlSecret, "Content-Type", "application/x-www-form-urlencoded")
	e.call("POST", "/chat/send?access_token="+tok, `{"chatid":"`+strings.Repeat("x", 9000)+`"}`)
	e.call("GET", "/v1.0/im/nothing", "", "x-acs-dingtalk-access-token", v1tok)

	got := e.requests("limit=100")
	want := []struct {
		path, errcode string
		status        float64
	}{
		{"/gettoken", "0", 200}, {"/topapi/v2/user/get", "0", 200}, {"/topapi/v2/user/get", "88", 200},
		{"/v1.0/oauth2/accessToken", "", 200}, {"/v1.0/oauth2/accessToken", "", 400},
		{"/gettoken", "0", 200}, {"/chat/send", "", 200}, {"/v1.0/im/nothing", "InvalidAction.NotFound", 404},
	}
	if len(got) != len(want) {
		t.Fatalf("%d calls logged, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		c := got[i]
		code, _ := c["errcode"].(string)
		if c["path"] != w.path || c["status"] != w.status || w.errcode != "" && code != w.errcode {
			t.Errorf("call %d: %v %v %q, want %s %v %q", i, c["path"], c["status"], code, w.path, w.status, w.errcode)
		}
		// the answer's own code, whatever it is, and nothing for a v1.0 success
		var body map[string]any
		b, _ := json.Marshal(c["responseBody"])
		json.Unmarshal(b, &body)
		switch ec := body["errcode"].(type) {
		case float64:
			if code != fmt.Sprint(ec) {
				t.Errorf("call %d: logged errcode %q, answered %v", i, code, ec)
			}
		case nil:
			if wc, _ := body["code"].(string); code != wc {
				t.Errorf("call %d: logged errcode %q, answered code %q", i, code, wc)
			}
		}
	}
	if got[6]["truncated"] != true {
		t.Errorf("a 9 KB body is not marked cut: %v", got[6])
	}
	all, _ := json.Marshal(got)
	for _, secret := range []string{ctlSecret, tok, v1tok, "wrong-secret-000000001"} {
		if strings.Contains(string(all), secret) {
			t.Fatalf("the request log shows a secret (%q): %s", secret, all)
		}
	}
	if !strings.Contains(string(all), `appSecret\":\"ctl-`) && !strings.Contains(string(all), `"appSecret":"ctl-`) {
		t.Errorf("the masked secret keeps its first characters: %s", all)
	}
}

// Each call's logged answer is its own however many run at once: the
// buffers that capture answers for the log are reused from call to call.
func TestRequestLogKeepsEachCallsAnswer(t *testing.T) {
	e := newCtlEnv(t, false, false)
	tok := e.token(ctlApp, ctlSecret)
	users := []string{"manager4220", "zhangsan", "lisi", "wangwu"}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			r := e.call("GET", "/user/get?access_token="+tok+"&userid="+users[i%len(users)], "")
			if r.err != nil || r.status != http.StatusOK {
				t.Errorf("user/get: %d %v", r.status, r.err)
			}
		})
	}
	wg.Wait()
	calls := e.requests("path=/user/get&limit=100")
	if len(calls) != 40 {
		t.Fatalf("%d calls logged, want 40", len(calls))
	}
	for _, c := range calls {
		q, _ := c["query"].(string)
		id := q[strings.LastIndex(q, "userid=")+len("userid="):]
		answer, _ := c["responseBody"].(map[string]any)
		if answer["errcode"] != float64(0) || answer["userid"] != id {
			t.Errorf("call %s logged the answer %v", q, c["responseBody"])
		}
	}
}
