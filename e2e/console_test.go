package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const consoleAdmin = "e2e-console-admin-token"

// consoleGroup creates a group through chat/create and returns its chatid.
func consoleGroup(t *testing.T, base, token, name string, users ...string) string {
	t.Helper()
	var created createBody
	raw := legacy(t, http.MethodPost, base+"/chat/create?access_token="+url.QueryEscape(token), map[string]any{
		"name": name, "owner": users[0], "useridlist": users,
	}, &created)
	if created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("chat/create = %s", raw)
	}
	return created.ChatID
}

func consoleMemberToken(t *testing.T, base, user string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	dingchatCall(t, http.MethodPost, base+"/_dingchat/admin/member-tokens", consoleAdmin, `{"corpId":"`+corpID+`","userid":"`+user+`"}`, &out)
	return out.Token
}

func chatSend(t *testing.T, base, token, chatID string, msg map[string]any) {
	t.Helper()
	var out errBody
	raw := legacy(t, http.MethodPost, base+"/chat/send?access_token="+url.QueryEscape(token), map[string]any{"chatid": chatID, "msg": msg}, &out)
	if out.Errcode != 0 {
		t.Fatalf("chat/send = %s", raw)
	}
}

// richMessages sends one message of each kind a member sees, and two that
// try to run script.
func richMessages(t *testing.T, base, token, chatID string) {
	t.Helper()
	for _, m := range []map[string]any{
		{"msgtype": "text", "text": map[string]any{"content": "早上好 good morning"}},
		{"msgtype": "markdown", "markdown": map[string]any{"title": "周报", "text": "### 本周进展\n- **上线**完成\n- 详见 [文档](https://example.com/doc)\n> 引用一句"}},
		{"msgtype": "link", "link": map[string]any{"messageUrl": "https://example.com/article", "picUrl": "https://example.com/pic.png", "title": "一篇文章", "text": "文章摘要"}},
		{"msgtype": "oa", "oa": map[string]any{"message_url": "https://example.com/oa", "head": map[string]any{"bgcolor": "FFBBBBBB", "text": "审批"},
			"body": map[string]any{"title": "请假申请", "form": []map[string]any{{"key": "姓名", "value": "张三"}, {"key": "天数", "value": "2"}}, "content": "请批准", "author": "张三"}}},
		{"msgtype": "action_card", "action_card": map[string]any{"title": "部署确认", "markdown": "**生产环境** 部署？", "btn_orientation": "1",
			"btn_json_list": []map[string]any{{"title": "同意", "action_url": "https://example.com/yes"}, {"title": "拒绝", "action_url": "javascript:window.__pwned=1"}}}},
		{"msgtype": "text", "text": map[string]any{"content": `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`}},
		{"msgtype": "markdown", "markdown": map[string]any{"title": "xss", "text": "[点我](javascript:window.__pwned=1) <script>window.__pwned=1</script> ![x](javascript:alert(1))"}},
	} {
		chatSend(t, base, token, chatID, m)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// shot saves a screenshot of the page under DINGCHAT_SCREENSHOTS, when set
// (see the README: that is how docs/ is kept current).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DINGCHAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	run(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser drives the console in chromium: a wrong admin token
// gets nothing; the operator sees a group created through the legacy API
// appear without a reload, and its timeline rendered as members see it,
// with script and javascript: links inert; a member's message appears in
// another member's open page within a second.
//
// Not parallel, as TestJoinPageInBrowser.
func TestConsoleInBrowser(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false", "--admin-token", consoleAdmin)
	token := getToken(t, p.Base, appKey, appSecret)
	chatID := consoleGroup(t, p.Base, token, "控制台群", "manager4220", "zhangsan", "lisi")
	richMessages(t, p.Base, token, chatID)
	console := p.Base + "/_dingchat/console/"

	// the page and its API refuse a wrong token; the page sends a strict CSP
	resp, err := http.Get(console)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("console CSP = %q", csp)
	}
	for _, path := range []string{"/_dingchat/admin/org", "/_dingchat/admin/corps/" + corpID + "/groups", "/_dingchat/admin/apps/" + appKey + "/secret"} {
		req, _ := http.NewRequest(http.MethodGet, p.Base+path, nil)
		req.Header.Set("Authorization", "Bearer wrong-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s with a wrong admin token: %d, want 401", path, resp.StatusCode)
		}
	}

	ctx := browser(t)
	run(t, ctx, "open the console", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(console), chromedp.WaitVisible("#admin-token"))
	shot(t, ctx, "console-signin")
	run(t, ctx, "wrong admin token", chromedp.SendKeys("#admin-token", "wrong-admin-token"), chromedp.Click("#admin-form button"),
		chromedp.WaitVisible("#signin-error"), chromedp.Sleep(0))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#signin-error").textContent !== ""`)); err != nil {
		t.Fatalf("no sign-in error shown: %v", err)
	}
	if hidden := eval[bool](t, ctx, `document.querySelector("#view").hidden && document.querySelector("#group-list") === null`); !hidden {
		t.Fatal("a wrong admin token got past the sign-in")
	}

	run(t, ctx, "sign in", chromedp.SetValue("#admin-token", consoleAdmin), chromedp.Click("#admin-form button"),
		chromedp.WaitVisible(`#group-list a[data-chatid="`+chatID+`"]`))

	// a group created through the legacy API appears without a reload
	marker := eval[bool](t, ctx, `window.__sameDocument = true`)
	newChat := consoleGroup(t, p.Base, token, "新建的群 new group", "manager4220", "wangwu")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	run(t, wctx, "the new group appears", chromedp.WaitVisible(`#group-list a[data-chatid="`+newChat+`"]`))
	cancel()
	if same := eval[bool](t, ctx, `window.__sameDocument === true`); !same || !marker {
		t.Fatal("the page reloaded to show the new group")
	}

	// the filter is a search the server answers
	wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	run(t, wctx, "filter the groups", chromedp.SendKeys(`input[aria-label="Filter groups"]`, "新建"),
		chromedp.WaitNotPresent(`#group-list a[data-chatid="`+chatID+`"]`), chromedp.WaitVisible(`#group-list a[data-chatid="`+newChat+`"]`))
	cancel()
	eval[bool](t, ctx, `(() => { const f = document.querySelector('input[aria-label="Filter groups"]'); f.value = ''; f.dispatchEvent(new Event('input')); return true; })()`)
	wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	run(t, wctx, "clear the filter", chromedp.WaitVisible(`#group-list a[data-chatid="`+chatID+`"]`))
	cancel()

	// the timeline as members see it
	run(t, ctx, "open the group", chromedp.Click(`#group-list a[data-chatid="`+chatID+`"]`), chromedp.WaitVisible(`#timeline .msg[data-seq="7"]`))
	if got := text(t, ctx, `#timeline .msg[data-seq="2"] h5`); got != "本周进展" {
		t.Fatalf("markdown heading = %q", got)
	}
	if got := text(t, ctx, `#timeline .msg[data-seq="2"] strong`); got != "上线" {
		t.Fatalf("markdown bold = %q", got)
	}
	if href := eval[string](t, ctx, `document.querySelector('#timeline .msg[data-seq="2"] a').href`); href != "https://example.com/doc" {
		t.Fatalf("markdown link = %q", href)
	}
	if got := eval[string](t, ctx, `[...document.querySelectorAll('#timeline .msg[data-seq="5"] .btns a, #timeline .msg[data-seq="5"] .btns span')].map(b => b.textContent + "=" + (b.getAttribute("href") || "")).join(",")`); got != "同意=https://example.com/yes,拒绝=" {
		t.Fatalf("action card buttons = %q, want a link and an inert button", got)
	}
	if got := text(t, ctx, `#timeline .msg[data-seq="4"] .head`); got != "审批" {
		t.Fatalf("oa head = %q", got)
	}
	if got := text(t, ctx, `#timeline .msg[data-seq="6"] .bubble`); !strings.Contains(got, "<script>") {
		t.Fatalf("the text with <script> shows %q, want it as text", got)
	}
	inert := eval[string](t, ctx, `[document.querySelectorAll("#timeline script").length, document.querySelectorAll("#timeline img[onerror], #timeline [onclick]").length,
		[...document.querySelectorAll("#timeline a")].filter(a => !/^https?:/.test(a.href)).length, String(window.__pwned)].join(",")`)
	if inert != "0,0,0,undefined" {
		t.Fatalf("scripts, handlers, non-http links, __pwned = %s, want 0,0,0,undefined", inert)
	}
	run(t, ctx, "click the javascript: button", chromedp.Click(`#timeline .msg[data-seq="5"] .btns span`))
	if pwned := eval[string](t, ctx, `String(window.__pwned)`); pwned != "undefined" {
		t.Fatal("a javascript: link ran")
	}
	shot(t, ctx, "console-group")

	// the operator's timeline takes new messages live
	chatSend(t, p.Base, token, chatID, map[string]any{"msgtype": "text", "text": map[string]any{"content": "live for the operator"}})
	wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	run(t, wctx, "operator sees a new message", chromedp.WaitVisible(`#timeline .msg[data-seq="8"]`))
	cancel()

	run(t, ctx, "organisation", chromedp.Navigate(console+"#/org"), chromedp.WaitVisible("table"))
	shot(t, ctx, "console-org")
	// the secret is shown on demand, and the request log keeps it masked
	run(t, ctx, "reveal the secret", chromedp.Click("button.reveal"), chromedp.WaitVisible("pre"))
	if got := text(t, ctx, "pre"); !strings.Contains(got, appSecret) {
		t.Fatalf("the curl snippet = %q, want the app's secret in it", got)
	}
	run(t, ctx, "request log", chromedp.Navigate(console+"#/requests"), chromedp.WaitVisible("tbody tr"))
	shot(t, ctx, "console-requests")
	// two members, each in a tab of their own
	zs, ls := consoleMemberToken(t, p.Base, "zhangsan"), consoleMemberToken(t, p.Base, "lisi")
	zctx, cancelZ := chromedp.NewContext(ctx)
	defer cancelZ()
	lctx, cancelL := chromedp.NewContext(ctx)
	defer cancelL()
	for _, tab := range []struct {
		ctx   context.Context
		token string
	}{{zctx, zs}, {lctx, ls}} {
		run(t, tab.ctx, "member sign-in", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(console), chromedp.WaitVisible("#member-token"),
			chromedp.SendKeys("#member-token", tab.token), chromedp.Click("#member-form button"),
			chromedp.WaitVisible(`#group-list a[data-chatid="`+chatID+`"]`), chromedp.Click(`#group-list a[data-chatid="`+chatID+`"]`),
			chromedp.WaitVisible(`#timeline .msg[data-seq="8"]`), chromedp.WaitVisible("#compose"))
	}
	run(t, lctx, "lisi writes", chromedp.SendKeys("#compose", "李四的消息 from lisi"), chromedp.Click("#send"))
	sent := time.Now()
	wctx, cancel = context.WithTimeout(zctx, time.Second)
	run(t, wctx, "zhangsan's page shows lisi's message within a second", chromedp.WaitVisible(`#timeline .msg[data-seq="9"]`))
	cancel()
	t.Logf("lisi's message reached zhangsan's page %v after the click", time.Since(sent).Round(time.Millisecond))
	if got := text(t, zctx, `#timeline .msg[data-seq="9"] .bubble`); got != "李四的消息 from lisi" {
		t.Fatalf("zhangsan sees %q", got)
	}
	// markdown from the member composer renders for the other member
	run(t, zctx, "zhangsan writes markdown", chromedp.SetValue(`select[aria-label="Message type"]`, "markdown"),
		chromedp.SendKeys("#compose", "**粗体** and [link](https://example.com/x)"), chromedp.Click("#send"))
	wctx, cancel = context.WithTimeout(lctx, 5*time.Second)
	run(t, wctx, "lisi sees markdown", chromedp.WaitVisible(`#timeline .msg[data-seq="10"] strong`))
	cancel()
	shot(t, lctx, "console-member")

	// unread counts: a message in a group zhangsan has not open
	other := consoleGroup(t, p.Base, token, "另一个群", "manager4220", "zhangsan")
	chatSend(t, p.Base, token, other, map[string]any{"msgtype": "text", "text": map[string]any{"content": "未读"}})
	wctx, cancel = context.WithTimeout(zctx, 5*time.Second)
	run(t, wctx, "unread badge", chromedp.WaitVisible(fmt.Sprintf(`#group-list a[data-chatid="%s"] .badge`, other)))
	cancel()
	if got := text(t, zctx, fmt.Sprintf(`#group-list a[data-chatid="%s"] .badge`, other)); got != "1" {
		t.Fatalf("unread badge = %q, want 1", got)
	}
	// nothing in the request log reveals a secret: app secret, tokens of every kind
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/_dingchat/admin/requests?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+consoleAdmin)
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	logged, _ := io.ReadAll(lresp.Body)
	lresp.Body.Close()
	if lresp.StatusCode != http.StatusOK || !strings.Contains(string(logged), "/gettoken") || !strings.Contains(string(logged), "/_dingchat/member/") {
		t.Fatalf("request log: %d, calls missing: %.300s", lresp.StatusCode, logged)
	}
	for _, secret := range []string{appSecret, consoleAdmin, zs, ls, token} {
		if strings.Contains(string(logged), secret) {
			t.Fatalf("the request log shows a secret (%q)", secret)
		}
	}
	run(t, ctx, "events", chromedp.Navigate(console+"#/events"), chromedp.WaitVisible("tbody tr"))
	shot(t, ctx, "console-events")

}
