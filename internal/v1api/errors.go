package v1api

import (
	"log/slog"
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// wire is a v1.0 error: an HTTP status with {"code","message","requestid"}.
type wire struct {
	status int
	code   string
	msg    string
}

var (
	paramInvalid = wire{400, "parameter.invalid", "输入参数错误"}
	checkFailed  = wire{400, "permession.checkFailed", "权限校验失败"} // "permession" is DingTalk's spelling
	notVisible   = wire{400, "permession.checkFailed", "群主不在应用可见性内"}
	systemError  = wire{500, "system.error", "请重试，若始终失败请提交工单"}
	// the robot message family's answer for an unknown or missing group
	invalidOpenConv = wire{400, "invalid.openConversationId", "openConversationId不合法"}
)

// the ISV token family's documented answers
var (
	invalidSuiteCreds  = wire{400, "invalidClientIdOrSecret", "clientId或者clientSecret错误"}
	invalidSuiteTicket = wire{400, "invalidSuiteTicket", "suiteTicket无效"}
	invalidAuthInfo    = wire{400, "invalidAuthInfo", "授权关系不存在"}
)

// kinds answers errors that carry no reason of their own.
var kinds = map[ding.Kind]wire{
	ding.Internal:        systemError,
	ding.Invalid:         paramInvalid,
	ding.Unauthenticated: {400, "InvalidAuthentication", "不合法的access_token"},
	ding.Forbidden:       {403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限"},
	ding.NotFound:        paramInvalid,
	ding.Conflict:        paramInvalid,
	ding.TooLarge:        paramInvalid,
	ding.RateLimited:     {403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "应用调用该接口的QPS超过限制"},
	ding.Unavailable:     systemError,
}

// reasons is the v1.0 answer for each reason. The group family documents
// only parameter.invalid for bad input, so most reasons share it.
var reasons = map[ding.Reason]wire{
	// ISV suites; the Missing<param> codes are the gateway's form (unconfirmed)
	ding.ReasonSuiteKeyMissing:      {400, "MissingsuiteKey", "suiteKey is mandatory for this action."},
	ding.ReasonSuiteSecretMissing:   {400, "MissingsuiteSecret", "suiteSecret is mandatory for this action."},
	ding.ReasonSuiteTicketMissing:   {400, "MissingsuiteTicket", "suiteTicket is mandatory for this action."},
	ding.ReasonAuthCorpMissing:      {400, "MissingauthCorpId", "authCorpId is mandatory for this action."},
	ding.ReasonSuiteKeyUnknown:      invalidSuiteCreds, // corpAccessToken answers invalidSuiteKey, below
	ding.ReasonSuiteSecretWrong:     invalidSuiteCreds, // unconfirmed for corpAccessToken, whose page lists no secret error
	ding.ReasonSuiteTicketInvalid:   invalidSuiteTicket,
	ding.ReasonSuiteNotAuthorized:   invalidAuthInfo,
	ding.ReasonPermanentCodeInvalid: invalidAuthInfo,
	// legacy-only reasons: no v1.0 route raises them
	ding.ReasonSuiteTokenMissing:    {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonSuiteTokenInvalid:    {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonSuiteTokenExpired:    {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonPermanentCodeMissing: paramInvalid,
	ding.ReasonTimestampFormat:      paramInvalid,
	ding.ReasonTimestampSkew:        paramInvalid,
	ding.ReasonAccessKeyInvalid:     paramInvalid,
	ding.ReasonSignatureInvalid:     paramInvalid,
	ding.ReasonISVOnly:              {403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限"},
	ding.ReasonAgentIDMissing:       paramInvalid,
	ding.ReasonAgentIDInvalid:       paramInvalid,
	ding.ReasonChatAppLimit:         paramInvalid,
	ding.ReasonSuiteAlreadyBound:    paramInvalid,
	ding.ReasonChatAppNotBound:      paramInvalid,

	ding.ReasonMalformedBody:      paramInvalid,
	ding.ReasonInvalidParam:       paramInvalid,
	ding.ReasonMissingParam:       paramInvalid,
	ding.ReasonUnknownPath:        {404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}, // unconfirmed: the gateway's generic answer
	ding.ReasonUnknownAPI:         {404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."},
	ding.ReasonTokenMissing:       {400, "AuthenticationFailed.MissingParameter", "缺少参数：x-acs-dingtalk-access-token"},
	ding.ReasonTokenInvalid:       {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonTokenExpired:       {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonAppKeyMissing:      {400, "MissingappKey", "appKey is mandatory for this action."},       // unconfirmed: the gateway's Missing<param> form
	ding.ReasonAppSecretMissing:   {400, "MissingappSecret", "appSecret is mandatory for this action."}, // unconfirmed, as above
	ding.ReasonBadAppCredentials:  {400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret"},
	ding.ReasonBadCorpCredentials: {400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret"},
	ding.ReasonPermissionDenied:   {403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限"},
	ding.ReasonOwnerNotVisible:    notVisible,
	ding.ReasonOrdinaryNotAllowed: checkFailed,
	ding.ReasonChatIDMissing:      paramInvalid,
	ding.ReasonChatNotFound:       paramInvalid,
	ding.ReasonOpenConvNotFound:   paramInvalid,
	ding.ReasonNameEmpty:          paramInvalid,
	ding.ReasonNameLength:         paramInvalid,
	ding.ReasonOwnerMissing:       paramInvalid,
	ding.ReasonOwnerNotMember:     paramInvalid,
	ding.ReasonOwnerType:          paramInvalid,
	ding.ReasonOwnerNotStaff:      paramInvalid,
	ding.ReasonOwnerNotExternal:   paramInvalid,
	ding.ReasonMembersEmpty:       paramInvalid,
	ding.ReasonTooManyIDs:         paramInvalid,
	ding.ReasonTooManyExtIDs:      paramInvalid,
	ding.ReasonMemberLimit:        paramInvalid,
	ding.ReasonUnknownUser:        paramInvalid,
	ding.ReasonUnknownExternal:    paramInvalid,
	ding.ReasonAddDelOverlap:      paramInvalid,
	ding.ReasonExtAddDelOverlap:   paramInvalid,
	ding.ReasonConversationTag:    paramInvalid,
	ding.ReasonExternalNotAllowed: paramInvalid,
	ding.ReasonOptionValue:        paramInvalid,
	ding.ReasonChatDisbanded:      {400, "group.diaband", "群已经解散"},            // "diaband" is DingTalk's spelling
	ding.ReasonRole:               {400, "invalidParamter.role", "role参数不合法"}, // "Paramter" is DingTalk's spelling
	ding.ReasonSubAdminLimit:      {400, "subadmin.exceed", "管理员超限"},
	ding.ReasonNotMember:          {400, "staff.not.found", "员工不在群中"},
	ding.ReasonNotOwner:           checkFailed,
	ding.ReasonOwnerMustTransfer:  paramInvalid,                                                    // only DingChat's member API refuses a quitting owner
	ding.ReasonIPNotAllowed:       {403, "Forbidden.AccessDenied.IpNotInWhiteList", "访问ip不在白名单之中"}, // the caller's IP is appended
	ding.ReasonQPSLimit:           {403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "应用调用该接口的QPS超过限制"},
	ding.ReasonQPMLimit:           {403, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", "应用调用该接口的每分钟次数超过限制"},
	ding.ReasonMonthlyQuota:       {403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "企业调用接口的次数超过每月限额"}, // unconfirmed HTTP status: the docs name only the code
	ding.ReasonUserNotFound:       {400, "staff.not.found", "员工不存在"},
	ding.ReasonMobileNotFound:     {400, "staff.not.found", "员工不存在"},
	ding.ReasonUserNotVisible:     {403, "Forbidden.AccessDenied.UserNotInScope", "员工不在授权范围"}, // unconfirmed
	ding.ReasonMediaType:          paramInvalid,
	ding.ReasonFileType:           paramInvalid,
	ding.ReasonFileSize:           paramInvalid,
	ding.ReasonMediaMissing:       paramInvalid,
	ding.ReasonNotMultipart:       paramInvalid,
	ding.ReasonMediaEmpty:         paramInvalid,
	ding.ReasonMediaID:            {400, "resource.not.found", "资源不存在"},
	ding.ReasonMsgType:            {400, "invalidParameter.msgKey.invalid", "msgKey不合法"},
	ding.ReasonMsgMalformed:       {400, "invalidParameter.msgParam.invalid", "msgParam不合法"},
	ding.ReasonMsgTooLong:         {400, "invalidParameter.msgParam.tooLong", "msgParam超长"},
	ding.ReasonImageEmpty:         {400, "invalidParameter.msgParam.invalid", "msgParam不合法"},
	ding.ReasonLinkEmpty:          {400, "invalidParameter.msgParam.invalid", "msgParam不合法"},
	ding.ReasonFileEmpty:          {400, "invalidParameter.msgParam.invalid", "msgParam不合法"},
	ding.ReasonVoiceEmpty:         {400, "invalidParameter.msgParam.invalid", "msgParam不合法"},
	ding.ReasonSenderUnknown:      paramInvalid,
	ding.ReasonSenderNotMember:    paramInvalid,
	ding.ReasonGroupKind:          paramInvalid,
	ding.ReasonMessageNotFound:    {400, "resource.not.found", "资源不存在"},
	ding.ReasonBadCursor:          paramInvalid,
	ding.ReasonBadSize:            paramInvalid,
	ding.ReasonRobotCodeMissing:   {400, "invalidParameter.robotCode.empty", "robotCode不能为空"},
	ding.ReasonRobotNotFound:      {400, "resource.not.found", "机器人不存在"},       // unconfirmed: the send page lists resource.not.found without saying for what
	ding.ReasonRobotNotInGroup:    {400, "resource.not.found", "机器人不在群中"},      // unconfirmed, as above
	ding.ReasonTextEmpty:          {400, "miss.param.contentOfText", "缺少文本内容"}, // the code is documented, the message is not
	ding.ReasonWebhookToken:       {400, "InvalidAuthentication", "不合法的access_token"},
	ding.ReasonSignTimestamp:      paramInvalid, // the webhook rules never run on this surface
	ding.ReasonSignMismatch:       paramInvalid,
	ding.ReasonKeywordMissing:     paramInvalid,
	ding.ReasonWebhookRateLimited: {400, "send.too.fast", "发送速度太快"},
	// no v1.0 call registers callbacks; the legacy ones answer these
	ding.ReasonCallbackExists:      {400, "parameter.invalid", "回调地址已经存在"},
	ding.ReasonCallbackMissing:     {400, "parameter.invalid", "回调地址已不存在"},
	ding.ReasonCallbackNotFound:    {400, "parameter.invalid", "回调不存在"},
	ding.ReasonCallbackTag:         {400, "parameter.invalid", "call_back_tag必须在指定的列表中"},
	ding.ReasonCallbackField:       {400, "parameter.invalid", "JSON字段缺失或格式非法"},
	ding.ReasonCallbackURL:         {400, "parameter.invalid", "url非法"},
	ding.ReasonCallbackAddress:     {400, "parameter.invalid", "此域名或IP不能注册"},
	ding.ReasonCallbackUnreachable: {400, "parameter.invalid", "url地址访问异常"},
	ding.ReasonCallbackTimeout:     {400, "parameter.invalid", "回调地址访问超时"},
	ding.ReasonCallbackBadReply:    {400, "parameter.invalid", "回调地址返回数据异常"},
	ding.ReasonCallbackNotSuccess:  {400, "parameter.invalid", "返回文本非success"},
	ding.ReasonCallbackSignature:   {400, "parameter.invalid", "签名不匹配"},
	ding.ReasonAESKey:              {400, "parameter.invalid", "不合法的aeskey"},
	ding.ReasonStreamAuth:          {401, "authFailed", "鉴权失败"},
	ding.ReasonStreamTicket:        {401, "authFailed", "鉴权失败"},
	ding.ReasonSessionWebhook:      {400, "InvalidAuthentication", "不合法的session"},
}

// endpoints overrides reasons where one endpoint answers differently.
var endpoints = map[string]map[ding.Reason]wire{
	"oauth2/corpAccessToken": {
		ding.ReasonSuiteKeyUnknown: {400, "invalidSuiteKey", "suitekey不合法"},
	},
	"im/subAdministrators": {
		ding.ReasonOpenConvNotFound: {400, "invalidParameter.openConversationId.invalid", "openConversationId不合法"},
		ding.ReasonChatIDMissing:    {400, "invalidParameter.openConversationId.invalid", "openConversationId不合法"},
		ding.ReasonUnknownUser:      {400, "invalid.staffid", "不合法的员工id"},
	},
	"robot/groupMessages/send": {
		ding.ReasonOpenConvNotFound: invalidOpenConv,
		ding.ReasonChatIDMissing:    invalidOpenConv,
		ding.ReasonChatDisbanded:    {400, "group.disbanded", "群已解散"},
	},
	"robot/groupMessages/query": {
		ding.ReasonOpenConvNotFound: invalidOpenConv,
	},
	"robot/groupMessages/recall": {
		ding.ReasonOpenConvNotFound: invalidOpenConv,
		ding.ReasonChatIDMissing:    invalidOpenConv,
		ding.ReasonTooManyIDs:       {400, "invalidParameter.processQueryKeys.tooMany", "processQueryKeys超过20个"}, // unconfirmed: no code is documented for >20 keys
	},
	"im/convertToOpenConversationId": {
		ding.ReasonChatNotFound:  {400, "invalideChatId", "不合法的chatId"}, // "invalide" is DingTalk's spelling
		ding.ReasonChatIDMissing: {400, "invalideChatId", "不合法的chatId"},
	},
}

func lookup(endpoint string, err error) wire {
	r := ding.ErrorReason(err)
	if w, ok := endpoints[endpoint][r]; ok {
		return w
	}
	if w, ok := reasons[r]; ok && r != ding.ReasonNone {
		return w
	}
	return kinds[ding.ErrorKind(err)]
}

type errorBody struct {
	Code               string        `json:"code"`
	RequestID          string        `json:"requestid"`
	Message            string        `json:"message"`
	AccessDeniedDetail *accessDenied `json:"accessdenieddetail,omitempty"`
}

// accessDenied tells a caller which scopes to apply for; the SDKs surface it
// as the error's accessDeniedDetail.
type accessDenied struct {
	RequiredScopes []string `json:"requiredScopes"`
}

// writeError is the one place a v1.0 error reaches the wire.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, endpoint string, err error) {
	rid := httpx.RequestID(r.Context())
	kind := ding.ErrorKind(err)
	if (kind == ding.Internal || kind == ding.Unavailable) && r.Context().Err() == nil { // a caller that hung up is no server fault
		log.Error("request failed", "request_id", rid, "endpoint", endpoint, "err", err)
	}
	e := lookup(endpoint, err)
	if ding.ErrorReason(err) == ding.ReasonIPNotAllowed {
		e.msg += ",request ip=" + ding.ErrorDetail(err)
	}
	httpx.Explain(w, r, e.code, err)
	body := errorBody{Code: e.code, RequestID: rid, Message: e.msg}
	if scopes := ding.ErrorScopes(err); len(scopes) > 0 && e.status == http.StatusForbidden {
		body.AccessDeniedDetail = &accessDenied{RequiredScopes: scopes}
	}
	httpx.WriteJSON(w, e.status, httpx.ContentTypeV1, body)
}
