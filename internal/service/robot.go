package service

import (
	"context"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
)

// SaveRobot declares an org robot of a corp (admin side). Saving it again
// renames it; a robotCode already held by another corp is refused.
func (s *Service) SaveRobot(ctx context.Context, corpID, code, name string) (*ding.Robot, error) {
	if corpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId is required")
	}
	if code == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRobotCodeMissing, "robotCode is required")
	}
	if _, err := s.store.Corp(ctx, corpID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "no corp %s", corpID)
		}
		return nil, err
	}
	r := &ding.Robot{Code: code, CorpID: corpID, Name: name, CreatedAt: s.nowMs()}
	old, err := s.store.Robot(ctx, code)
	switch {
	case err == nil && old.CorpID != corpID:
		return nil, ding.Errorf(ding.Conflict, ding.ReasonNone, "robotCode %s belongs to another corp", code)
	case err == nil:
		r.CreatedAt = old.CreatedAt
	case !ding.IsKind(err, ding.NotFound):
		return nil, err
	}
	if r.Name == "" {
		r.Name = code
	}
	if err := s.store.SaveRobot(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Robots lists a corp's org robots (admin side).
func (s *Service) Robots(ctx context.Context, corpID string) ([]ding.Robot, error) {
	if corpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId is required")
	}
	return s.store.RobotsByCorp(ctx, corpID)
}

// adminGroup finds a group by chatid in any corp: the admin API is not
// scoped to one corp, and chatids are unique across corps.
func (s *Service) adminGroup(ctx context.Context, chatID string) (*ding.Group, error) {
	if chatID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	corps, err := s.store.Corps(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range corps {
		g, err := s.store.Group(ctx, c.ID, chatID)
		if err == nil {
			return g, nil
		}
		if !ding.IsKind(err, ding.NotFound) {
			return nil, err
		}
	}
	return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
}

// corpRobot returns the robot of the corp with the code.
func (s *Service) corpRobot(ctx context.Context, corpID, code string) (*ding.Robot, error) {
	if code == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRobotCodeMissing, "robotCode is empty")
	}
	r, err := s.store.Robot(ctx, code)
	if ding.IsKind(err, ding.NotFound) || (err == nil && r.CorpID != corpID) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonRobotNotFound, "no robot %s in the corp", code)
	}
	return r, err
}

// AddGroupRobot puts an org robot of the group's corp into the group
// (admin side), recorded as a chat_add_robot event.
func (s *Service) AddGroupRobot(ctx context.Context, chatID, code string) (*ding.Robot, error) {
	g, err := s.adminGroup(ctx, chatID)
	if err != nil {
		return nil, err
	}
	r, err := s.corpRobot(ctx, g.CorpID, code)
	if err != nil {
		return nil, err
	}
	if g.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	now := s.nowMs()
	ev := s.event(g, ding.EventChatAddRobot, now, map[string]any{"robotCode": r.Code, "name": r.Name})
	if err := s.store.AddGroupRobot(ctx, g.ChatID, r.Code, now, []ding.Event{ev}); err != nil {
		if ding.IsKind(err, ding.Conflict) {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonNone, "robot %s is in the group already", code)
		}
		return nil, err
	}
	return r, nil
}

// RemoveGroupRobot takes a robot out of a group (admin side), recorded as
// a chat_remove_robot event.
func (s *Service) RemoveGroupRobot(ctx context.Context, chatID, code string) error {
	g, err := s.adminGroup(ctx, chatID)
	if err != nil {
		return err
	}
	r, err := s.corpRobot(ctx, g.CorpID, code)
	if err != nil {
		return err
	}
	now := s.nowMs()
	ev := s.event(g, ding.EventChatRemoveRobot, now, map[string]any{"robotCode": r.Code, "name": r.Name})
	err = s.store.RemoveGroupRobot(ctx, g.ChatID, r.Code, []ding.Event{ev})
	if ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonRobotNotInGroup, "robot %s is not in the group", code)
	}
	return err
}

