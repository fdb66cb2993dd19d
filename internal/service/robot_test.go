package service_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

const robotCode = "dingtestrobot0001"

// robotGroup makes a group of manager4220, zhangsan and lisi with the
// fixture robot in it.
func (e *env) robotGroup() *ding.Group {
	e.t.Helper()
	if _, err := e.svc.SaveRobot(bg, dingtest.CorpID, robotCode, "通知机器人"); err != nil {
		e.t.Fatalf("SaveRobot: %v", err)
	}
	g := e.group("zhangsan", "lisi")
	if _, err := e.svc.AddGroupRobot(bg, g.ChatID, robotCode); err != nil {
		e.t.Fatalf("AddGroupRobot: %v", err)
	}
	return g
}

func (e *env) robotSend(g *ding.Group, key, param string) (*ding.Message, error) {
	return e.svc.SendRobotMessage(bg, e.app(), service.RobotSendInput{OpenID: g.OpenConversationID, RobotCode: robotCode, MsgKey: key, MsgParam: &param})
}

func TestRobotDeclarations(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.SaveRobot(bg, "", robotCode, "x")
	wantErr(t, err, ding.Invalid, ding.ReasonMissingParam, "no corpId")
	_, err = e.svc.SaveRobot(bg, dingtest.CorpID, "", "x")
	wantErr(t, err, ding.Invalid, ding.ReasonRobotCodeMissing, "no robotCode")
	_, err = e.svc.SaveRobot(bg, "dingnosuchcorp", robotCode, "x")
	wantErr(t, err, ding.NotFound, ding.ReasonNone, "unknown corp")
	r, err := e.svc.SaveRobot(bg, dingtest.CorpID, robotCode, "")
	if err != nil || r.Name != robotCode || r.CreatedAt != e.nowMs() {
		t.Fatalf("SaveRobot = %+v, %v; want the code as its name", r, err)
	}
	_, err = e.svc.SaveRobot(bg, dingtest.OtherCorpID, robotCode, "抢注")
	wantErr(t, err, ding.Conflict, ding.ReasonNone, "robotCode of another corp")
	if _, err := e.svc.SaveRobot(bg, dingtest.OtherCorpID, "dingotherrobot", "他司机器人"); err != nil {
		t.Fatal(err)
	}

	g := e.group("zhangsan")
	_, err = e.svc.AddGroupRobot(bg, "chatnosuch", robotCode)
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "unknown group")
	_, err = e.svc.AddGroupRobot(bg, g.ChatID, "dingnosuchrobot")
	wantErr(t, err, ding.NotFound, ding.ReasonRobotNotFound, "unknown robot")
	_, err = e.svc.AddGroupRobot(bg, g.ChatID, "dingotherrobot")
	wantErr(t, err, ding.NotFound, ding.ReasonRobotNotFound, "robot of another corp")
	before := len(e.events())
	e.clock.Advance(1000)
	if _, err := e.svc.AddGroupRobot(bg, g.ChatID, robotCode); err != nil {
		t.Fatalf("AddGroupRobot: %v", err)
	}
	evs := e.events()
	if len(evs) != before+1 {
		t.Fatalf("%d events after adding a robot, want %d", len(evs), before+1)
	}
	wantEvent(t, evs[before], ding.EventChatAddRobot, *g, e.nowMs(), map[string]any{"robotCode": robotCode, "name": robotCode})
	_, err = e.svc.AddGroupRobot(bg, g.ChatID, robotCode)
	wantErr(t, err, ding.Conflict, ding.ReasonNone, "added twice")
	rs, err := e.svc.GroupRobots(bg, g.ChatID)
	if err != nil || len(rs) != 1 || rs[0].Code != robotCode {
		t.Fatalf("GroupRobots = %+v, %v", rs, err)
	}
	if err := e.svc.RemoveGroupRobot(bg, g.ChatID, robotCode); err != nil {
		t.Fatalf("RemoveGroupRobot: %v", err)
	}
	wantEvent(t, e.events()[before+1], ding.EventChatRemoveRobot, *g, e.nowMs(), map[string]any{"robotCode": robotCode})
	wantErr(t, e.svc.RemoveGroupRobot(bg, g.ChatID, robotCode), ding.NotFound, ding.ReasonRobotNotInGroup, "removed twice")

	if err := e.svc.DisbandGroup(bg, service.AdminActor(dingtest.CorpID), g.ChatID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddGroupRobot(bg, g.ChatID, robotCode)
	wantErr(t, err, ding.Conflict, ding.ReasonChatDisbanded, "disbanded group")
}

