package v1api

import "net/http"

// Register mounts every v1.0 route.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1.0/oauth2/accessToken", a.serve(route{endpoint: "oauth2/accessToken", public: true}, a.accessToken))
	mux.Handle("POST /v1.0/oauth2/suiteAccessToken", a.serve(route{endpoint: "oauth2/suiteAccessToken", public: true}, a.suiteAccessToken))
	mux.Handle("POST /v1.0/oauth2/corpAccessToken", a.serve(route{endpoint: "oauth2/corpAccessToken", public: true}, a.corpAccessToken))

	mux.Handle("POST /v1.0/im/group/create", a.serve(route{endpoint: "im/group/create"}, a.groupCreate))
	mux.Handle("POST /v1.0/im/group/update", a.serve(route{endpoint: "im/group/update"}, a.groupUpdate))
	mux.Handle("POST /v1.0/im/subAdministrators", a.serve(route{endpoint: "im/subAdministrators"}, a.subAdministrators))
	mux.Handle("POST /v1.0/im/chat/{chatId}/convertToOpenConversationId", a.serve(route{endpoint: "im/convertToOpenConversationId"}, a.convertChatID))

	mux.Handle("POST /v1.0/gateway/connections/open", a.serve(route{endpoint: "gateway/connections/open", public: true}, a.openConnection))

	mux.Handle("POST /v1.0/robot/groupMessages/send", a.serve(route{endpoint: "robot/groupMessages/send"}, a.robotSend))
	mux.Handle("POST /v1.0/robot/groupMessages/query", a.serve(route{endpoint: "robot/groupMessages/query"}, a.robotQuery))
	mux.Handle("POST /v1.0/robot/groupMessages/recall", a.serve(route{endpoint: "robot/groupMessages/recall"}, a.robotRecall))
}
