package dingchatapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
)

// Register mounts DingChat's own routes.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /_dingchat/member/me", a.member(a.me))
	mux.Handle("GET /_dingchat/member/groups", a.member(a.groups))
	mux.Handle("GET /_dingchat/member/groups/{chatid}/messages", a.member(a.messages))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/messages", a.member(a.send))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/read", a.member(a.markRead))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/quit", a.member(a.quit))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/disband", a.member(a.disband))
	mux.Handle("GET /_dingchat/member/groups/{chatid}/join-requests", a.member(a.joinRequests))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/join-requests/{userid}/approve", a.member(a.decideJoin(true)))
	mux.Handle("POST /_dingchat/member/groups/{chatid}/join-requests/{userid}/reject", a.member(a.decideJoin(false)))

	// the join link of topapi/chat/qrcode/get: a page for browsers
	mux.HandleFunc("GET /_dingchat/joingroup", a.joinPage)
	mux.HandleFunc("POST /_dingchat/joingroup", a.joinSubmit)

	mux.Handle("POST /_dingchat/admin/member-tokens", a.admin(a.issueMemberToken))
	mux.Handle("POST /_dingchat/admin/member-tokens/revoke", a.admin(a.revokeMemberTokens))
	mux.Handle("GET /_dingchat/admin/suites/{suiteKey}/ticket", a.admin(a.suiteTicket))
	mux.Handle("POST /_dingchat/admin/corps/{corpid}/groups/{chatid}/disband", a.admin(a.adminDisband))
	mux.Handle("PUT /_dingchat/admin/apps/{appKey}/limits", a.admin(a.setAppLimits))
	mux.Handle("PUT /_dingchat/admin/corps/{corpid}/quota", a.admin(a.setMonthlyQuota))

	mux.Handle("POST /_dingchat/admin/robots", a.admin(a.saveRobot))
	mux.Handle("GET /_dingchat/admin/robots", a.admin(a.robots))
	mux.Handle("POST /_dingchat/admin/groups/{chatid}/robots", a.admin(a.addGroupRobot))
	mux.Handle("GET /_dingchat/admin/groups/{chatid}/robots", a.admin(a.groupRobots))
	mux.Handle("DELETE /_dingchat/admin/groups/{chatid}/robots/{robotCode}", a.admin(a.removeGroupRobot))
	mux.Handle("POST /_dingchat/admin/groups/{chatid}/webhooks", a.admin(a.createWebhook))
	mux.Handle("GET /_dingchat/admin/groups/{chatid}/webhooks", a.admin(a.webhooks))

	// events: HTTP pushes set the way DingTalk's developer console does, the
	// event log with each delivery attempt
	mux.Handle("PUT /_dingchat/admin/apps/{key}/callback", a.admin(a.setPush(ding.SubAppPush)))
	mux.Handle("GET /_dingchat/admin/apps/{key}/callback", a.admin(a.getPush(ding.SubAppPush)))
	mux.Handle("DELETE /_dingchat/admin/apps/{key}/callback", a.admin(a.deletePush(ding.SubAppPush)))
	mux.Handle("PUT /_dingchat/admin/suites/{key}/callback", a.admin(a.setPush(ding.SubSuitePush)))
	mux.Handle("GET /_dingchat/admin/suites/{key}/callback", a.admin(a.getPush(ding.SubSuitePush)))
	mux.Handle("DELETE /_dingchat/admin/suites/{key}/callback", a.admin(a.deletePush(ding.SubSuitePush)))
	mux.Handle("GET /_dingchat/admin/subscriptions", a.admin(a.subscriptions))
	mux.Handle("PUT /_dingchat/admin/apps/{key}/robot", a.admin(a.setRobotURL))
	mux.Handle("GET /_dingchat/admin/corps/{corpid}/events", a.admin(a.eventLog))
	mux.Handle("GET /_dingchat/admin/deliveries", a.admin(a.deliveries))

	// live delivery, and what the console reads
	mux.HandleFunc("GET /_dingchat/member/live", a.liveSocket)
	mux.HandleFunc("GET /_dingchat/admin/live", a.adminLiveSocket)
	mux.Handle("GET /_dingchat/admin/org", a.admin(a.org))
	mux.Handle("GET /_dingchat/admin/apps/{key}/secret", a.admin(a.appSecret))
	mux.Handle("GET /_dingchat/admin/corps/{corpid}/groups", a.admin(a.corpGroups))
	mux.Handle("GET /_dingchat/admin/corps/{corpid}/groups/{chatid}", a.admin(a.corpGroup))
	mux.Handle("GET /_dingchat/admin/corps/{corpid}/groups/{chatid}/messages", a.admin(a.corpGroupMessages))
	mux.Handle("GET /_dingchat/admin/streams", a.admin(a.streamConns))
	mux.HandleFunc("GET /_dingchat/admin/corps/{corpid}/media/{mediaid}", a.adminMedia)
	mux.HandleFunc("GET /_dingchat/member/media/{mediaid}", a.memberMedia)
	mux.Handle("POST /_dingchat/member/media", a.member(a.memberUpload))
	mux.Handle("GET /_dingchat/member/groups/{chatid}/members", a.member(a.memberDirectory))
	mux.Handle("GET /_dingchat/admin/corps/{corpid}/groups/{chatid}/members", a.admin(a.corpDirectory))

	// test controls
	mux.Handle("POST /_dingchat/admin/reset", a.admin(a.reset))
	mux.Handle("GET /_dingchat/admin/clock", a.admin(a.readClock))
	mux.Handle("POST /_dingchat/admin/clock", a.admin(a.moveClock))
	mux.Handle("GET /_dingchat/admin/faults", a.admin(a.listFaults))
	mux.Handle("POST /_dingchat/admin/faults", a.admin(a.addFault))
	mux.Handle("DELETE /_dingchat/admin/faults", a.admin(a.clearFaults))
	mux.Handle("DELETE /_dingchat/admin/faults/{id}", a.admin(a.removeFault))
	mux.Handle("GET /_dingchat/admin/requests", a.admin(a.requests))
	mux.Handle("GET /_dingchat/admin/requests/{seq}", a.admin(a.request))
	mux.Handle("DELETE /_dingchat/admin/requests", a.admin(a.clearRequests))
	mux.Handle("GET /_dingchat/admin/events", a.admin(a.findEvents))
	mux.Handle("POST /_dingchat/admin/corps", a.admin(a.createTestCorp))
	mux.Handle("DELETE /_dingchat/admin/corps/{corpid}", a.admin(a.deleteCorp))
}
