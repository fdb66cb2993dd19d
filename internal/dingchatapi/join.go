package dingchatapi

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// sessionCookie keeps a member signed in on join pages: a signed,
// expiring session, never the member token.
const sessionCookie = "dingchat_join_session"

// joinCSP lets the page use its inline style and post its form to itself,
// and nothing else; no one may frame it.
const joinCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// crossSite reports a browser request sent from another site: a login CSRF
// or clickjacking attempt. Browsers that send Sec-Fetch-Site are judged by
// it; older ones by Origin. Requests with neither (no browser) pass.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return true
		}
	}
	return false
}

var joinTmpl = template.Must(template.New("join").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Info}}加入群聊 {{.Info.Group.Name}}{{else}}加入群聊{{end}} · DingChat</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f2f3f5;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:3rem 1rem;padding:2rem;border-radius:12px;max-width:26rem;width:100%;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin:0 0 .5rem}.muted{color:#666;font-size:.9rem}.msg{padding:.75rem;border-radius:8px;background:#e8f3ff;margin:1rem 0}
.err{background:#ffece8}label{display:block;margin:1rem 0 .3rem}input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1677ff;color:#fff;font-size:1rem;cursor:pointer}
</style></head><body><main>
{{if .Info}}
<h1 id="group-name">{{.Info.Group.Name}}</h1>
<p class="muted"><span id="member-count">{{.Info.Group.MemberCount}}</span> 人 · 群主 {{.Info.OwnerName}} · {{.Info.SharerName}} 分享</p>
{{if .Info.NeedsApproval}}<p class="muted" id="needs-approval">入群需群主或管理员验证</p>{{end}}
{{end}}
{{if .Message}}<p class="msg{{if .Error}} err{{end}}" id="result">{{.Message}}</p>{{end}}
{{if .CanJoin}}
<form method="post" action="/_dingchat/joingroup">
<input type="hidden" name="code" value="{{.Code}}">
{{if not .SignedIn}}<label for="token">成员令牌（member token）</label>
<input type="password" id="token" name="token" autocomplete="off" required>
<p class="muted" id="token-hint">成员令牌由管理员签发（<code>POST /_dingchat/admin/member-tokens</code>），或在组织文件中以 <code>memberToken</code> 声明；新建的演示组织在启动信息中打印一个。</p>{{end}}
<button type="submit" id="join">{{if .Info.NeedsApproval}}申请加入{{else}}加入群聊{{end}}</button>
</form>
{{end}}
</main></body></html>`))

type joinView struct {
	Code     string
	Info     *service.JoinInfo
	Message  string
	Error    bool
	SignedIn bool
	CanJoin  bool
}

func (a *API) renderJoin(w http.ResponseWriter, status int, v joinView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", joinCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// the link's code must not leak to other sites; same-origin keeps the
	// form's Origin header, which no-referrer would turn into "null"
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	joinTmpl.Execute(w, v)
}

func (a *API) signedIn(r *http.Request) *service.MemberCaller {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	mc, err := a.svc.JoinSession(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return mc
}

func (a *API) joinPage(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	code := r.URL.Query().Get("code")
	info, err := a.svc.JoinLinkInfo(r.Context(), code)
	if err != nil {
		a.renderJoin(w, explainPage(w, r, err), joinView{Message: "这个入群链接无效。", Error: true})
		return
	}
	v := joinView{Code: code, Info: info, SignedIn: a.signedIn(r) != nil, CanJoin: !info.Disbanded}
	if info.Disbanded {
		v.Message, v.Error = "该群已解散。", true
	}
	a.renderJoin(w, http.StatusOK, v)
}

func (a *API) joinSubmit(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	if crossSite(r) {
		a.renderJoin(w, http.StatusForbidden, joinView{Message: "请从本站的入群页面提交。", Error: true})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		bad := ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "join form does not parse or exceeds 16 KiB")
		a.renderJoin(w, explainPage(w, r, bad), joinView{Message: "请求无效。", Error: true})
		return
	}
	code := r.PostForm.Get("code")
	info, err := a.svc.JoinLinkInfo(r.Context(), code)
	if err != nil {
		a.renderJoin(w, explainPage(w, r, err), joinView{Message: "这个入群链接无效。", Error: true})
		return
	}
	v := joinView{Code: code, Info: info}
	mc := a.signedIn(r)
	if tok := r.PostForm.Get("token"); tok != "" {
		var session string
		var exp time.Time
		if session, exp, mc, err = a.svc.NewJoinSession(r.Context(), tok); err != nil {
			v.Message, v.Error, v.CanJoin = "成员令牌无效。", true, true
			a.renderJoin(w, explainPage(w, r, err), v)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: session, Path: "/_dingchat/joingroup", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", Expires: exp})
	}
	if mc == nil {
		v.Message, v.Error, v.CanJoin = "请先输入成员令牌登录。", true, true
		a.renderJoin(w, explainPage(w, r, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenMissing, "no member token given and none signed in")), v)
		return
	}
	v.SignedIn = true
	httpx.SetMember(r, mc.CorpID, mc.UserID)
	outcome, g, err := a.svc.Join(r.Context(), mc, code)
	switch {
	case err != nil:
		v.Message, v.Error = joinError(err), true
		a.renderJoin(w, explainPage(w, r, err), v)
		return
	case outcome == service.JoinRequested:
		v.Message = "已提交入群申请，等待群主或管理员验证。"
	case outcome == service.JoinAlready:
		v.Message = "你已经在群里了。"
	default:
		v.Message = "已加入群聊。"
		v.Info.Group = *g
	}
	a.renderJoin(w, http.StatusOK, v)
}