// GroupRobots lists the robots of a group (admin side).
func (s *Service) GroupRobots(ctx context.Context, chatID string) ([]ding.Robot, error) {
	g, err := s.adminGroup(ctx, chatID)
	if err != nil {
		return nil, err
	}
	return s.store.GroupRobots(ctx, g.ChatID)
}

// sampleParams are the msgParam keys each msgKey requires.
var sampleParams = map[string][]string{
	ding.MsgKeyText:        {"content"},
	ding.MsgKeyMarkdown:    {"title", "text"},
	ding.MsgKeyImage:       {"photoURL"},
	ding.MsgKeyLink:        {"text", "title", "picUrl", "messageUrl"},
	ding.MsgKeyActionCard:  {"title", "text", "singleTitle", "singleURL"},
	ding.MsgKeyActionCard2: actionCardParams(2),
	ding.MsgKeyActionCard3: actionCardParams(3),
	ding.MsgKeyActionCard4: actionCardParams(4),
	ding.MsgKeyActionCard5: actionCardParams(5),
	ding.MsgKeyActionCard6: {"title", "text", "buttonTitle1", "buttonUrl1", "buttonTitle2", "buttonUrl2"},
	ding.MsgKeyAudio:       {"mediaId", "duration"},
	ding.MsgKeyFile:        {"mediaId", "fileName", "fileType"},
	ding.MsgKeyVideo:       {"duration", "videoMediaId", "videoType", "picMediaId"},
}

func actionCardParams(n int) []string {
	keys := []string{"title", "text"}
	for i := 1; i <= n; i++ {
		keys = append(keys, "actionTitle"+strconv.Itoa(i), "actionURL"+strconv.Itoa(i))
	}
	return keys
}

// sampleMedia are the msgParam keys that name uploaded media, each with
// the media type it must have.
var sampleMedia = map[string][][2]string{
	ding.MsgKeyAudio: {{"mediaId", ding.MediaVoice}},
	ding.MsgKeyFile:  {{"mediaId", ding.MediaFile}},
	ding.MsgKeyVideo: {{"videoMediaId", ding.MediaVideo}, {"picMediaId", ding.MediaImage}},
}

// checkSample applies a msgKey's rules to its decoded msgParam and returns
// the media it references.
func checkSample(key string, p msgObject) ([]mediaRef, error) {
	for _, k := range sampleParams[key] {
		if v, _ := p.str(k); v == "" {
			if key == ding.MsgKeyText {
				return nil, ding.Errorf(ding.Invalid, ding.ReasonTextEmpty, "msgParam.content is empty")
			}
			return nil, malformed("msgParam.%s is required for %s", k, key)
		}
	}
	var refs []mediaRef
	for _, m := range sampleMedia[key] {
		id, _ := p.str(m[0])
		refs = append(refs, mediaRef{id, m[1]})
	}
	if key == ding.MsgKeyImage { // photoURL is a URL or a media id
		if u, _ := p.str("photoURL"); u[0] == '@' {
			refs = append(refs, mediaRef{u, ding.MediaImage})
		}
	}
	return refs, nil
}

// RobotSendInput is /v1.0/robot/groupMessages/send.
type RobotSendInput struct {
	OpenID    string // openConversationId
	RobotCode string
	MsgKey    string
	MsgParam  *string // the JSON text as sent; nil when absent or not a string
}

// robotMessageBody is what a robot's message stores: its template and
// parameters, the parameters' bytes exactly as sent.
func robotMessageBody(key, param string) []byte {
	b := []byte(`{"msgKey":`)
	b = strconv.AppendQuote(b, key)
	b = append(b, `,"msgParam":`...)
	b = append(b, param...)
	return append(b, '}')
}