// samples are a valid msgParam of each msgKey. Media ids are filled in by
// TestRobotSendEveryKey.
var samples = map[string]string{
	ding.MsgKeyText:        `{"content":"今天吃肘子"}`,
	ding.MsgKeyMarkdown:    `{"title":"周报","text":"## 本周\n- 完成 <b>&</b>"}`,
	ding.MsgKeyImage:       `{"photoURL":"https://example.com/a.png"}`,
	ding.MsgKeyLink:        `{"text":"正文","title":"标题","picUrl":"@lADOADmaWMzazQKA","messageUrl":"https://example.com"}`,
	ding.MsgKeyActionCard:  `{"title":"卡片","text":"正文","singleTitle":"查看","singleURL":"https://example.com"}`,
	ding.MsgKeyActionCard2: `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2"}`,
	ding.MsgKeyActionCard3: `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3"}`,
	ding.MsgKeyActionCard4: `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3","actionTitle4":"d","actionURL4":"u4"}`,
	ding.MsgKeyActionCard5: `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3","actionTitle4":"d","actionURL4":"u4","actionTitle5":"e","actionURL5":"u5"}`,
	ding.MsgKeyActionCard6: `{"title":"t","text":"x","buttonTitle1":"a","buttonUrl1":"u1","buttonTitle2":"b","buttonUrl2":"u2"}`,
	ding.MsgKeyAudio:       `{"mediaId":"@voice","duration":"3000"}`,
	ding.MsgKeyFile:        `{"mediaId":"@file","fileName":"报告.pdf","fileType":"pdf"}`,
	ding.MsgKeyVideo:       `{"duration":"10","videoMediaId":"@video","videoType":"mp4","picMediaId":"@image"}`,
}

func (e *env) media(id, typ string) {
	e.t.Helper()
	if err := e.st.CreateMedia(bg, &ding.Media{ID: id, CorpID: dingtest.CorpID, Type: typ, Digest: "00", Size: 1, CreatedAt: e.nowMs()}); err != nil {
		e.t.Fatalf("CreateMedia: %v", err)
	}
}

