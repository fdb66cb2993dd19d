package dingchatapi

import "net/http"

// Register mounts DingChat's own routes.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /_dingchat/member/me", a.member(a.me))
	mux.Handle("GET /_dingchat/member/groups", a.member(a.groups))
	mux.Handle("GET /_dingchat/member/groups/{chatid}/messages", a.member(a.messages))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/messages", a.member(a.send))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/read", a.member(a.markRead))

	mux.Handle("POST /_dingchat/admin/member-tokens", a.admin(a.issueMemberToken))
}
