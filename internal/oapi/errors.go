package oapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// wire is a legacy error: HTTP 200 with {"errcode","errmsg"}.
type wire struct {
	code int
	msg  string
}

// kinds answers errors that carry no reason of their own.
var kinds = map[ding.Kind]wire{
	ding.Internal:        {-1, "系统繁忙"},
	ding.Invalid:         {40035, "不合法的参数"},
	ding.Unauthenticated: {40014, "不合法的access_token"},
	ding.Forbidden:       {43007, "需要授权"},
	ding.NotFound:        {40035, "不合法的参数"},
	ding.Conflict:        {40035, "不合法的参数"},
	ding.TooLarge:        {40035, "不合法的参数"},
	ding.RateLimited:     {90018, "请求过于频繁"}, // errmsg not published
	ding.Unavailable:     {-1, "系统繁忙"},
}

// reasons is the legacy code of each reason. Where DingTalk's sources leave
// the code open, the comment says so; this table is the one place to change it.
var reasons = map[ding.Reason]wire{
	// ISV suites and chat/bind (codes of the global table)
	ding.ReasonSuiteKeyMissing:      {41021, "缺少suitekey"},
	ding.ReasonSuiteSecretMissing:   {41024, "缺少suitesecret"},
	ding.ReasonSuiteTicketMissing:   {41023, "缺少suiteticket"},
	ding.ReasonSuiteKeyUnknown:      {40088, "不合法的套件key或secret"}, // unconfirmed: 40083 不合法的suiteid and 40090 套件已经不存在 are the other candidates
	ding.ReasonSuiteSecretWrong:     {40088, "不合法的套件key或secret"}, // unconfirmed: 40080 不合法的suitesecret is the other candidate
	ding.ReasonSuiteTicketInvalid:   {40085, "不存在的suiteticket"},
	ding.ReasonSuiteTokenMissing:    {41022, "缺少suitetoken"},
	ding.ReasonSuiteTokenInvalid:    {40082, "不合法的suitetoken"}, // unconfirmed: 48003 suitetoken无效 is the other candidate
	ding.ReasonSuiteTokenExpired:    {42009, "suitetoken失效"},
	ding.ReasonAuthCorpMissing:      {41027, "需要授权企业的corpid参数"},
	ding.ReasonPermanentCodeMissing: {41025, "缺少permanent_code"},
	ding.ReasonPermanentCodeInvalid: {40084, "不合法的永久授权码"}, // unconfirmed: 41031 auth_corpid和permanent_code不匹配 is the other candidate
	ding.ReasonSuiteNotAuthorized:   {41030, "企业未对该套件授权"}, // unconfirmed: 40079 不存在的授权信息 is the other candidate
	ding.ReasonTimestampFormat:      {853001, "timestamp参数格式不正确，必须是当前时间的毫秒数"},
	ding.ReasonTimestampSkew:        {853002, "timestamp参数不合法，该参数值与钉钉服务器当前时间相差超过1分钟"},
	ding.ReasonAccessKeyInvalid:     {853003, "accessKey参数不合法，必须是钉钉开放平台存在的appId"},
	ding.ReasonSignatureInvalid:     {853004, "signature参数不正确，与钉钉服务端计算出来的签名不一致，注意该参数传递时必须urlEncode"},
	ding.ReasonISVOnly:              {800001, "仅限ISV调用"}, // unconfirmed that chat/bind answers it to an internal app
	ding.ReasonAgentIDMissing:       {41011, "缺少agentid"},
	ding.ReasonAgentIDInvalid:       {40056, "不合法的agentid"}, // unconfirmed: 70003/70004 name an agentId with no app behind it
	ding.ReasonChatAppLimit:         {49001, "绑定的微应用超过个数限制"},
	ding.ReasonSuiteAlreadyBound:    {49002, "一个群只能被一个ISV套件绑定一次"},
	ding.ReasonChatAppNotBound:      {40035, "不合法的参数"}, // unconfirmed: no code is documented for unbinding an app that is not bound

	ding.ReasonMalformedBody:      {43009, "post参数需要json类型"},
	ding.ReasonInvalidParam:       {40035, "不合法的参数"},
	ding.ReasonMissingParam:       {40035, "缺少参数"},
	ding.ReasonUnknownPath:        {404, "请求的URI地址不存在"},
	ding.ReasonUnknownAPI:         {22, "Invalid method"},
	ding.ReasonTokenMissing:       {41001, "缺少access_token参数"},
	ding.ReasonTokenInvalid:       {40014, "不合法的access_token"},
	ding.ReasonTokenExpired:       {40014, "不合法的access_token"}, // unconfirmed: the global table lists 42001, observed answers are 40014
	ding.ReasonAppKeyMissing:      {40035, "缺少参数 corpid or appkey"},
	ding.ReasonAppSecretMissing:   {41004, "缺少corpsecret参数"},
	ding.ReasonBadAppCredentials:  {40096, "不合法的appKey或appSecret"},
	ding.ReasonBadCorpCredentials: {40089, "不合法的corpId或corpSecret"},
	ding.ReasonPermissionDenied:   {43007, "需要授权"},
	ding.ReasonOwnerNotVisible:    {43007, "需要授权"}, // unconfirmed: only the v1.0 answer is documented
	ding.ReasonOrdinaryNotAllowed: {43007, "需要授权"}, // unconfirmed: only the v1.0 answer is documented
	ding.ReasonChatIDMissing:      {49000, "缺少chatid"},
	ding.ReasonChatNotFound:       {40016, "不合法的会话ID"},
	ding.ReasonOpenConvNotFound:   {40016, "不合法的会话ID"},
	ding.ReasonNameEmpty:          {40035, "群名称不能为空"},
	ding.ReasonNameLength:         {49015, "不合法的群名称"}, // unconfirmed: the create page also lists 400002 参数过长
	ding.ReasonOwnerMissing:       {49013, "群主不能为空"},
	ding.ReasonOwnerNotMember:     {49006, "群成员列表必须包含群主"}, // unconfirmed which code DingTalk picks
	ding.ReasonOwnerType:          {49014, "群主类型只能为emp或者ext"},
	ding.ReasonOwnerNotStaff:      {49018, "群主非企业员工"},
	ding.ReasonOwnerNotExternal:   {49019, "群主非外部联系人"},
	ding.ReasonMembersEmpty:       {49010, "群成员不能为空"},
	ding.ReasonTooManyIDs:         {49011, "群成员长度超限"},
	ding.ReasonTooManyExtIDs:      {49012, "群外部联系人列表超长"},
	ding.ReasonMemberLimit:        {49005, "群人数超过人数限制"},
	ding.ReasonUnknownUser:        {40031, "不合法的UserID列表"},
	ding.ReasonUnknownExternal:    {49017, "群外部联系人不存在"},
	ding.ReasonAddDelOverlap:      {49004, "添加成员列表和删除成员列表不能有交集"},
	ding.ReasonExtAddDelOverlap:   {49023, "添加和删除外部联系人有交集"},
	ding.ReasonConversationTag:    {49008, "群类型只能传入0或2"},
	ding.ReasonExternalNotAllowed: {49009, "企业群不能添加外部联系人，群主只能为企业员工"},
	ding.ReasonOptionValue:        {40035, "不合法的参数"},
	ding.ReasonChatDisbanded:      {40016, "群会话已解散"}, // unconfirmed: no legacy code is documented
	ding.ReasonRole:               {400002, "参数错误"},
	ding.ReasonSubAdminLimit:      {49026, "设置为管理员的人数过多"},
	ding.ReasonNotMember:          {60124, "用户不在此群中"},
	ding.ReasonNotOwner:           {49003, "操作者必须为群主"},
	ding.ReasonOwnerMustTransfer:  {40035, "不合法的参数"},              // only DingChat's member API refuses a quitting owner
	ding.ReasonIPNotAllowed:       {60020, "访问ip不在白名单之中"},         // the caller's IP is appended
	ding.ReasonQPSLimit:           {90018, "当前应用调用该接口的QPS超过限制"},   // unconfirmed errmsg: DingTalk publishes only the code
	ding.ReasonQPMLimit:           {90006, "当前应用调用该接口的次数超过每分钟限制"}, // unconfirmed errmsg, as above
	ding.ReasonMonthlyQuota:       {90020, "当前企业调用接口的次数超过每月限额"},   // unconfirmed errmsg, as above
	ding.ReasonUserNotFound:       {60121, "找不到该用户"},
	ding.ReasonMobileNotFound:     {60121, "未找到该用户"},
	ding.ReasonUserNotVisible:     {50002, "员工不在授权范围"}, // unconfirmed: the most plausible of DingTalk's codes for a user outside the app's contact range
	ding.ReasonMediaType:          {40004, "不合法的媒体文件类型"},
	ding.ReasonFileType:           {40005, "不合法的文件类型"},
	ding.ReasonFileSize:           {40006, "不合法的文件大小"}, // unconfirmed: 45001 多媒体文件大小超过限制 is the other candidate
	ding.ReasonMediaMissing:       {41005, "缺少多媒体文件数据"},
	ding.ReasonNotMultipart:       {43008, "参数需要multipart类型"},
	ding.ReasonMediaEmpty:         {44001, "多媒体文件为空"},
	ding.ReasonMediaID:            {40007, "不合法的媒体文件id"},
	ding.ReasonMsgType:            {34004, "无效的消息类型"},
	ding.ReasonMsgMalformed:       {34014, "会话消息的json结构无效或不完整"},
	ding.ReasonMsgTooLong:         {34016, "会话消息的内容超长"},
	ding.ReasonImageEmpty:         {34008, "图片不能为空"},
	ding.ReasonLinkEmpty:          {34009, "链接内容不能为空"},
	ding.ReasonFileEmpty:          {34010, "文件不能为空"},
	ding.ReasonVoiceEmpty:         {34011, "音频文件不能为空"},
	ding.ReasonSenderUnknown:      {34006, "发送者不在企业中"},
	ding.ReasonSenderNotMember:    {34007, "发送者不在会话中"},
	ding.ReasonGroupKind:          {34015, "发送群会话消息失败"}, // unconfirmed which code refuses a normal group
	ding.ReasonMessageNotFound:    {40035, "不合法的参数"},
	ding.ReasonBadCursor:          {40068, "无效的偏移量"},
	ding.ReasonBadSize:            {40069, "无效的分页大小"},
	ding.ReasonRobotCodeMissing:   {40035, "缺少参数 robotCode"},
	ding.ReasonRobotNotFound:      {400106, "机器人不存在"}, // the webhook family's code; no legacy path names org robots
	ding.ReasonRobotNotInGroup:    {400106, "机器人不存在"}, // unconfirmed, as above
	ding.ReasonTextEmpty:          {400202, "miss param : text->content"},
	ding.ReasonWebhookToken:       {300005, "token is not exist"}, // observed; the doc's table says 400101 access_token不存在
	ding.ReasonSignTimestamp:      {310000, "invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"},
	ding.ReasonSignMismatch:       {310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"},
	ding.ReasonKeywordMissing:     {310000, "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"},
	// 660026 is what a throttled robot was observed to get; the doc's table
	// says 410100 发送速度太快而限流. Clients compare errcode with 0 only, so
	// the observed answer wins.
	ding.ReasonWebhookRateLimited: {660026, "sending too many messages per minute"},
	// /call_back/*: the codes of KB-API/0013. Both the 71xxx and the 4000xx
	// families are documented for these calls; which one today's DingTalk
	// answers for each failure is unconfirmed: one code per failure, here.
	ding.ReasonCallbackExists:      {71006, "回调地址已经存在"},
	ding.ReasonCallbackMissing:     {71007, "回调地址已不存在"},
	ding.ReasonCallbackNotFound:    {400040, "回调不存在"},
	ding.ReasonCallbackTag:         {71008, "call_back_tag必须在指定的列表中"},
	ding.ReasonCallbackField:       {71010, "JSON字段缺失或格式非法"},
	ding.ReasonCallbackURL:         {71011, "url非法"},
	ding.ReasonCallbackAddress:     {71013, "此域名或IP不能注册"},
	ding.ReasonCallbackUnreachable: {71012, "url地址访问异常"},
	ding.ReasonCallbackTimeout:     {400054, "回调地址访问超时"},
	ding.ReasonCallbackBadReply:    {400052, "回调地址返回数据异常"},
	ding.ReasonCallbackNotSuccess:  {71009, "返回文本非success"},
	ding.ReasonCallbackSignature:   {900005, "签名不匹配"},
	ding.ReasonAESKey:              {900004, "不合法的aeskey"},
	ding.ReasonStreamAuth:          {40096, "不合法的appKey或appSecret"},
	ding.ReasonStreamTicket:        {40014, "不合法的ticket"},
	ding.ReasonSessionWebhook:      {300005, "session is not exist or expired"}, // unconfirmed: the custom robot's token error, as sendBySession answers in its family
}

// endpoints overrides reasons where one endpoint answers differently.
var endpoints = map[string]map[ding.Reason]wire{
	"topapi/chat/subadmin/update": {
		ding.ReasonUnknownUser:  {40031, "不合法的用户id"},
		ding.ReasonMissingParam: {400002, "参数错误"},
	},
	"topapi/chat/member/friendswitch/update": {
		ding.ReasonChatNotFound:  {34001, "无效的chatid"},
		ding.ReasonChatIDMissing: {40036, "参数为空"},
		ding.ReasonMissingParam:  {40036, "参数为空"},
	},
	"topapi/chat/qrcode/get": {
		ding.ReasonChatNotFound:  {34001, "无效的会话id"},
		ding.ReasonChatIDMissing: {34001, "无效的会话id"},
		ding.ReasonUnknownUser:   {40003, "不合法的userid"},
	},
	"topapi/chat/updategroupnick": {
		ding.ReasonChatNotFound:  {34001, "无效的chatid"},
		ding.ReasonChatIDMissing: {34001, "无效的chatid"},
		ding.ReasonUnknownUser:   {40003, "无效的userid"},
		ding.ReasonNotMember:     {60124, "用户不在对应的群内"},
		ding.ReasonInvalidParam:  {400002, "参数错误"},
		ding.ReasonMissingParam:  {400002, "参数错误"},
	},
	"chat/send": {
		ding.ReasonChatNotFound:  {34001, "无效的会话id"},
		ding.ReasonChatIDMissing: {34001, "无效的会话id"},
		ding.ReasonChatDisbanded: {34013, "找不到群会话对象"},
		ding.ReasonMalformedBody: {34014, "会话消息的json结构无效或不完整"},
	},
	"robot/send": {
		ding.ReasonMalformedBody: {40035, "缺少参数 json"}, // observed for a body that is not JSON
		ding.ReasonMsgType:       {400105, "不支持的消息类型"},
		ding.ReasonMsgMalformed:  {40035, "不合法的参数"}, // unconfirmed: observed answers name the field (400402 markdown->title, 400403 markdown->text)
		ding.ReasonChatDisbanded: {400013, "群已被解散"},
		ding.ReasonMsgTooLong:    {460101, "message too long, exceed 20000 bytes"}, // unconfirmed: code and limit chosen, see ding.MaxWebhookBytes
	},
	"chat/update": {
		ding.ReasonMalformedBody: {71010, "JSON解析失败"},
		ding.ReasonNameEmpty:     {49015, "不合法的群名称"},
	},
	"topapi/v2/user/get": {
		ding.ReasonUserNotFound: {33012, "无效的USERID"}, // the doc's code; legacy user/get answers 60121 (unconfirmed which is live)
	},
	"topapi/user/getbyunionid": {
		ding.ReasonUserNotFound: {60121, "未找到对应员工"},
	},
}

// topAuth are the problems topapi wraps as errcode 88 with a string sub_code.
var topAuth = map[ding.Reason]wire{
	ding.ReasonTokenMissing:     {40000, "access_token is blank"},
	ding.ReasonTokenInvalid:     {40014, "不合法的access_token"},
	ding.ReasonTokenExpired:     {40014, "不合法的access_token"}, // unconfirmed, as on the plain paths
	ding.ReasonPermissionDenied: {60011, "没有调用该接口的权限"},
	ding.ReasonIPNotAllowed:     {60020, "访问ip不在白名单之中"}, // unconfirmed that topapi wraps it
}

func lookup(endpoint string, err error) wire {
	r := ding.ErrorReason(err)
	w, ok := endpoints[endpoint][r]
	if !ok {
		w, ok = reasons[r]
	}
	if !ok || r == ding.ReasonNone {
		w = kinds[ding.ErrorKind(err)]
	}
	return withIP(w, err)
}

// withIP appends the caller's IP the way DingTalk's allow-list refusal does.
func withIP(w wire, err error) wire {
	if ding.ErrorReason(err) == ding.ReasonIPNotAllowed {
		w.msg += ",request ip=" + ding.ErrorDetail(err)
	}
	return w
}

// topRequestID is shaped like topapi's: short lowercase base36.
func topRequestID(ctx context.Context) string {
	id := strings.ToLower(strings.ReplaceAll(httpx.RequestID(ctx), "-", ""))
	if len(id) > 13 {
		id = id[len(id)-13:]
	}
	return id
}

// writeError is the one place a legacy error reaches the wire.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, endpoint string, topapi bool, err error) {
	kind := ding.ErrorKind(err)
	if (kind == ding.Internal || kind == ding.Unavailable) && r.Context().Err() == nil { // a caller that hung up is no server fault
		log.Error("request failed", "request_id", httpx.RequestID(r.Context()), "endpoint", endpoint, "err", err)
	}
	if topapi {
		rid := topRequestID(r.Context())
		if sub, ok := topAuth[ding.ErrorReason(err)]; ok {
			sub = withIP(sub, err)
			httpx.ExplainCode(w, r, 88, err)
			httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeTopAPI, topAuthError{
				Errcode: 88, SubCode: fmt.Sprint(sub.code), SubMsg: sub.msg,
				Errmsg:    fmt.Sprintf("ding talk error[subcode=%d,submsg=%s]", sub.code, sub.msg),
				RequestID: rid,
			})
			return
		}
		if ding.ErrorReason(err) == ding.ReasonUnknownAPI {
			name := "dingtalk.oapi." + strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/topapi/"), "/", ".")
			sub := "不合法ApiName，ApiName = " + name
			httpx.ExplainCode(w, r, 22, err)
			httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeTopAPI, topMethodError{
				Errcode: 22, SubMsg: sub, Errmsg: "Invalid method[submsg=" + sub + "]", RequestID: rid,
			})
			return
		}
		e := lookup(endpoint, err)
		httpx.ExplainCode(w, r, e.code, err)
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeTopAPI, topError{Errcode: e.code, Errmsg: e.msg, RequestID: rid})
		return
	}
	e := lookup(endpoint, err)
	httpx.ExplainCode(w, r, e.code, err)
	httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeLegacy, errorBody{Errcode: e.code, Errmsg: e.msg})
}

type errorBody struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

type topError struct {
	Errcode   int    `json:"errcode"`
	Errmsg    string `json:"errmsg"`
	RequestID string `json:"request_id"`
}

type topAuthError struct {
	Errcode   int    `json:"errcode"`
	SubCode   string `json:"sub_code"`
	SubMsg    string `json:"sub_msg"`
	Errmsg    string `json:"errmsg"`
	RequestID string `json:"request_id"`
}

type topMethodError struct {
	Errcode   int    `json:"errcode"`
	SubMsg    string `json:"sub_msg"`
	Errmsg    string `json:"errmsg"`
	RequestID string `json:"request_id"`
}