// SendRobotMessage is /v1.0/robot/groupMessages/send: an org robot posts a
// template message into a group it belongs to. The message id is the
// processQueryKey that query and recall take.
func (s *Service) SendRobotMessage(ctx context.Context, c *Caller, in RobotSendInput) (*ding.Message, error) {
	if err := s.require(c, ding.ScopeRobotSendMsg); err != nil {
		return nil, err
	}
	if in.RobotCode == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRobotCodeMissing, "robotCode is empty")
	}
	if _, ok := sampleParams[in.MsgKey]; !ok {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgType, "unknown msgKey %q", in.MsgKey)
	}
	if in.MsgParam == nil {
		return nil, malformed("msgParam must be JSON text")
	}
	if n := len(*in.MsgParam); n > ding.MaxMsgParamBytes {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMsgTooLong, "msgParam is %d bytes, at most %d", n, ding.MaxMsgParamBytes)
	}
	param, ok := decodeObject([]byte(*in.MsgParam))
	if !ok {
		return nil, malformed("msgParam is not a JSON object")
	}
	refs, err := checkSample(in.MsgKey, param)
	if err != nil {
		return nil, err
	}
	g, err := s.resolve(ctx, c, GroupRef{OpenID: in.OpenID})
	if err != nil {
		return nil, err
	}
	if g.Status == ding.StatusDisbanded {
		return nil, ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "group is disbanded")
	}
	if err := s.robotInGroup(ctx, c, g, in.RobotCode); err != nil {
		return nil, err
	}
	if err := s.checkMedia(ctx, c.CorpID(), refs); err != nil {
		return nil, err
	}
	return s.appendMessage(ctx, g, ding.SenderRobot, in.RobotCode, in.MsgKey, robotMessageBody(in.MsgKey, *in.MsgParam), nil)
}

// robotInGroup: the robot must be one of the caller's corp and in the group.
func (s *Service) robotInGroup(ctx context.Context, c *Caller, g *ding.Group, code string) error {
	r, err := s.corpRobot(ctx, c.CorpID(), code)
	if err != nil {
		return err
	}
	in, err := s.store.InGroup(ctx, g.ChatID, r.Code)
	if err != nil {
		return err
	}
	if !in {
		return ding.Errorf(ding.NotFound, ding.ReasonRobotNotInGroup, "robot %s is not in the group", code)
	}
	return nil
}

// robotMessage finds a message a robot sent by its processQueryKey. An
// openConversationId or robotCode, when given, must match the message;
// any mismatch reads as an unknown key, so nothing leaks across robots.
func (s *Service) robotMessage(ctx context.Context, c *Caller, key, openID, code string) (*ding.Message, error) {
	notFound := ding.Errorf(ding.NotFound, ding.ReasonMessageNotFound, "no robot message %s", key)
	m, err := s.store.Message(ctx, c.CorpID(), key)
	if ding.IsKind(err, ding.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if m.SenderType != ding.SenderRobot || (code != "" && m.Sender != code) {
		return nil, notFound
	}
	if openID != "" {
		g, err := s.store.Group(ctx, c.CorpID(), m.ChatID)
		if err != nil {
			return nil, err
		}
		if g.OpenConversationID != openID {
			return nil, notFound
		}
	}
	return m, nil
}

// Robot message send statuses.
const (
	SendStatusSuccess  = "SUCCESS"
	SendStatusRecalled = "RECALLED"
)

// RobotQueryInput is /v1.0/robot/groupMessages/query.
type RobotQueryInput struct {
	ProcessQueryKey string
	OpenID          string
	RobotCode       string
	MaxResults      *int
	NextToken       string // "" from the start, else the nextToken of the previous page
}

// RobotQueryResult is a page of a robot message's readers.
type RobotQueryResult struct {
	SendStatus  string
	ReadUserIDs []string
	NextToken   string // "" on the last page
}

// QueryRobotMessage reports whether a robot's message stands or was
// recalled, and pages the staff members who have read it.
func (s *Service) QueryRobotMessage(ctx context.Context, c *Caller, in RobotQueryInput) (*RobotQueryResult, error) {
	if err := s.require(c, ding.ScopeRobotSendMsg); err != nil {
		return nil, err
	}
	if in.ProcessQueryKey == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "processQueryKey is required")
	}
	limit := ding.MaxQueryResults // unconfirmed: the default when maxResults is absent
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	if limit < 1 || limit > ding.MaxQueryResults {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "maxResults must be 1..%d", ding.MaxQueryResults)
	}
	var cursor int64
	if in.NextToken != "" {
		n, err := strconv.ParseInt(in.NextToken, 10, 64)
		if err != nil || n < 0 {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "nextToken is not one this call returned")
		}
		cursor = n
	}
	if in.OpenID != "" {
		if _, err := s.resolve(ctx, c, GroupRef{OpenID: in.OpenID}); err != nil {
			return nil, err
		}
	}
	m, err := s.robotMessage(ctx, c, in.ProcessQueryKey, in.OpenID, in.RobotCode)
	if err != nil {
		return nil, err
	}
	ids, next, err := s.store.Readers(ctx, m.ChatID, m.Seq, "", cursor, limit)
	if err != nil {
		return nil, err
	}
	out := &RobotQueryResult{SendStatus: SendStatusSuccess, ReadUserIDs: ids}
	if m.RecalledAt != 0 {
		out.SendStatus = SendStatusRecalled
	}
	if next > 0 {
		out.NextToken = strconv.FormatInt(next, 10)
	}
	return out, nil
}