func TestRobotSendEveryKey(t *testing.T) {
	e := newEnv(t)
	g := e.robotGroup()
	e.media("@voice", ding.MediaVoice)
	e.media("@file", ding.MediaFile)
	e.media("@video", ding.MediaVideo)
	e.media("@image", ding.MediaImage)
	for key, param := range samples {
		m, err := e.robotSend(g, key, param)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		stored, err := e.st.Message(bg, dingtest.CorpID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SenderType != ding.SenderRobot || stored.Sender != robotCode || stored.MsgType != key || stored.ChatID != g.ChatID {
			t.Fatalf("%s stored as %+v", key, stored)
		}
		if got, want := string(stored.Body), `{"msgKey":"`+key+`","msgParam":`+param+`}`; got != want {
			t.Fatalf("%s body = %s, want %s", key, got, want)
		}
	}
	// every required parameter is required: dropping any one is refused
	for key, param := range samples {
		var obj map[string]string
		if err := json.Unmarshal([]byte(param), &obj); err != nil {
			t.Fatal(err)
		}
		for name := range obj {
			rest := map[string]string{"unrelated": "x"}
			for k, v := range obj {
				if k != name {
					rest[k] = v
				}
			}
			b, _ := json.Marshal(rest)
			_, err := e.robotSend(g, key, string(b))
			reason := ding.ReasonMsgMalformed
			if key == ding.MsgKeyText {
				reason = ding.ReasonTextEmpty
			}
			wantErr(t, err, ding.Invalid, reason, fmt.Sprintf("%s without %s", key, name))
		}
	}
}

func TestRobotSendRules(t *testing.T) {
	e := newEnv(t)
	g := e.robotGroup()
	text := `{"content":"hi"}`
	send := func(in service.RobotSendInput) error {
		_, err := e.svc.SendRobotMessage(bg, e.app(), in)
		return err
	}
	ok := service.RobotSendInput{OpenID: g.OpenConversationID, RobotCode: robotCode, MsgKey: ding.MsgKeyText, MsgParam: &text}
	with := func(f func(*service.RobotSendInput)) service.RobotSendInput { in := ok; f(&in); return in }
	long := `{"content":"` + strings.Repeat("a", ding.MaxMsgParamBytes-14) + `"}`
	longer := `{"content":"` + strings.Repeat("a", ding.MaxMsgParamBytes-13) + `"}`
	for _, tc := range []struct {
		name   string
		in     service.RobotSendInput
		kind   ding.Kind
		reason ding.Reason
	}{
		{"no robotCode", with(func(in *service.RobotSendInput) { in.RobotCode = "" }), ding.Invalid, ding.ReasonRobotCodeMissing},
		{"unknown msgKey", with(func(in *service.RobotSendInput) { in.MsgKey = "sampleNope" }), ding.Invalid, ding.ReasonMsgType},
		{"no msgParam", with(func(in *service.RobotSendInput) { in.MsgParam = nil }), ding.Invalid, ding.ReasonMsgMalformed},
		{"msgParam not JSON", with(func(in *service.RobotSendInput) { s := `content=hi`; in.MsgParam = &s }), ding.Invalid, ding.ReasonMsgMalformed},
		{"msgParam a JSON array", with(func(in *service.RobotSendInput) { s := `[{"content":"hi"}]`; in.MsgParam = &s }), ding.Invalid, ding.ReasonMsgMalformed},
		{"msgParam over 15000 bytes", with(func(in *service.RobotSendInput) { in.MsgParam = &longer }), ding.Invalid, ding.ReasonMsgTooLong},
		{"unknown group", with(func(in *service.RobotSendInput) { in.OpenID = "cidnosuch==" }), ding.NotFound, ding.ReasonOpenConvNotFound},
		{"no group", with(func(in *service.RobotSendInput) { in.OpenID = "" }), ding.Invalid, ding.ReasonChatIDMissing},
		{"unknown robot", with(func(in *service.RobotSendInput) { in.RobotCode = "dingnosuchrobot" }), ding.NotFound, ding.ReasonRobotNotFound},
		{"unknown media", with(func(in *service.RobotSendInput) {
			in.MsgKey = ding.MsgKeyFile
			s := `{"mediaId":"@nosuch","fileName":"a.pdf","fileType":"pdf"}`
			in.MsgParam = &s
		}), ding.Invalid, ding.ReasonMediaID},
	} {
		wantErr(t, send(tc.in), tc.kind, tc.reason, tc.name)
	}
	if len(long) != ding.MaxMsgParamBytes {
		t.Fatalf("len(long) = %d", len(long))
	}
	if err := send(with(func(in *service.RobotSendInput) { in.MsgParam = &long })); err != nil {
		t.Fatalf("msgParam of exactly 15000 bytes: %v", err)
	}
	_, err := e.svc.SendRobotMessage(bg, e.readOnlyApp(), ok)
	wantErr(t, err, ding.Forbidden, ding.ReasonPermissionDenied, "app without qyapi_robot_sendmsg")

	// a robot not in the group, then a disbanded group
	other := e.group("wangwu")
	wantErr(t, send(with(func(in *service.RobotSendInput) { in.OpenID = other.OpenConversationID })), ding.NotFound, ding.ReasonRobotNotInGroup, "robot not in group")
	if err := e.svc.DisbandGroup(bg, service.AdminActor(dingtest.CorpID), g.ChatID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, send(ok), ding.Conflict, ding.ReasonChatDisbanded, "disbanded group")
	// the other corp's app sees neither the group nor the robot
	_, err = e.svc.SendRobotMessage(bg, e.otherApp(), ok)
	wantErr(t, err, ding.NotFound, ding.ReasonOpenConvNotFound, "other corp")
}

func TestRobotQueryAndRecall(t *testing.T) {
	e := newEnv(t)
	g := e.robotGroup()
	m, err := e.robotSend(g, ding.MsgKeyText, `{"content":"已读?"}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"lisi", "manager4220", "zhangsan"} {
		if _, err := e.svc.MemberMarkRead(bg, &service.MemberCaller{CorpID: dingtest.CorpID, UserID: u}, g.ChatID, m.Seq); err != nil {
			t.Fatal(err)
		}
	}
	query := func(in service.RobotQueryInput) (*service.RobotQueryResult, error) {
		return e.svc.QueryRobotMessage(bg, e.app(), in)
	}
	// pages of two, in member order
	res, err := query(service.RobotQueryInput{ProcessQueryKey: m.ID, OpenID: g.OpenConversationID, RobotCode: robotCode, MaxResults: ptr(2)})
	if err != nil || res.SendStatus != "SUCCESS" || strings.Join(res.ReadUserIDs, ",") != "manager4220,zhangsan" || res.NextToken == "" {
		t.Fatalf("query page 1 = %+v, %v", res, err)
	}
	res, err = query(service.RobotQueryInput{ProcessQueryKey: m.ID, MaxResults: ptr(2), NextToken: res.NextToken})
	if err != nil || strings.Join(res.ReadUserIDs, ",") != "lisi" || res.NextToken != "" {
		t.Fatalf("query page 2 = %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name   string
		in     service.RobotQueryInput
		kind   ding.Kind
		reason ding.Reason
	}{
		{"no key", service.RobotQueryInput{}, ding.Invalid, ding.ReasonMissingParam},
		{"unknown key", service.RobotQueryInput{ProcessQueryKey: "nosuch"}, ding.NotFound, ding.ReasonMessageNotFound},
		{"another robot's key", service.RobotQueryInput{ProcessQueryKey: m.ID, RobotCode: "dingother"}, ding.NotFound, ding.ReasonMessageNotFound},
		{"another group", service.RobotQueryInput{ProcessQueryKey: m.ID, OpenID: e.group().OpenConversationID}, ding.NotFound, ding.ReasonMessageNotFound},
		{"unknown group", service.RobotQueryInput{ProcessQueryKey: m.ID, OpenID: "cidnosuch"}, ding.NotFound, ding.ReasonOpenConvNotFound},
		{"maxResults 0", service.RobotQueryInput{ProcessQueryKey: m.ID, MaxResults: ptr(0)}, ding.Invalid, ding.ReasonBadSize},
		{"maxResults 201", service.RobotQueryInput{ProcessQueryKey: m.ID, MaxResults: ptr(201)}, ding.Invalid, ding.ReasonBadSize},
		{"bad nextToken", service.RobotQueryInput{ProcessQueryKey: m.ID, NextToken: "abc"}, ding.Invalid, ding.ReasonBadCursor},
	} {
		_, err := query(tc.in)
		wantErr(t, err, tc.kind, tc.reason, tc.name)
	}
	if _, err := query(service.RobotQueryInput{ProcessQueryKey: m.ID, MaxResults: ptr(200)}); err != nil {
		t.Fatalf("maxResults 200: %v", err)
	}
	// a message that is not a robot's has no processQueryKey
	mine, err := e.svc.MemberSend(bg, &service.MemberCaller{CorpID: dingtest.CorpID, UserID: "zhangsan"}, g.ChatID, []byte(`{"msgtype":"text","text":{"content":"hi"}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = query(service.RobotQueryInput{ProcessQueryKey: mine.ID})
	wantErr(t, err, ding.NotFound, ding.ReasonMessageNotFound, "a member's message")

	recall := func(keys ...string) (*service.RobotRecallResult, error) {
		return e.svc.RecallRobotMessages(bg, e.app(), g.OpenConversationID, robotCode, keys)
	}
	before := len(e.events())
	e.clock.Advance(5000)
	res2, err := recall(m.ID, "nosuch", mine.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res2.Success, res2.Failed); got != fmt.Sprintf("[%s] map[%s:NOT_FOUND nosuch:NOT_FOUND]", m.ID, mine.ID) {
		t.Fatalf("recall = %s", got)
	}
	evs := e.events()
	if len(evs) != before+1 {
		t.Fatalf("%d events after a recall, want %d", len(evs), before+1)
	}
	wantEvent(t, evs[before], ding.EventChatRecallMessage, *g, e.nowMs(), map[string]any{"processQueryKey": m.ID, "robotCode": robotCode})
	stored, _ := e.st.Message(bg, dingtest.CorpID, m.ID)
	if stored.RecalledAt != e.nowMs() {
		t.Fatalf("RecalledAt = %d, want %d", stored.RecalledAt, e.nowMs())
	}
	res, err = query(service.RobotQueryInput{ProcessQueryKey: m.ID})
	if err != nil || res.SendStatus != "RECALLED" {
		t.Fatalf("query after recall = %+v, %v", res, err)
	}
	res2, err = recall(m.ID)
	if err != nil || len(res2.Success) != 0 || res2.Failed[m.ID] != "ALREADY_RECALLED" {
		t.Fatalf("second recall = %+v, %v", res2, err)
	}
	many := make([]string, ding.MaxRecallKeys+1)
	for i := range many {
		many[i] = fmt.Sprint("k", i)
	}
	_, err = recall(many...)
	wantErr(t, err, ding.Invalid, ding.ReasonTooManyIDs, "21 keys")
	if _, err := recall(many[:ding.MaxRecallKeys]...); err != nil {
		t.Fatalf("20 keys: %v", err)
	}
	_, err = recall()
	wantErr(t, err, ding.Invalid, ding.ReasonMissingParam, "no keys")
	_, err = e.svc.RecallRobotMessages(bg, e.app(), g.OpenConversationID, "", []string{m.ID})
	wantErr(t, err, ding.Invalid, ding.ReasonRobotCodeMissing, "no robotCode")
}
