package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	cachesync "github.com/faabiosr/cachego/sync"
	"github.com/fastwego/dingding"
	"github.com/hugozhu/godingtalk"
)

// plainHTTP is what godingtalk needs besides oapi_server: it always dials
// https, DingChat serves http. It also records what the SDK sent.
type plainHTTP struct {
	mu   sync.Mutex
	seen []string
}

func (p *plainHTTP) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = "http"
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (p *plainHTTP) calls() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.seen, ", ")
}

func godingtalkClient(key, secret string, tr http.RoundTripper) *godingtalk.DingTalkClient {
	c := godingtalk.NewDingTalkClient(key, secret)
	c.Cache = godingtalk.NewInMemoryCache() // the default writes .auth_file into the working directory
	c.HTTPClient = &http.Client{Transport: tr}
	return c
}

// Not parallel: godingtalk reads the server from the process environment.
func TestGodingtalk(t *testing.T) {
	p, _ := startOrg(t)
	t.Setenv("oapi_server", p.Host)
	tr := &plainHTTP{}

	c := godingtalkClient(appKey, appSecret, tr)
	if err := c.RefreshAccessToken(); err != nil {
		t.Fatalf("RefreshAccessToken (appkey): %v", err)
	}
	if c.AccessToken == "" {
		t.Fatal("RefreshAccessToken left AccessToken empty")
	}
	// the pre-2018 form: corpid/corpsecret carrying the same key and secret
	corp := godingtalkClient(appKey, appSecret, tr)
	if err := corp.RefreshAccessToken(true); err != nil {
		t.Fatalf("RefreshAccessToken (corpid): %v", err)
	}
	if corp.AccessToken != c.AccessToken {
		t.Errorf("corpid token = %q, want the still-valid %q", corp.AccessToken, c.AccessToken)
	}

	members := []string{"manager4220", "zhangsan", "lisi"}
	chatID, err := c.CreateChat("godingtalk 测试群", "manager4220", members)
	if err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	if !strings.HasPrefix(chatID, "chat") {
		t.Fatalf("CreateChat chatid = %q", chatID)
	}
	info := chatGet(t, p.Base, c.AccessToken, chatID)
	if info.Name != "godingtalk 测试群" || info.Owner != "manager4220" || !sameSet(info.UserIDList, members) {
		t.Errorf("chat/get after CreateChat = %+v", info)
	}

	u, err := c.UserInfoByUserId("zhangsan")
	if err != nil {
		t.Fatalf("UserInfoByUserId: %v", err)
	}
	if u.Userid != "zhangsan" || u.Name != "张三" || u.Mobile != "13800000001" || u.Position != "工程师" || !u.Active ||
		len(u.Department) != 1 || u.Department[0] != 1 {
		t.Errorf("UserInfoByUserId = %+v", u)
	}

	if got, want := tr.calls(), "GET /gettoken, GET /gettoken, POST /chat/create, GET /user/get"; got != want {
		t.Errorf("godingtalk sent %s, want %s", got, want)
	}

	bad := godingtalkClient(appKey, appSecret, tr)
	bad.AccessToken = "bogus-token"
	if _, err := bad.CreateChat("x", "manager4220", []string{"manager4220"}); err == nil || err.Error() != "40014: 不合法的access_token" {
		t.Errorf("CreateChat with a bad token: err = %v, want 40014: 不合法的access_token", err)
	}
	wrong := godingtalkClient(appKey, "wrong-secret", tr)
	if err := wrong.RefreshAccessToken(); err == nil || err.Error() != "40096: 不合法的appKey或appSecret" {
		t.Errorf("RefreshAccessToken with a wrong secret: err = %v, want 40096", err)
	}
	if _, err := c.CreateChat("x", "manager4220", []string{"zhangsan"}); err == nil || !strings.HasPrefix(err.Error(), "49006: ") {
		t.Errorf("CreateChat with the owner outside the list: err = %v, want errcode 49006", err)
	}
}

