package v1api_test

import (
	"context"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	robot "github.com/alibabacloud-go/dingtalk/robot_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	robotCode  = "dingtestrobot0001"
	sendPath   = "/v1.0/robot/groupMessages/send"
	queryPath  = "/v1.0/robot/groupMessages/query"
	recallPath = "/v1.0/robot/groupMessages/recall"
)

// robotGroup makes the fixture group with the fixture robot in it, and the
// media the media templates name.
func robotGroup(e *servertest.Env) {
	e.T.Helper()
	group(e)
	ctx := context.Background()
	if _, err := e.Svc.SaveRobot(ctx, dingtest.CorpID, robotCode, "通知机器人"); err != nil {
		e.T.Fatal(err)
	}
	if _, err := e.Svc.AddGroupRobot(ctx, e.Vars["chatid"], robotCode); err != nil {
		e.T.Fatal(err)
	}
	for id, typ := range map[string]string{"@voice01": ding.MediaVoice, "@file01": ding.MediaFile, "@video01": ding.MediaVideo, "@image01": ding.MediaImage} {
		if err := e.Store.CreateMedia(ctx, &ding.Media{ID: id, CorpID: dingtest.CorpID, Type: typ, Digest: "00", Size: 1}); err != nil {
			e.T.Fatal(err)
		}
	}
}

// sent sends a text as the fixture robot and sets {{key}} to its processQueryKey.
func sent(e *servertest.Env) {
	e.T.Helper()
	robotGroup(e)
	param := `{"content":"今天吃肘子"}`
	m, err := e.Svc.SendRobotMessage(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret),
		service.RobotSendInput{OpenID: e.Vars["openid"], RobotCode: robotCode, MsgKey: ding.MsgKeyText, MsgParam: &param})
	if err != nil {
		e.T.Fatal(err)
	}
	e.Vars["key"] = m.ID
}

// read marks the robot's message read by users.
func read(users ...string) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		e.T.Helper()
		m, err := e.Store.Message(context.Background(), dingtest.CorpID, e.Vars["key"])
		if err != nil {
			e.T.Fatal(err)
		}
		for _, u := range users {
			if _, err := e.Svc.MemberMarkRead(context.Background(), &service.MemberCaller{CorpID: dingtest.CorpID, UserID: u}, e.Vars["chatid"], m.Seq); err != nil {
				e.T.Fatal(err)
			}
		}
	}
}

func disband(e *servertest.Env) {
	e.T.Helper()
	if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
		e.T.Fatal(err)
	}
}

// sendBody is a send request for the fixture group and robot; param is
// the msgParam object, sent as the JSON string DingTalk wants.
func sendBody(key, param string) string {
	return `{"msgParam":` + jsonText(param) + `,"msgKey":"` + key + `","openConversationId":"{{openid}}","robotCode":"` + robotCode + `"}`
}

