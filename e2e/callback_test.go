package e2e

import (
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/zhaoyunxing92/dingtalk/v2"
	"github.com/zhaoyunxing92/dingtalk/v2/cache"
	zcrypto "github.com/zhaoyunxing92/dingtalk/v2/crypto"
	"github.com/zhaoyunxing92/dingtalk/v2/request"
)

const (
	e2eCbToken  = "e2e-callback-token"
	e2eCbAESKey = "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus"
)

// sdkReceiver receives pushes with zhaoyunxing92/dingtalk's own crypto: an
// implementation DingChat shares no code with.
type sdkReceiver struct {
	t   *testing.T
	srv *httptest.Server
	c   *zcrypto.DingTalkCrypto

	mu   sync.Mutex
	got  []map[string]any
	fail bool
}

func newSDKReceiver(t *testing.T, ownerKey string) *sdkReceiver {
	key, err := base64.StdEncoding.DecodeString(e2eCbAESKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	rc := &sdkReceiver{t: t, c: &zcrypto.DingTalkCrypto{Token: e2eCbToken, SuiteKey: ownerKey, AESKey: key, Block: block}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *sdkReceiver) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var body struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	plain, err := rc.c.Decrypt(body.Encrypt, q.Get("signature"), q.Get("timestamp"), q.Get("nonce"))
	if err != nil {
		rc.t.Errorf("the SDK cannot decrypt a push: %v", err)
		http.Error(w, err.Error(), 400)
		return
	}
	var v map[string]any
	json.Unmarshal([]byte(plain), &v)
	rc.mu.Lock()
	rc.got = append(rc.got, v)
	fail := rc.fail
	rc.mu.Unlock()
	if fail {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	reply, err := rc.c.Encrypt("success")
	if err != nil {
		rc.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(reply.String()))
}

func (rc *sdkReceiver) setFail(f bool) {
	rc.mu.Lock()
	rc.fail = f
	rc.mu.Unlock()
}

// titles lists the Title of every chat_update_title received, in order.
func (rc *sdkReceiver) titles() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, v := range rc.got {
		if v["EventType"] == "chat_update_title" {
			t, ok := v["Title"] // register_call_back's dialect
			if !ok {
				t = v["title"] // the console push's
			}
			out = append(out, fmt.Sprint(t))
		}
	}
	return out
}

func (rc *sdkReceiver) waitTitles(n int, within time.Duration) []string {
	rc.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ts := rc.titles(); len(distinct(ts)) >= n {
			return ts
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.t.Fatalf("received titles %v, want %d distinct", rc.titles(), n)
	return nil
}

func distinct(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// toDingChat sends the SDK's requests for DingTalk's hosts to base.
type toDingChat struct {
	base *url.URL
	next http.RoundTripper
}

func (t toDingChat) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Host, "dingtalk.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	}
	return t.next.RoundTrip(r)
}

// memCache keeps the SDK's token in memory instead of a file in the working directory.
type memCache struct {
	mu sync.Mutex
	b  []byte
}

func (m *memCache) Set(v cache.Expired) error {
	b, err := json.Marshal(v)
	m.mu.Lock()
	m.b = b
	m.mu.Unlock()
	return err
}

func (m *memCache) Get(v cache.Expired) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b == nil {
		return errors.New("empty")
	}
	return json.Unmarshal(m.b, v)
}

func rename(t *testing.T, base, token, chatID, name string) {
	t.Helper()
	var r struct{ Errcode int }
	legacy(t, "POST", base+"/chat/update?access_token="+token, map[string]any{"chatid": chatID, "name": name}, &r)
	if r.Errcode != 0 {
		t.Fatalf("rename to %s: errcode %d", name, r.Errcode)
	}
}

func createGroup(t *testing.T, base, token string) string {
	t.Helper()
	var c struct {
		Errcode int
		Chatid  string
	}
	legacy(t, "POST", base+"/chat/create?access_token="+token,
		map[string]any{"name": "回调群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}}, &c)
	if c.Errcode != 0 {
		t.Fatalf("chat/create errcode %d", c.Errcode)
	}
	return c.Chatid
}

// The SDK registers through its own RegisterEvent call; DingChat's
// check_url and every push are decrypted and answered by the SDK's crypto.
func TestCallbackWithSDK(t *testing.T) {
	p, _ := startOrg(t)
	base, _ := url.Parse(p.Base)
	saved := http.DefaultTransport
	http.DefaultTransport = toDingChat{base: base, next: saved}
	defer func() { http.DefaultTransport = saved }()
	client, err := dingtalk.NewClient(appKey, appSecret, dingtalk.WithCache(&memCache{}))
	if err != nil {
		t.Fatal(err)
	}
	rc := newSDKReceiver(t, corpID)
	res, err := client.RegisterEvent(&request.RegisterEvent{Tags: []string{"chat_update_title", "chat_add_member"},
		Token: e2eCbToken, Url: rc.srv.URL + "/callback", Secret: e2eCbAESKey})
	if err != nil || res.Code != 0 {
		t.Fatalf("RegisterEvent = %+v, %v", res, err)
	}
	got, err := client.GetRegisterEvent()
	if err != nil || got.Url != rc.srv.URL+"/callback" {
		t.Fatalf("GetRegisterEvent = %+v, %v", got, err)
	}
	http.DefaultTransport = saved
	token := getToken(t, p.Base, appKey, appSecret)
	chat := createGroup(t, p.Base, token)
	rename(t, p.Base, token, chat, "第一个名字")
	rename(t, p.Base, token, chat, "第二个名字")
	if ts := rc.waitTitles(2, 10*time.Second); strings.Join(distinct(ts), ",") != "第一个名字,第二个名字" {
		t.Fatalf("titles = %v", ts)
	}
	rc.mu.Lock()
	first := rc.got[0]
	rc.mu.Unlock()
	if first["EventType"] != "check_url" {
		t.Errorf("first push = %v, want check_url", first)
	}
}

// A kill -9 between the commit and the push loses nothing: the restarted
// server delivers the event.
func TestCallbackSurvivesKill(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	rc := newSDKReceiver(t, appKey) // a console push: signed with the AppKey
	rc.setFail(true)
	org := strings.Replace(orgYAML, "        name: 端到端应用\n", fmt.Sprintf("        name: 端到端应用\n        callback:\n          url: %s\n          token: %s\n          aesKey: %s\n          eventTypes: [chat_update_title]\n", rc.srv.URL, e2eCbToken, e2eCbAESKey), 1)
	orgPath := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(orgPath, []byte(org), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data", data, "--org", orgPath, "--demo=false"}
	p := start(t, args...)
	token := getToken(t, p.Base, appKey, appSecret)
	chat := createGroup(t, p.Base, token)
	rename(t, p.Base, token, chat, "杀前改名")
	rc.waitTitles(1, 10*time.Second) // tried once and refused: not acknowledged
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	rc.setFail(false)
	p2 := start(t, args...)
	defer p2.stop()
	// the first retry comes a second after the refused try; a PostgreSQL
	// node also waits out the dead node's lease (15 s)
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		n := len(rc.got)
		rc.mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts := rc.titles()
	if len(ts) < 2 || ts[len(ts)-1] != "杀前改名" {
		t.Fatalf("after restart the receiver got %v, want 杀前改名 again", ts)
	}
}

// On PostgreSQL, two nodes deliver one subscription's events: each event
// reaches the receiver whichever node committed it, in order, and when the
// node holding the delivery dies the other takes over and loses nothing.
func TestCallbackTwoNodes(t *testing.T) {
	needBinary(t)
	if !dingtest.Postgres(t) {
		t.Skip("several nodes share a database on PostgreSQL only (DINGCHAT_TEST_STORE=postgres)")
	}
	db := dingtest.ClaimSchema(t, 8)
	dir := t.TempDir()
	orgPath := writeOrg(t, dir)
	nodes := startNodes(t, 2, dir, orgPath, db)
	rc := newSDKReceiver(t, corpID)
	token := getToken(t, nodes[0].Base, appKey, appSecret)
	var reg struct{ Errcode int }
	legacy(t, "POST", nodes[0].Base+"/call_back/register_call_back?access_token="+token, map[string]any{
		"call_back_tag": []string{"chat_update_title"}, "token": e2eCbToken, "aes_key": e2eCbAESKey, "url": rc.srv.URL}, &reg)
	if reg.Errcode != 0 {
		t.Fatalf("register errcode %d", reg.Errcode)
	}
	chat := createGroup(t, nodes[1].Base, token)
	var want []string
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("双节点%d", i)
		rename(t, nodes[i%2].Base, token, chat, name)
		want = append(want, name)
	}
	if got := distinct(rc.waitTitles(10, 15*time.Second)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("titles = %v, want %v in order", got, want)
	}
	// kill both in turn of who might hold the lease: kill node 0, rename
	// through node 1; the lease of a dead node runs out within 15 s
	nodes[0].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[0].done
	for i := 10; i < 15; i++ {
		name := fmt.Sprintf("双节点%d", i)
		rename(t, nodes[1].Base, token, chat, name)
		want = append(want, name)
	}
	if got := distinct(rc.waitTitles(15, 30*time.Second)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after node 0 died titles = %v, want %v", got, want)
	}
}
