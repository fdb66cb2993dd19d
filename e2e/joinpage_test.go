package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// needBrowser skips without chromium, unless DINGCHAT_TEST_BROWSER is set
// (as .ci/run sets it): then a missing browser fails the test.
func needBrowser(t *testing.T) {
	t.Helper()
	needBinary(t)
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("DINGCHAT_TEST_BROWSER") != "" {
			t.Fatalf("DINGCHAT_TEST_BROWSER is set but %s is missing (apt-get install chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser test: %s is missing (apt-get install chromium, or set DINGCHAT_TEST_BROWSER=1 to make this a failure)", chromiumPath)
	}
}

// browser starts a headless chromium with a profile of its own and returns
// a tab; everything ends at cleanup.
func browser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(func() {
		cancel()
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})
	return ctx
}

// Member tokens of the fixed organisation, for the join page test.
const (
	ownerToken  = "mt-e2e-join-manager4220"
	wangwuToken = "mt-e2e-join-wangwu"
)

// post sends body as JSON and decodes the JSON answer into out; it
// requires want as the status.
func post(t *testing.T, rawURL string, header map[string]string, body any, want int, out any) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d; body %s", rawURL, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: decode %s: %v", rawURL, raw, err)
		}
	}
	return raw
}

// joinLink creates a group through chat/create and returns its chatid and
// the join link topapi/chat/qrcode/get hands out for it.
func joinLink(t *testing.T, base, token, name string, validation int) (string, string) {
	t.Helper()
	var created createBody
	raw := legacy(t, http.MethodPost, base+"/chat/create?access_token="+url.QueryEscape(token), map[string]any{
		"name": name, "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}, "validationType": validation,
	}, &created)
	if created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("chat/create = %s", raw)
	}
	var qr struct {
		errBody
		Result  string `json:"result"`
		Success bool   `json:"success"`
	}
	raw = post(t, base+"/topapi/chat/qrcode/get?access_token="+url.QueryEscape(token), nil,
		map[string]string{"chatid": created.ChatID, "userid": "zhangsan"}, http.StatusOK, &qr)
	if qr.Errcode != 0 || !qr.Success || qr.Result == "" {
		t.Fatalf("qrcode/get = %s", raw)
	}
	u, err := url.Parse(qr.Result)
	if err != nil || u.Scheme+"://"+u.Host != base || u.Path != "/_dingchat/joingroup" {
		t.Fatalf("qrcode/get result = %q, want a link to %s/_dingchat/joingroup", qr.Result, base)
	}
	return created.ChatID, qr.Result
}

// text reads the text of the element sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func wantText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	if got := text(t, ctx, sel); got != want {
		t.Fatalf("%s = %q, want %q", sel, got, want)
	}
}

// submit clicks the join button, waits until the answer page has loaded
// (the page it replaces may show a result too) and requires its status.
func submit(t *testing.T, ctx context.Context, status int) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click("#join"))
	if err != nil {
		t.Fatalf("click join: %v", err)
	}
	if got := resp.Status; got != int64(status) {
		t.Fatalf("the answer page has status %d, want %d", got, status)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#result")); err != nil {
		t.Fatalf("answer page: %v", err)
	}
}

func hasTokenField(t *testing.T, ctx context.Context) bool {
	t.Helper()
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#token") !== null`))
	if err != nil {
		t.Fatal(err)
	}
	return has
}

// TestJoinPageInBrowser: a person opens the link qrcode/get hands out, signs
// in with a member token, joins, and is in the group; in a group that
// validates joins the request waits for the owner.
//
// Not parallel: starting a browser loads both cores for a second, which
// would disturb the timing-sensitive tests that run in parallel.
func TestJoinPageInBrowser(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false")
	token := getToken(t, p.Base, appKey, appSecret)
	chatID, link := joinLink(t, p.Base, token, "浏览器入群", 0)
	ctx := browser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible("#join")); err != nil {
		t.Fatalf("open %s: %v", link, err)
	}
	wantText(t, ctx, "#group-name", "浏览器入群")
	wantText(t, ctx, "#member-count", "2")
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "加入群聊 浏览器入群 · DingChat" {
		t.Fatalf("title = %q, %v", title, err)
	}

	// a mistyped token is refused, and the form is offered again
	if err := chromedp.Do(ctx, chromedp.SendKeys("#token", "mt-mistyped")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, http.StatusUnauthorized)
	wantText(t, ctx, "#result", "成员令牌无效。")
	if got := chatGet(t, p.Base, token, chatID).UserIDList; !sameSet(got, []string{"manager4220", "zhangsan"}) {
		t.Fatalf("useridlist = %v after a refused token", got)
	}

	if err := chromedp.Do(ctx, chromedp.SendKeys("#token", wangwuToken)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, http.StatusOK)
	wantText(t, ctx, "#result", "已加入群聊。")
	wantText(t, ctx, "#member-count", "3")
	info := chatGet(t, p.Base, token, chatID)
	if !sameSet(info.UserIDList, []string{"manager4220", "zhangsan", "wangwu"}) {
		t.Fatalf("useridlist = %v, want wangwu added", info.UserIDList)
	}

	// the browser stays signed in: opening the link again asks for no token
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible("#join")); err != nil {
		t.Fatal(err)
	}
	if hasTokenField(t, ctx) {
		t.Fatalf("a signed-in browser is asked for a token again")
	}
	submit(t, ctx, http.StatusOK)
	wantText(t, ctx, "#result", "你已经在群里了。")

	// a group that validates joins: the click files a request, the owner approves it
	chatID2, link2 := joinLink(t, p.Base, token, "审批入群", 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(link2), chromedp.WaitVisible("#needs-approval")); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#join", "申请加入")
	submit(t, ctx, http.StatusOK)
	wantText(t, ctx, "#result", "已提交入群申请，等待群主或管理员验证。")
	if got := chatGet(t, p.Base, token, chatID2).UserIDList; !sameSet(got, []string{"manager4220", "zhangsan"}) {
		t.Fatalf("useridlist = %v before the approval", got)
	}
	owner := map[string]string{"Authorization": "Bearer " + ownerToken}
	requests := p.Base + "/_dingchat/member/groups/" + chatID2 + "/join-requests"
	req, _ := http.NewRequest(http.MethodGet, requests, nil)
	req.Header.Set("Authorization", owner["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"userid":"wangwu"`)) {
		t.Fatalf("join requests = %d %s, want wangwu's", resp.StatusCode, raw)
	}
	post(t, requests+"/wangwu/approve", owner, nil, http.StatusOK, nil)
	if got := chatGet(t, p.Base, token, chatID2).UserIDList; !sameSet(got, []string{"manager4220", "zhangsan", "wangwu"}) {
		t.Fatalf("useridlist = %v after the approval, want wangwu added", got)
	}
}
