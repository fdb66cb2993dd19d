package oapi

import "net/http"

// Register mounts every legacy route. DingTalk's gateway answers these on
// GET and POST alike, reading parameters from the query and the body.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("/gettoken", a.serve(route{endpoint: "gettoken", public: true}, a.getToken))
	mux.Handle("/service/get_suite_token", a.serve(route{endpoint: "service/get_suite_token", public: true}, a.getSuiteToken))
	mux.Handle("/service/get_corp_token", a.serve(route{endpoint: "service/get_corp_token", public: true}, a.getCorpToken))

	mux.Handle("/chat/create", a.serve(route{endpoint: "chat/create"}, a.chatCreate))
	mux.Handle("/chat/update", a.serve(route{endpoint: "chat/update"}, a.chatUpdate))
	mux.Handle("/chat/get", a.serve(route{endpoint: "chat/get"}, a.chatGet))
	mux.Handle("/chat/send", a.serve(route{endpoint: "chat/send", raw: true}, a.chatSend))
	mux.Handle("/chat/getReadList", a.serve(route{endpoint: "chat/getReadList"}, a.chatReadList))
	mux.Handle("/chat/bind", a.serve(route{endpoint: "chat/bind"}, a.chatBind))
	mux.Handle("/chat/unbind", a.serve(route{endpoint: "chat/unbind"}, a.chatUnbind))

	mux.Handle("/robot/send", a.serve(route{endpoint: "robot/send", public: true, raw: true}, a.robotSend))
	mux.Handle("/robot/sendBySession", a.serve(route{endpoint: "robot/sendBySession", public: true, raw: true}, a.robotSendBySession))

	mux.Handle("/media/upload", a.serve(route{endpoint: "media/upload", raw: true}, a.mediaUpload))
	mux.Handle("/media/get", a.download(route{endpoint: "media/get", raw: true}, a.mediaGet))

	mux.Handle("/topapi/chat/subadmin/update", a.serve(route{endpoint: "topapi/chat/subadmin/update", topapi: true}, a.topSubAdmin))
	mux.Handle("/topapi/chat/member/friendswitch/update", a.serve(route{endpoint: "topapi/chat/member/friendswitch/update", topapi: true}, a.topFriendSwitch))
	mux.Handle("/topapi/chat/qrcode/get", a.serve(route{endpoint: "topapi/chat/qrcode/get", topapi: true}, a.topQRCode))
	mux.Handle("/topapi/chat/updategroupnick", a.serve(route{endpoint: "topapi/chat/updategroupnick", topapi: true}, a.topGroupNick))

	mux.Handle("/call_back/register_call_back", a.serve(route{endpoint: "call_back/register_call_back"}, a.registerCallback))
	mux.Handle("/call_back/update_call_back", a.serve(route{endpoint: "call_back/update_call_back"}, a.updateCallback))
	mux.Handle("/call_back/get_call_back", a.serve(route{endpoint: "call_back/get_call_back"}, a.getCallback))
	mux.Handle("/call_back/delete_call_back", a.serve(route{endpoint: "call_back/delete_call_back"}, a.deleteCallback))
	mux.Handle("/call_back/get_call_back_failed_result", a.serve(route{endpoint: "call_back/get_call_back_failed_result"}, a.getFailedCallbacks))

	mux.Handle("/user/get", a.serve(route{endpoint: "user/get"}, a.userGet))
	mux.Handle("/user/get_by_mobile", a.serve(route{endpoint: "user/get_by_mobile"}, a.userByMobile))
	mux.Handle("/user/getUseridByUnionid", a.serve(route{endpoint: "user/getUseridByUnionid"}, a.userByUnionID))
	mux.Handle("/topapi/v2/user/get", a.serve(route{endpoint: "topapi/v2/user/get", topapi: true}, a.topUserGet))
	mux.Handle("/topapi/v2/user/getbymobile", a.serve(route{endpoint: "topapi/v2/user/getbymobile", topapi: true}, a.topUserByMobile))
	mux.Handle("/topapi/user/getbyunionid", a.serve(route{endpoint: "topapi/user/getbyunionid", topapi: true}, a.topUserByUnionID))
}
