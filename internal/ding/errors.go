// Package ding is the vocabulary of DingChat: domain types, the interfaces
// adapters implement, and the error kinds and reasons every layer speaks.
// It imports only the standard library.
package ding

import (
	"errors"
	"fmt"
)

// Kind classifies an error; surfaces turn (Kind, Reason) into a wire error.
type Kind int

const (
	Internal Kind = iota // the zero kind: a bug or an unexpected failure
	Invalid
	Unauthenticated
	Forbidden
	NotFound
	Conflict
	TooLarge
	RateLimited
	Unavailable
)

// Kinds lists every kind so tests can loop over them.
var Kinds = []Kind{Internal, Invalid, Unauthenticated, Forbidden, NotFound, Conflict, TooLarge, RateLimited, Unavailable}

func (k Kind) String() string {
	switch k {
	case Internal:
		return "internal"
	case Invalid:
		return "invalid"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case TooLarge:
		return "too_large"
	case RateLimited:
		return "rate_limited"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Reason narrows a kind where DingTalk answers with a distinct code.
type Reason string

const (
	ReasonNone Reason = ""

	// request shape
	ReasonMalformedBody Reason = "malformed_body" // body is not parseable JSON/form
	ReasonInvalidParam  Reason = "invalid_param"  // a parameter has the wrong type or value
	ReasonMissingParam  Reason = "missing_param"  // a required parameter is absent
	ReasonUnknownPath   Reason = "unknown_path"   // no such endpoint
	ReasonUnknownAPI    Reason = "unknown_api"    // no such topapi method name

	// tokens and credentials
	ReasonTokenMissing       Reason = "token_missing"
	ReasonTokenInvalid       Reason = "token_invalid"
	ReasonTokenExpired       Reason = "token_expired"
	ReasonAppKeyMissing      Reason = "app_key_missing"
	ReasonAppSecretMissing   Reason = "app_secret_missing"
	ReasonBadAppCredentials  Reason = "bad_app_credentials"
	ReasonBadCorpCredentials Reason = "bad_corp_credentials"
	ReasonPermissionDenied   Reason = "permission_denied"
	ReasonOwnerNotVisible    Reason = "owner_not_visible"
	ReasonUserNotVisible     Reason = "user_not_visible" // a contact lookup outside the app's visibility
	ReasonOrdinaryNotAllowed Reason = "ordinary_group_not_allowed"

	// groups
	ReasonChatIDMissing      Reason = "chatid_missing"
	ReasonChatNotFound       Reason = "chat_not_found"
	ReasonOpenConvNotFound   Reason = "open_conversation_not_found"
	ReasonNameEmpty          Reason = "name_empty"
	ReasonNameLength         Reason = "name_length"
	ReasonOwnerMissing       Reason = "owner_missing"
	ReasonOwnerNotMember     Reason = "owner_not_member"
	ReasonOwnerType          Reason = "owner_type"
	ReasonOwnerNotStaff      Reason = "owner_not_staff"
	ReasonOwnerNotExternal   Reason = "owner_not_external"
	ReasonMembersEmpty       Reason = "members_empty"
	ReasonTooManyIDs         Reason = "too_many_ids"
	ReasonTooManyExtIDs      Reason = "too_many_ext_ids"
	ReasonMemberLimit        Reason = "member_limit"
	ReasonUnknownUser        Reason = "unknown_user"
	ReasonUnknownExternal    Reason = "unknown_external"
	ReasonAddDelOverlap      Reason = "add_del_overlap"
	ReasonExtAddDelOverlap   Reason = "ext_add_del_overlap"
	ReasonConversationTag    Reason = "conversation_tag"
	ReasonExternalNotAllowed Reason = "external_not_allowed"
	ReasonOptionValue        Reason = "option_value"
	ReasonChatDisbanded      Reason = "chat_disbanded"
	ReasonRole               Reason = "role"
	ReasonSubAdminLimit      Reason = "subadmin_limit"
	ReasonNotMember          Reason = "not_member"
	ReasonNotOwner           Reason = "not_owner"
	ReasonOwnerMustTransfer  Reason = "owner_must_transfer" // the owner leaves only after handing the group over

	// emulated platform limits
	ReasonIPNotAllowed Reason = "ip_not_allowed"
	ReasonQPSLimit     Reason = "qps_limit"
	ReasonQPMLimit     Reason = "qpm_limit"
	ReasonMonthlyQuota Reason = "monthly_quota"

	// contacts
	ReasonUserNotFound   Reason = "user_not_found"
	ReasonMobileNotFound Reason = "mobile_not_found"

	// media
	ReasonMediaType    Reason = "media_type"    // type is not image, voice, video or file
	ReasonFileType     Reason = "file_type"     // extension not allowed for the type
	ReasonFileSize     Reason = "file_size"     // over the type's size limit
	ReasonMediaMissing Reason = "media_missing" // no media part
	ReasonNotMultipart Reason = "not_multipart"
	ReasonMediaEmpty   Reason = "media_empty"
	ReasonMediaID      Reason = "media_id" // unknown media id, or one of the wrong type

	// messages
	ReasonMsgType         Reason = "msg_type"      // missing or unknown msgtype
	ReasonMsgMalformed    Reason = "msg_malformed" // the message object is missing or incomplete
	ReasonMsgTooLong      Reason = "msg_too_long"
	ReasonImageEmpty      Reason = "image_empty"
	ReasonLinkEmpty       Reason = "link_empty"
	ReasonFileEmpty       Reason = "file_empty"
	ReasonVoiceEmpty      Reason = "voice_empty"
	ReasonSenderUnknown   Reason = "sender_unknown"
	ReasonSenderNotMember Reason = "sender_not_member"
	ReasonGroupKind       Reason = "group_kind" // chat/send reaches internal groups only
	ReasonMessageNotFound Reason = "message_not_found"
	ReasonBadCursor       Reason = "bad_cursor"
	ReasonBadSize         Reason = "bad_size"

	// robots
	ReasonRobotCodeMissing   Reason = "robot_code_missing"
	ReasonRobotNotFound      Reason = "robot_not_found"    // no robot with that robotCode in the caller's corp
	ReasonRobotNotInGroup    Reason = "robot_not_in_group" // the robot was never added to the group
	ReasonTextEmpty          Reason = "text_empty"         // a robot's text message has no content
	ReasonWebhookToken       Reason = "webhook_token"      // /robot/send names no custom robot
	ReasonSignTimestamp      Reason = "sign_timestamp"     // signed call without a timestamp within the allowed skew
	ReasonSignMismatch       Reason = "sign_mismatch"
	ReasonKeywordMissing     Reason = "keyword_missing"      // the message contains none of the robot's keywords
	ReasonWebhookRateLimited Reason = "webhook_rate_limited" // over the per-minute limit, or throttled
)

// HTTP event subscriptions (/call_back/*).
const (
	ReasonCallbackExists      Reason = "callback_exists"      // register while the app has one
	ReasonCallbackMissing     Reason = "callback_missing"     // update or get while it has none
	ReasonCallbackNotFound    Reason = "callback_not_found"   // delete while it has none
	ReasonCallbackTag         Reason = "callback_tag"         // a call_back_tag outside the list
	ReasonCallbackField       Reason = "callback_field"       // a field missing or of the wrong shape
	ReasonCallbackURL         Reason = "callback_url"         // not an http(s) URL
	ReasonCallbackAddress     Reason = "callback_address"     // a loopback or private address, when refused
	ReasonCallbackUnreachable Reason = "callback_unreachable" // check_url could not connect
	ReasonCallbackTimeout     Reason = "callback_timeout"     // check_url got no answer in time
	ReasonCallbackBadReply    Reason = "callback_bad_reply"   // check_url got no JSON reply, a non-200 status or a redirect
	ReasonCallbackNotSuccess  Reason = "callback_not_success" // the reply decrypts to something else than success
	ReasonCallbackSignature   Reason = "callback_signature"   // the reply's msg_signature does not match
	ReasonAESKey              Reason = "aes_key"              // aes_key is not 43 base64 characters
	ReasonStreamAuth          Reason = "stream_auth"          // connections/open: unknown clientId or wrong clientSecret
	ReasonStreamTicket        Reason = "stream_ticket"        // a Stream ticket unknown, used or expired
	ReasonSessionWebhook      Reason = "session_webhook"      // a sessionWebhook unknown or expired
)

// ISV suites, their tokens, and chat/bind.
const (
	ReasonSuiteKeyMissing      Reason = "suite_key_missing"
	ReasonSuiteSecretMissing   Reason = "suite_secret_missing"
	ReasonSuiteTicketMissing   Reason = "suite_ticket_missing"
	ReasonSuiteKeyUnknown      Reason = "suite_key_unknown" // no suite has that key
	ReasonSuiteSecretWrong     Reason = "suite_secret_wrong"
	ReasonSuiteTicketInvalid   Reason = "suite_ticket_invalid" // not the suite's current ticket
	ReasonSuiteTokenMissing    Reason = "suite_token_missing"
	ReasonSuiteTokenInvalid    Reason = "suite_token_invalid"
	ReasonSuiteTokenExpired    Reason = "suite_token_expired"
	ReasonAuthCorpMissing      Reason = "auth_corp_missing"
	ReasonPermanentCodeMissing Reason = "permanent_code_missing"
	ReasonPermanentCodeInvalid Reason = "permanent_code_invalid"
	ReasonSuiteNotAuthorized   Reason = "suite_not_authorized" // the corp has not authorised the suite
	ReasonTimestampFormat      Reason = "timestamp_format"     // signed call: timestamp is not Unix ms
	ReasonTimestampSkew        Reason = "timestamp_skew"       // signed call: more than a minute off
	ReasonAccessKeyInvalid     Reason = "access_key_invalid"   // signed call: no suite has that accessKey
	ReasonSignatureInvalid     Reason = "signature_invalid"
	ReasonISVOnly              Reason = "isv_only" // the caller is not an ISV suite's app
	ReasonAgentIDMissing       Reason = "agentid_missing"
	ReasonAgentIDInvalid       Reason = "agentid_invalid" // not a number, or not the caller's agentId
	ReasonChatAppLimit         Reason = "chat_app_limit"  // the group has MaxChatApps apps bound
	ReasonSuiteAlreadyBound    Reason = "suite_already_bound"
	ReasonChatAppNotBound      Reason = "chat_app_not_bound"
)

// Reasons lists every reason so tests can check each surface maps it.
var Reasons = []Reason{
	ReasonNone,
	ReasonSuiteKeyMissing, ReasonSuiteSecretMissing, ReasonSuiteTicketMissing, ReasonSuiteKeyUnknown, ReasonSuiteSecretWrong,
	ReasonSuiteTicketInvalid, ReasonSuiteTokenMissing, ReasonSuiteTokenInvalid, ReasonSuiteTokenExpired, ReasonAuthCorpMissing,
	ReasonPermanentCodeMissing, ReasonPermanentCodeInvalid, ReasonSuiteNotAuthorized, ReasonTimestampFormat, ReasonTimestampSkew,
	ReasonAccessKeyInvalid, ReasonSignatureInvalid, ReasonISVOnly, ReasonAgentIDMissing, ReasonAgentIDInvalid,
	ReasonChatAppLimit, ReasonSuiteAlreadyBound, ReasonChatAppNotBound,
	ReasonMalformedBody, ReasonInvalidParam, ReasonMissingParam, ReasonUnknownPath, ReasonUnknownAPI,
	ReasonTokenMissing, ReasonTokenInvalid, ReasonTokenExpired, ReasonAppKeyMissing, ReasonAppSecretMissing,
	ReasonBadAppCredentials, ReasonBadCorpCredentials, ReasonPermissionDenied, ReasonOwnerNotVisible, ReasonOrdinaryNotAllowed,
	ReasonChatIDMissing, ReasonChatNotFound, ReasonOpenConvNotFound, ReasonNameEmpty, ReasonNameLength,
	ReasonOwnerMissing, ReasonOwnerNotMember, ReasonOwnerType, ReasonOwnerNotStaff, ReasonOwnerNotExternal,
	ReasonMembersEmpty, ReasonTooManyIDs, ReasonTooManyExtIDs, ReasonMemberLimit, ReasonUnknownUser,
	ReasonUnknownExternal, ReasonAddDelOverlap, ReasonExtAddDelOverlap, ReasonConversationTag,
	ReasonExternalNotAllowed, ReasonOptionValue, ReasonChatDisbanded, ReasonRole, ReasonSubAdminLimit,
	ReasonNotMember, ReasonNotOwner, ReasonOwnerMustTransfer, ReasonIPNotAllowed, ReasonQPSLimit, ReasonQPMLimit, ReasonMonthlyQuota,
	ReasonUserNotFound, ReasonMobileNotFound, ReasonUserNotVisible,
	ReasonMediaType, ReasonFileType, ReasonFileSize, ReasonMediaMissing, ReasonNotMultipart, ReasonMediaEmpty, ReasonMediaID,
	ReasonMsgType, ReasonMsgMalformed, ReasonMsgTooLong, ReasonImageEmpty, ReasonLinkEmpty, ReasonFileEmpty, ReasonVoiceEmpty,
	ReasonSenderUnknown, ReasonSenderNotMember, ReasonGroupKind, ReasonMessageNotFound, ReasonBadCursor, ReasonBadSize,
	ReasonRobotCodeMissing, ReasonRobotNotFound, ReasonRobotNotInGroup, ReasonTextEmpty, ReasonWebhookToken,
	ReasonSignTimestamp, ReasonSignMismatch, ReasonKeywordMissing, ReasonWebhookRateLimited,
	ReasonCallbackExists, ReasonCallbackMissing, ReasonCallbackNotFound, ReasonCallbackTag, ReasonCallbackField,
	ReasonCallbackURL, ReasonCallbackAddress, ReasonCallbackUnreachable, ReasonCallbackTimeout, ReasonCallbackBadReply,
	ReasonCallbackNotSuccess, ReasonCallbackSignature, ReasonAESKey, ReasonStreamAuth, ReasonStreamTicket, ReasonSessionWebhook,
}

// Error is the one error type of the domain.
type Error struct {
	Kind    Kind
	Reason  Reason
	Message string // human detail, safe to show to the caller
	Err     error  // wrapped cause, never shown to the caller
	// RequiredScopes names what a Forbidden caller lacks; surfaces echo it.
	RequiredScopes []string
	// Detail is a value a surface echoes in its message (the caller's IP
	// for an IP allow-list refusal).
	Detail string
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Reason != "" {
		s += "/" + string(e.Reason)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(kind Kind, reason Reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wrap marks err with a kind; it keeps err for logs.
func Wrap(kind Kind, err error, msg string) *Error {
	return &Error{Kind: kind, Message: msg, Err: err}
}

// ErrorKind returns the kind of err, Internal for foreign errors.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ErrorReason returns the reason of err, if any.
func ErrorReason(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonNone
}

// ErrorMessage returns the caller-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// ErrorScopes returns the scopes a Forbidden error names.
func ErrorScopes(err error) []string {
	var e *Error
	if errors.As(err, &e) {
		return e.RequiredScopes
	}
	return nil
}

// ErrorDetail returns the detail value of err, if any.
func ErrorDetail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return ""
}

// IsKind reports whether err has kind k.
func IsKind(err error, k Kind) bool { return err != nil && ErrorKind(err) == k }