// fastwegoClient builds the client the way fastwego's README does.
func fastwegoClient(key, secret string) *dingding.Client {
	atm := &dingding.DefaultAccessTokenManager{
		Id:   key,
		Name: "access_token",
		GetRefreshRequestFunc: func() *http.Request {
			params := url.Values{}
			params.Add("appkey", key)
			params.Add("appsecret", secret)
			req, _ := http.NewRequest(http.MethodGet, dingding.ServerUrl+"/gettoken?"+params.Encode(), nil)
			return req
		},
		Cache: cachesync.New(),
	}
	return dingding.NewClient(atm)
}

func fastwegoPost(t *testing.T, c *dingding.Client, path string, body any) ([]byte, error) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

// Not parallel: fastwego keeps its server in a package variable.
func TestFastwego(t *testing.T) {
	p, _ := startOrg(t)
	oldURL, oldLog := dingding.ServerUrl, dingding.Logger
	dingding.ServerUrl, dingding.Logger = p.Base, nil
	t.Cleanup(func() { dingding.ServerUrl, dingding.Logger = oldURL, oldLog })

	c := fastwegoClient(appKey, appSecret)
	raw, err := fastwegoPost(t, c, "/chat/create", map[string]any{
		"name": "fastwego 测试群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"},
		"showHistoryType": 1, "mentionAllAuthority": 1,
	})
	if err != nil {
		t.Fatalf("chat/create: %v", err)
	}
	var created createBody
	if err := json.Unmarshal(raw, &created); err != nil {
		t.Fatalf("chat/create body %s: %v", raw, err)
	}
	if created.Errcode != 0 || created.Errmsg != "ok" || !strings.HasPrefix(created.ChatID, "chat") ||
		!strings.HasPrefix(created.OpenConversationID, "cid") || created.ConversationTag != 2 {
		t.Fatalf("chat/create = %s", raw)
	}

	raw, err = fastwegoPost(t, c, "/chat/update", map[string]any{
		"chatid": created.ChatID, "name": "fastwego 改名", "owner": "zhangsan",
		"add_useridlist": []string{"lisi", "wangwu"}, "del_useridlist": []string{"manager4220"}, "isBan": true,
	})
	if err != nil {
		t.Fatalf("chat/update: %v", err)
	}
	var ok errBody
	if err := json.Unmarshal(raw, &ok); err != nil || ok.Errcode != 0 || ok.Errmsg != "ok" {
		t.Fatalf("chat/update = %s (%v)", raw, err)
	}

	req, _ := http.NewRequest(http.MethodGet, "/chat/get?chatid="+url.QueryEscape(created.ChatID), nil)
	raw, err = c.Do(req)
	if err != nil {
		t.Fatalf("chat/get: %v", err)
	}
	var got chatGetBody
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("chat/get body %s: %v", raw, err)
	}
	info := got.ChatInfo
	if got.Errcode != 0 || info.Name != "fastwego 改名" || info.Owner != "zhangsan" ||
		!sameSet(info.UserIDList, []string{"zhangsan", "lisi", "wangwu"}) || info.ChatBannedType != 1 ||
		info.ShowHistoryType != 1 || info.MentionAllAuthority != 1 || info.ConversationTag != 2 || info.Status != 1 {
		t.Errorf("chat/get = %s", raw)
	}

	// errors reach fastwego as errors only when the content type is exactly application/json
	req, _ = http.NewRequest(http.MethodGet, "/chat/get?chatid=chatnosuchgroup", nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), `"errcode":40016`) {
		t.Errorf("chat/get of an unknown chatid: err = %v, want errcode 40016", err)
	}
	if _, err := fastwegoPost(t, c, "/chat/update", map[string]any{"chatid": created.ChatID, "add_useridlist": []string{"nobody"}}); err == nil ||
		!strings.Contains(err.Error(), `"errcode":40031`) {
		t.Errorf("chat/update adding an unknown user: err = %v, want errcode 40031", err)
	}
	wrong := fastwegoClient(appKey, "wrong-secret")
	if _, err := wrong.Do(req); err == nil || !strings.Contains(err.Error(), `"errcode":40096`) {
		t.Errorf("a client with a wrong secret: err = %v, want errcode 40096", err)
	}
}