// Why a key of a recall failed (unconfirmed: DingTalk's SDK shows only
// "SYSTEM_ERROR" as an example value).
const (
	RecallNotFound        = "NOT_FOUND"
	RecallAlreadyRecalled = "ALREADY_RECALLED"
)

// RobotRecallResult says, key by key, what a recall did.
type RobotRecallResult struct {
	Success []string
	Failed  map[string]string // processQueryKey → why
}

// RecallRobotMessages is /v1.0/robot/groupMessages/recall: a robot takes
// back messages it sent to a group. Each recall is a chat_recall_message
// event; keys that fail are reported, not fatal.
func (s *Service) RecallRobotMessages(ctx context.Context, c *Caller, openID, code string, keys []string) (*RobotRecallResult, error) {
	if err := s.require(c, ding.ScopeRobotSendMsg); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonRobotCodeMissing, "robotCode is empty")
	}
	keys = dedupe(keys)
	if len(keys) == 0 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "processQueryKeys is empty")
	}
	if len(keys) > ding.MaxRecallKeys {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonTooManyIDs, "at most %d processQueryKeys per call", ding.MaxRecallKeys)
	}
	g, err := s.resolve(ctx, c, GroupRef{OpenID: openID})
	if err != nil {
		return nil, err
	}
	if err := s.robotInGroup(ctx, c, g, code); err != nil {
		return nil, err
	}
	out := &RobotRecallResult{Success: []string{}, Failed: map[string]string{}}
	for _, k := range keys {
		m, err := s.robotMessage(ctx, c, k, g.OpenConversationID, code)
		if ding.IsKind(err, ding.NotFound) {
			out.Failed[k] = RecallNotFound
			continue
		}
		if err != nil {
			return nil, err
		}
		now := s.nowMs()
		ev := s.event(g, ding.EventChatRecallMessage, now, map[string]any{"messageId": m.ID, "processQueryKey": m.ID, "robotCode": code})
		err = s.store.RecallMessage(ctx, c.CorpID(), m.ID, now, []ding.Event{ev})
		switch {
		case err == nil:
			out.Success = append(out.Success, k)
		case ding.IsKind(err, ding.Conflict):
			out.Failed[k] = RecallAlreadyRecalled
		default:
			return nil, err
		}
	}
	return out, nil
}