// stored checks the timeline holds the robot's message as sent.
func stored(key, param string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		id := field(t, r, "processQueryKey")
		m, err := e.Store.Message(context.Background(), dingtest.CorpID, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.SenderType != ding.SenderRobot || m.Sender != robotCode || m.MsgType != key || m.ChatID != e.Vars["chatid"] {
			t.Errorf("stored as %+v", m)
		}
		if got, want := string(m.Body), `{"msgKey":"`+key+`","msgParam":`+param+`}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	}
}

func TestRobotSendGolden(t *testing.T) {
	h := hdr("token")
	params := []struct{ key, param string }{
		{"sampleText", `{"content":"今天吃肘子"}`},
		{"sampleMarkdown", `{"title":"周报","text":"## 本周\n- 完成 <b>&</b>"}`},
		{"sampleImageMsg", `{"photoURL":"@image01"}`},
		{"sampleLink", `{"text":"正文","title":"标题","picUrl":"https://example.com/a.png","messageUrl":"https://example.com"}`},
		{"sampleActionCard", `{"title":"卡片","text":"正文","singleTitle":"查看","singleURL":"https://example.com"}`},
		{"sampleActionCard2", `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2"}`},
		{"sampleActionCard3", `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3"}`},
		{"sampleActionCard4", `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3","actionTitle4":"d","actionURL4":"u4"}`},
		{"sampleActionCard5", `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2","actionTitle3":"c","actionURL3":"u3","actionTitle4":"d","actionURL4":"u4","actionTitle5":"e","actionURL5":"u5"}`},
		{"sampleActionCard6", `{"title":"t","text":"x","buttonTitle1":"a","buttonUrl1":"u1","buttonTitle2":"b","buttonUrl2":"u2"}`},
		{"sampleAudio", `{"mediaId":"@voice01","duration":"3000"}`},
		{"sampleFile", `{"mediaId":"@file01","fileName":"报告.pdf","fileType":"pdf"}`},
		{"sampleVideo", `{"duration":"10","videoMediaId":"@video01","videoType":"mp4","picMediaId":"@image01"}`},
	}
	var cases []servertest.Case
	for _, p := range params {
		cases = append(cases, servertest.Case{Name: p.key, Setup: robotGroup, Method: post, Path: sendPath, Header: h,
			Body: sendBody(p.key, p.param), Status: ok, Golden: "robot_groupMessages_send/" + p.key, Check: stored(p.key, p.param)})
	}
	fits := `{"content":"` + strings.Repeat("a", ding.MaxMsgParamBytes-14) + `"}` // 15000 bytes
	long := `{"content":"` + strings.Repeat("长", 4996) + `"}`                     // 15002 bytes in 5010 characters
	cases = append(cases, []servertest.Case{
		{Name: "numbers as numbers", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleAudio", `{"mediaId":"@voice01","duration":3000}`), Status: ok, Golden: "robot_groupMessages_send/number_param"},
		{Name: "token missing", Setup: robotGroup, Method: post, Path: sendPath, Body: sendBody("sampleText", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/token_missing"},
		{Name: "token invalid", Setup: robotGroup, Method: post, Path: sendPath, Header: map[string]string{"x-acs-dingtalk-access-token": "nosuchtoken"}, Body: sendBody("sampleText", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/token_invalid"},
		{Name: "no robot scope", Setup: robotGroup, Method: post, Path: sendPath, Header: hdr("readonly_token"), Body: sendBody("sampleText", `{"content":"x"}`), Status: forbidden, Golden: "robot_groupMessages_send/permission_denied"},
		{Name: "robotCode empty", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: strings.Replace(sendBody("sampleText", `{"content":"x"}`), robotCode, "", 1), Status: badRequest, Golden: "robot_groupMessages_send/robot_code_empty"},
		{Name: "msgKey unknown", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleNope", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/msg_key_invalid"},
		{Name: "msgKey absent", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: `{"msgParam":"{}","openConversationId":"{{openid}}","robotCode":"` + robotCode + `"}`, Status: badRequest, Golden: "robot_groupMessages_send/msg_key_absent"},
		{Name: "msgParam not JSON", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", `content=x`), Status: badRequest, Golden: "robot_groupMessages_send/msg_param_not_json"},
		{Name: "msgParam a JSON array", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", `[{"content":"x"}]`), Status: badRequest, Golden: "robot_groupMessages_send/msg_param_array"},
		{Name: "msgParam an object, not a string", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: `{"msgParam":{"content":"x"},"msgKey":"sampleText","openConversationId":"{{openid}}","robotCode":"` + robotCode + `"}`, Status: badRequest, Golden: "robot_groupMessages_send/msg_param_object"},
		{Name: "msgParam 15000 bytes", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", fits), Status: ok, Golden: "robot_groupMessages_send/msg_param_15000_bytes"},
		{Name: "msgParam 15002 bytes", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", long), Status: badRequest, Golden: "robot_groupMessages_send/msg_param_too_long"},
		{Name: "sampleText without content", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", `{"title":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/text_without_content"},
		{Name: "sampleMarkdown without text", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleMarkdown", `{"title":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/markdown_without_text"},
		{Name: "sampleActionCard3 without the third button", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleActionCard3", `{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u1","actionTitle2":"b","actionURL2":"u2"}`), Status: badRequest, Golden: "robot_groupMessages_send/action_card3_two_buttons"},
		{Name: "unknown media", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleFile", `{"mediaId":"@nosuch","fileName":"a.pdf","fileType":"pdf"}`), Status: badRequest, Golden: "robot_groupMessages_send/media_unknown"},
		{Name: "openConversationId unknown", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: strings.Replace(sendBody("sampleText", `{"content":"x"}`), "{{openid}}", "cidnosuch==", 1), Status: badRequest, Golden: "robot_groupMessages_send/open_conversation_id_unknown"},
		{Name: "openConversationId empty", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: strings.Replace(sendBody("sampleText", `{"content":"x"}`), "{{openid}}", "", 1), Status: badRequest, Golden: "robot_groupMessages_send/open_conversation_id_empty"},
		{Name: "robot unknown", Setup: robotGroup, Method: post, Path: sendPath, Header: h, Body: strings.Replace(sendBody("sampleText", `{"content":"x"}`), robotCode, "dingnosuchrobot", 1), Status: badRequest, Golden: "robot_groupMessages_send/robot_unknown"},
		{Name: "robot not in group", Setup: func(e *servertest.Env) {
			robotGroup(e)
			e.Group("另一个群", "manager4220", "wangwu")
		}, Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/robot_not_in_group"},
		{Name: "group disbanded", Setup: both(robotGroup, disband), Method: post, Path: sendPath, Header: h, Body: sendBody("sampleText", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/group_disbanded"},
		{Name: "other corp's token", Setup: robotGroup, Method: post, Path: sendPath, Header: hdr("other_token"), Body: sendBody("sampleText", `{"content":"x"}`), Status: badRequest, Golden: "robot_groupMessages_send/other_corp"},
	}...)
	servertest.Run(t, cases, *update)
}

func TestRobotQueryGolden(t *testing.T) {
	h := hdr("token")
	q := func(extra string) string {
		return `{"processQueryKey":"{{key}}","openConversationId":"{{openid}}","robotCode":"` + robotCode + `"` + extra + `}`
	}
	servertest.Run(t, []servertest.Case{
		{Name: "unread", Setup: sent, Method: post, Path: queryPath, Header: h, Body: q(""), Status: ok, Golden: "robot_groupMessages_query/unread"},
		{Name: "read by two", Setup: both(sent, read("lisi", "manager4220")), Method: post, Path: queryPath, Header: h, Body: q(""), Status: ok, Golden: "robot_groupMessages_query/read"},
		{Name: "first page", Setup: both(sent, read("lisi", "manager4220", "zhangsan")), Method: post, Path: queryPath, Header: h, Body: q(`,"maxResults":2`), Status: ok, Golden: "robot_groupMessages_query/page1",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				next := field(t, r, "nextToken")
				r2 := e.PostV1(queryPath, "{{token}}", q(`,"maxResults":2,"nextToken":"`+next+`"`))
				if got, want := string(r2.Body), `{"sendStatus":"SUCCESS","readUserIds":["lisi"],"hasMore":false}`; got != want {
					t.Errorf("page 2 = %s, want %s", got, want)
				}
			}},
		{Name: "key only", Setup: sent, Method: post, Path: queryPath, Header: h, Body: `{"processQueryKey":"{{key}}"}`, Status: ok, Golden: "robot_groupMessages_query/key_only"},
		{Name: "recalled", Setup: func(e *servertest.Env) {
			sent(e)
			if _, err := e.Svc.RecallRobotMessages(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret), e.Vars["openid"], robotCode, []string{e.Vars["key"]}); err != nil {
				e.T.Fatal(err)
			}
		}, Method: post, Path: queryPath, Header: h, Body: q(""), Status: ok, Golden: "robot_groupMessages_query/recalled"},
		{Name: "key unknown", Setup: sent, Method: post, Path: queryPath, Header: h, Body: `{"processQueryKey":"nosuch"}`, Status: badRequest, Golden: "robot_groupMessages_query/key_unknown"},
		{Name: "key missing", Setup: sent, Method: post, Path: queryPath, Header: h, Body: `{}`, Status: badRequest, Golden: "robot_groupMessages_query/key_missing"},
		{Name: "another robot", Setup: sent, Method: post, Path: queryPath, Header: h, Body: `{"processQueryKey":"{{key}}","robotCode":"dingother"}`, Status: badRequest, Golden: "robot_groupMessages_query/other_robot"},
		{Name: "openConversationId unknown", Setup: sent, Method: post, Path: queryPath, Header: h, Body: `{"processQueryKey":"{{key}}","openConversationId":"cidnosuch=="}`, Status: badRequest, Golden: "robot_groupMessages_query/open_conversation_id_unknown"},
		{Name: "maxResults 201", Setup: sent, Method: post, Path: queryPath, Header: h, Body: q(`,"maxResults":201`), Status: badRequest, Golden: "robot_groupMessages_query/max_results_201"},
		{Name: "nextToken not ours", Setup: sent, Method: post, Path: queryPath, Header: h, Body: q(`,"nextToken":"abc"`), Status: badRequest, Golden: "robot_groupMessages_query/next_token_bad"},
	}, *update)
}

func TestRobotRecallGolden(t *testing.T) {
	h := hdr("token")
	body := func(keys string) string {
		return `{"openConversationId":"{{openid}}","robotCode":"` + robotCode + `","processQueryKeys":` + keys + `}`
	}
	recalledInTimeline := func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		m, err := e.Store.Message(context.Background(), dingtest.CorpID, e.Vars["key"])
		if err != nil || m.RecalledAt == 0 {
			t.Errorf("message = %+v, %v; want it recalled", m, err)
		}
	}
	var many []string
	for i := 0; i <= ding.MaxRecallKeys; i++ {
		many = append(many, "k"+strings.Repeat("x", i))
	}
	servertest.Run(t, []servertest.Case{
		{Name: "one", Setup: sent, Method: post, Path: recallPath, Header: h, Body: body(`["{{key}}"]`), Status: ok, Golden: "robot_groupMessages_recall/one", Check: recalledInTimeline},
		{Name: "mixed", Setup: sent, Method: post, Path: recallPath, Header: h, Body: body(`["{{key}}","nosuch"]`), Status: ok, Golden: "robot_groupMessages_recall/mixed", Check: recalledInTimeline},
		{Name: "twice", Setup: func(e *servertest.Env) {
			sent(e)
			if _, err := e.Svc.RecallRobotMessages(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret), e.Vars["openid"], robotCode, []string{e.Vars["key"]}); err != nil {
				e.T.Fatal(err)
			}
		}, Method: post, Path: recallPath, Header: h, Body: body(`["{{key}}"]`), Status: ok, Golden: "robot_groupMessages_recall/twice"},
		{Name: "21 keys", Setup: sent, Method: post, Path: recallPath, Header: h, Body: body(jsonText(many)), Status: badRequest, Golden: "robot_groupMessages_recall/keys_21"},
		{Name: "no keys", Setup: sent, Method: post, Path: recallPath, Header: h, Body: `{"openConversationId":"{{openid}}","robotCode":"` + robotCode + `"}`, Status: badRequest, Golden: "robot_groupMessages_recall/keys_missing"},
		{Name: "robotCode empty", Setup: sent, Method: post, Path: recallPath, Header: h, Body: `{"openConversationId":"{{openid}}","processQueryKeys":["{{key}}"]}`, Status: badRequest, Golden: "robot_groupMessages_recall/robot_code_empty"},
		{Name: "openConversationId unknown", Setup: sent, Method: post, Path: recallPath, Header: h, Body: `{"openConversationId":"cidnosuch==","robotCode":"` + robotCode + `","processQueryKeys":["{{key}}"]}`, Status: badRequest, Golden: "robot_groupMessages_recall/open_conversation_id_unknown"},
	}, *update)
}

// TestRobotOfficialSDK drives the three calls through the official Go SDK's
// robot_1_0 client: its request shapes reach the handlers and its response
// types decode what comes back.
func TestRobotOfficialSDK(t *testing.T) {
	e := servertest.New(t)
	robotGroup(e)
	c, err := robot.NewClient(&openapi.Config{Protocol: tea.String("http"), Endpoint: tea.String(strings.TrimPrefix(e.URL, "http://"))})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.Expand("{{token}}")
	rt := &util.RuntimeOptions{}
	send, err := c.OrgGroupSendWithOptions(&robot.OrgGroupSendRequest{
		MsgKey: tea.String("sampleMarkdown"), MsgParam: tea.String(`{"title":"SDK","text":"**加粗**"}`),
		OpenConversationId: tea.String(e.Vars["openid"]), RobotCode: tea.String(robotCode),
	}, &robot.OrgGroupSendHeaders{XAcsDingtalkAccessToken: &tok}, rt)
	if err != nil {
		t.Fatalf("OrgGroupSend: %v", err)
	}
	key := tea.StringValue(send.Body.ProcessQueryKey)
	if key == "" {
		t.Fatalf("OrgGroupSend body = %v, want a processQueryKey", send.Body)
	}
	q, err := c.OrgGroupQueryWithOptions(&robot.OrgGroupQueryRequest{ProcessQueryKey: &key, OpenConversationId: tea.String(e.Vars["openid"]),
		RobotCode: tea.String(robotCode), MaxResults: tea.Int64(10)}, &robot.OrgGroupQueryHeaders{XAcsDingtalkAccessToken: &tok}, rt)
	if err != nil {
		t.Fatalf("OrgGroupQuery: %v", err)
	}
	if got, want := tea.StringValue(q.Body.SendStatus), "SUCCESS"; got != want {
		t.Fatalf("sendStatus = %q, want %q", got, want)
	}
	rc, err := c.OrgGroupRecallWithOptions(&robot.OrgGroupRecallRequest{OpenConversationId: tea.String(e.Vars["openid"]), RobotCode: tea.String(robotCode),
		ProcessQueryKeys: tea.StringSlice([]string{key, "nosuch"})}, &robot.OrgGroupRecallHeaders{XAcsDingtalkAccessToken: &tok}, rt)
	if err != nil {
		t.Fatalf("OrgGroupRecall: %v", err)
	}
	if len(rc.Body.SuccessResult) != 1 || tea.StringValue(rc.Body.SuccessResult[0]) != key || tea.StringValue(rc.Body.FailedResult["nosuch"]) != "NOT_FOUND" {
		t.Fatalf("recall = %v", rc.Body)
	}
	// an error reaches the SDK as its code
	_, err = c.OrgGroupSendWithOptions(&robot.OrgGroupSendRequest{MsgKey: tea.String("sampleText"), MsgParam: tea.String(`{"content":"x"}`),
		OpenConversationId: tea.String(e.Vars["openid"]), RobotCode: tea.String("")}, &robot.OrgGroupSendHeaders{XAcsDingtalkAccessToken: &tok}, rt)
	var sdkErr *tea.SDKError
	if !asSDKError(err, &sdkErr) || tea.StringValue(sdkErr.Code) != "invalidParameter.robotCode.empty" {
		t.Fatalf("OrgGroupSend without robotCode: err = %v, want code invalidParameter.robotCode.empty", err)
	}
}

func asSDKError(err error, target **tea.SDKError) bool {
	e, ok := err.(*tea.SDKError)
	if ok {
		*target = e
	}
	return ok
}
