package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	im "github.com/alibabacloud-go/dingtalk/im_1_0"
	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// sdkConfig points the official SDK at host: plain HTTP, no path prefix.
func sdkConfig(host string) *openapi.Config {
	return &openapi.Config{Protocol: tea.String("http"), Endpoint: tea.String(host)}
}

func imClient(t *testing.T, host string) *im.Client {
	t.Helper()
	c, err := im.NewClient(sdkConfig(host))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// v1Token gets a token through POST /v1.0/oauth2/accessToken.
func v1Token(t *testing.T, host string) string {
	t.Helper()
	c, err := oauth2.NewClient(sdkConfig(host))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.GetAccessToken(&oauth2.GetAccessTokenRequest{AppKey: tea.String(appKey), AppSecret: tea.String(appSecret)})
	if err != nil {
		t.Fatalf("GetAccessToken: %v", err)
	}
	if got, want := tea.Int32Value(resp.StatusCode), int32(200); got != want {
		t.Fatalf("GetAccessToken status = %d, want %d", got, want)
	}
	if resp.Body == nil || tea.StringValue(resp.Body.AccessToken) == "" {
		t.Fatalf("GetAccessToken body = %v, want an accessToken", resp.Body)
	}
	if got, want := tea.Int64Value(resp.Body.ExpireIn), int64(7200); got != want {
		t.Fatalf("expireIn = %d, want %d", got, want)
	}
	return tea.StringValue(resp.Body.AccessToken)
}

func strs(ss ...string) []*string { return tea.StringSlice(ss) }

// v1CreateGroup creates an internal group through the SDK's CreateGroup.
func v1CreateGroup(t *testing.T, host, token, name, owner string, members ...string) *im.CreateGroupResponseBody {
	t.Helper()
	resp, err := imClient(t, host).CreateGroupWithOptions(
		&im.CreateGroupRequest{Name: tea.String(name), Owner: tea.String(owner), Useridlist: strs(members...)},
		&im.CreateGroupHeaders{XAcsDingtalkAccessToken: tea.String(token)}, &util.RuntimeOptions{})
	if err != nil {
		t.Fatalf("CreateGroup %q: %v", name, err)
	}
	if resp.Body == nil || tea.StringValue(resp.Body.Chatid) == "" {
		t.Fatalf("CreateGroup body = %v", resp.Body)
	}
	return resp.Body
}

// v1Convert runs ChatIdToOpenConversationId.
func v1Convert(t *testing.T, host, token, chatID string) string {
	t.Helper()
	resp, err := imClient(t, host).ChatIdToOpenConversationIdWithOptions(tea.String(chatID),
		&im.ChatIdToOpenConversationIdHeaders{XAcsDingtalkAccessToken: tea.String(token)}, &util.RuntimeOptions{})
	if err != nil {
		t.Fatalf("ChatIdToOpenConversationId %s: %v", chatID, err)
	}
	return tea.StringValue(resp.Body.OpenConversationId)
}

// sdkError asserts err is the SDK's error for an HTTP status and code.
func sdkError(t *testing.T, what string, err error, status int, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %d %s", what, status, code)
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %T %v, want *tea.SDKError", what, err, err)
	}
	if got := tea.StringValue(se.Code); got != code {
		t.Errorf("%s: Code = %q, want %q (%v)", what, got, code, err)
	}
	if got := tea.IntValue(se.StatusCode); got != status {
		t.Errorf("%s: StatusCode = %d, want %d", what, got, status)
	}
	// the SDK folds status, message and request id into Message
	if got := tea.StringValue(se.Message); !strings.Contains(got, msg) || !strings.Contains(got, "request id: ") ||
		strings.HasSuffix(got, "request id: ") {
		t.Errorf("%s: Message = %q, want it to carry %q and a request id", what, got, msg)
	}
}

func TestOfficialGoSDK(t *testing.T) {
	t.Parallel()
	p, _ := startOrg(t)
	token := v1Token(t, p.Host)
	c := imClient(t, p.Host)
	hdr := func() *string { return tea.String(token) }
	rt := &util.RuntimeOptions{}

	// CreateGroup with every management switch set
	name := "项目群 Alpha·一"
	created, err := c.CreateGroupWithOptions(&im.CreateGroupRequest{
		Name: tea.String(name), Owner: tea.String("manager4220"),
		Useridlist: strs("manager4220", "zhangsan", "lisi"),
		ManagementOptions: &im.CreateGroupRequestManagementOptions{
			ShowHistoryType: tea.Int32(1), Searchable: tea.Int32(1), ValidationType: tea.Int32(1),
			MentionAllAuthority: tea.Int32(1), ManagementType: tea.Int32(1), ChatBannedType: tea.Int32(0),
		},
	}, &im.CreateGroupHeaders{XAcsDingtalkAccessToken: hdr()}, rt)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if got, want := tea.Int32Value(created.StatusCode), int32(200); got != want {
		t.Fatalf("CreateGroup status = %d, want %d", got, want)
	}
	body := created.Body
	chatID, openID := tea.StringValue(body.Chatid), tea.StringValue(body.OpenConversationId)
	if !strings.HasPrefix(chatID, "chat") || len(chatID) != 36 {
		t.Errorf("chatid = %q, want chat + 32 hex", chatID)
	}
	if !strings.HasPrefix(openID, "cid") {
		t.Errorf("openConversationId = %q, want cid…", openID)
	}
	if got, want := tea.Int64Value(body.ConversationTag), int64(2); got != want {
		t.Errorf("conversationTag = %d, want %d", got, want)
	}
	if got, want := tea.StringValue(created.Headers["content-type"]), "application/json;charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}

	// the legacy surface sees the same group; the v1.0 token works there
	info := chatGet(t, p.Base, token, chatID)
	if info.Name != name || info.Owner != "manager4220" || !sameSet(info.UserIDList, []string{"manager4220", "zhangsan", "lisi"}) {
		t.Errorf("chat/get after CreateGroup = %+v", info)
	}
	if info.ShowHistoryType != 1 || info.Searchable != 1 || info.ValidationType != 1 || info.MentionAllAuthority != 1 ||
		info.ManagementType != 1 || info.ChatBannedType != 0 {
		t.Errorf("management options after CreateGroup = %+v, want 1,1,1,1,1,0", info)
	}

	// UpdateGroup: rename, add wangwu, remove lisi, mute
	upd, err := c.UpdateGroupWithOptions(&im.UpdateGroupRequest{
		Chatid: tea.String(chatID), Name: tea.String("项目群 Beta"),
		AddUseridlist: strs("wangwu"), DelUseridlist: strs("lisi"),
		ManagementOptions: &im.UpdateGroupRequestManagementOptions{ChatBannedType: tea.Int32(1)},
	}, &im.UpdateGroupHeaders{XAcsDingtalkAccessToken: hdr()}, rt)
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if upd.Body == nil || !tea.BoolValue(upd.Body.Success) {
		t.Errorf("UpdateGroup body = %v, want success true", upd.Body)
	}
	info = chatGet(t, p.Base, token, chatID)
	if info.Name != "项目群 Beta" || !sameSet(info.UserIDList, []string{"manager4220", "zhangsan", "wangwu"}) ||
		info.ChatBannedType != 1 || info.Searchable != 1 {
		t.Errorf("chat/get after UpdateGroup = %+v", info)
	}

	// UpdateGroup hands the group to another member
	upd, err = c.UpdateGroupWithOptions(&im.UpdateGroupRequest{Chatid: tea.String(chatID), Owner: tea.String("zhangsan")},
		&im.UpdateGroupHeaders{XAcsDingtalkAccessToken: hdr()}, rt)
	if err != nil || !tea.BoolValue(upd.Body.Success) {
		t.Fatalf("UpdateGroup owner: %v, %v", upd.Body, err)
	}
	if info = chatGet(t, p.Base, token, chatID); info.Owner != "zhangsan" || info.Name != "项目群 Beta" {
		t.Errorf("chat/get after the owner change = %+v", info)
	}

	// ChatSubAdminUpdate answers success as the string "true"
	sub, err := c.ChatSubAdminUpdateWithOptions(&im.ChatSubAdminUpdateRequest{
		OpenConversationId: tea.String(openID), UserIds: strs("zhangsan"), Role: tea.Int32(2),
	}, &im.ChatSubAdminUpdateHeaders{XAcsDingtalkAccessToken: hdr()}, rt)
	if err != nil {
		t.Fatalf("ChatSubAdminUpdate: %v", err)
	}
	if sub.Body == nil || tea.StringValue(sub.Body.Success) != "true" {
		t.Errorf("ChatSubAdminUpdate body = %v, want success \"true\"", sub.Body)
	}
	sub, err = c.ChatSubAdminUpdateWithOptions(&im.ChatSubAdminUpdateRequest{
		OpenConversationId: tea.String(openID), UserIds: strs("zhangsan"), Role: tea.Int32(3),
	}, &im.ChatSubAdminUpdateHeaders{XAcsDingtalkAccessToken: hdr()}, rt)
	if err != nil || tea.StringValue(sub.Body.Success) != "true" {
		t.Fatalf("ChatSubAdminUpdate role 3 = %v, %v", sub, err)
	}

	// ChatIdToOpenConversationId maps the chatid back to the open id
	if got := v1Convert(t, p.Host, token, chatID); got != openID {
		t.Errorf("ChatIdToOpenConversationId = %q, want %q", got, openID)
	}

	// a legacy token works in the v1.0 header
	legacyToken := getToken(t, p.Base, appKey, appSecret)
	if got := v1Convert(t, p.Host, legacyToken, chatID); got != openID {
		t.Errorf("ChatIdToOpenConversationId with a /gettoken token = %q, want %q", got, openID)
	}
	// and issuing that one did not revoke the v1.0 token
	if got := v1Convert(t, p.Host, token, chatID); got != openID {
		t.Errorf("v1.0 token after /gettoken: %q", got)
	}
}

func TestOfficialGoSDKErrors(t *testing.T) {
	t.Parallel()
	p, _ := startOrg(t)
	token := v1Token(t, p.Host)
	c := imClient(t, p.Host)
	rt := &util.RuntimeOptions{}
	group := v1CreateGroup(t, p.Host, token, "错误用例群", "manager4220", "manager4220", "zhangsan")

	_, err := c.CreateGroupWithOptions(&im.CreateGroupRequest{Name: tea.String("x"), Owner: tea.String("manager4220"), Useridlist: strs("manager4220")},
		&im.CreateGroupHeaders{XAcsDingtalkAccessToken: tea.String("not-a-token")}, rt)
	sdkError(t, "CreateGroup with a bad token", err, http.StatusBadRequest, "InvalidAuthentication", "不合法的access_token")

	// the plain CreateGroup sends no token header at all
	_, err = c.CreateGroup(&im.CreateGroupRequest{Name: tea.String("x"), Owner: tea.String("manager4220"), Useridlist: strs("manager4220")})
	sdkError(t, "CreateGroup without a token", err, http.StatusBadRequest, "AuthenticationFailed.MissingParameter", "x-acs-dingtalk-access-token")

	hdr := &im.CreateGroupHeaders{XAcsDingtalkAccessToken: tea.String(token)}
	for _, tc := range []struct {
		what string
		req  *im.CreateGroupRequest
	}{
		{"empty name", &im.CreateGroupRequest{Name: tea.String(""), Owner: tea.String("manager4220"), Useridlist: strs("manager4220")}},
		{"name of 21 characters", &im.CreateGroupRequest{Name: tea.String(strings.Repeat("群", 21)), Owner: tea.String("manager4220"), Useridlist: strs("manager4220")}},
		{"owner not a member", &im.CreateGroupRequest{Name: tea.String("群"), Owner: tea.String("manager4220"), Useridlist: strs("zhangsan")}},
		{"unknown member", &im.CreateGroupRequest{Name: tea.String("群"), Owner: tea.String("manager4220"), Useridlist: strs("manager4220", "nobody")}},
		{"option out of range", &im.CreateGroupRequest{Name: tea.String("群"), Owner: tea.String("manager4220"), Useridlist: strs("manager4220"),
			ManagementOptions: &im.CreateGroupRequestManagementOptions{Searchable: tea.Int32(7)}}},
	} {
		_, err := c.CreateGroupWithOptions(tc.req, hdr, rt)
		sdkError(t, "CreateGroup with "+tc.what, err, http.StatusBadRequest, "parameter.invalid", "输入参数错误")
	}

	_, err = c.UpdateGroupWithOptions(&im.UpdateGroupRequest{Chatid: tea.String("chat00000000000000000000000000000000"), Name: tea.String("x")},
		&im.UpdateGroupHeaders{XAcsDingtalkAccessToken: tea.String(token)}, rt)
	sdkError(t, "UpdateGroup of an unknown chatid", err, http.StatusBadRequest, "parameter.invalid", "输入参数错误")

	_, err = c.UpdateGroupWithOptions(&im.UpdateGroupRequest{Chatid: group.Chatid, AddUseridlist: strs("lisi"), DelUseridlist: strs("lisi")},
		&im.UpdateGroupHeaders{XAcsDingtalkAccessToken: tea.String(token)}, rt)
	sdkError(t, "UpdateGroup adding and removing one user", err, http.StatusBadRequest, "parameter.invalid", "输入参数错误")

	_, err = c.ChatSubAdminUpdateWithOptions(&im.ChatSubAdminUpdateRequest{
		OpenConversationId: group.OpenConversationId, UserIds: strs("zhangsan"), Role: tea.Int32(5),
	}, &im.ChatSubAdminUpdateHeaders{XAcsDingtalkAccessToken: tea.String(token)}, rt)
	sdkError(t, "ChatSubAdminUpdate with role 5", err, http.StatusBadRequest, "invalidParamter.role", "role")

	_, err = c.ChatIdToOpenConversationIdWithOptions(tea.String("chatnosuchgroup"),
		&im.ChatIdToOpenConversationIdHeaders{XAcsDingtalkAccessToken: tea.String(token)}, rt)
	sdkError(t, "ChatIdToOpenConversationId of an unknown chatid", err, http.StatusBadRequest, "invalideChatId", "不合法的chatId")

	oc, err := oauth2.NewClient(sdkConfig(p.Host))
	if err != nil {
		t.Fatal(err)
	}
	_, err = oc.GetAccessToken(&oauth2.GetAccessTokenRequest{AppKey: tea.String(appKey), AppSecret: tea.String("wrong")})
	sdkError(t, "GetAccessToken with a wrong secret", err, http.StatusBadRequest, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
}

// v1Raw posts body to a v1.0 path with the token header and returns the
// status and the decoded JSON object.
func v1Raw(t *testing.T, base, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPost, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json;charset=utf-8"; got != want {
		t.Errorf("POST %s: Content-Type = %q, want %q", path, got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST %s: body %s is not a JSON object: %v", path, raw, err)
	}
	return resp.StatusCode, m
}

// The Go SDK decodes fuzzily (tea.Convert turns true into "true" and "2"
// into 2), so it would not notice a wrong JSON type; stricter clients
// would. This checks the types on the wire.
func TestV1WireTypes(t *testing.T) {
	t.Parallel()
	p, _ := startOrg(t)
	want := func(what string, got any, v any) {
		t.Helper()
		if got != v {
			t.Errorf("%s = %#v (%T), want %#v (%T)", what, got, got, v, v)
		}
	}

	status, tok := v1Raw(t, p.Base, "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": appKey, "appSecret": appSecret})
	want("accessToken status", status, 200)
	want("expireIn", tok["expireIn"], float64(7200))
	token, _ := tok["accessToken"].(string)

	status, created := v1Raw(t, p.Base, "/v1.0/im/group/create", token, map[string]any{
		"name": "线上类型", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"},
	})
	want("group/create status", status, 200)
	want("conversationTag", created["conversationTag"], float64(2))
	chatID, _ := created["chatid"].(string)
	openID, _ := created["openConversationId"].(string)
	if chatID == "" || openID == "" {
		t.Fatalf("group/create = %v", created)
	}

	status, upd := v1Raw(t, p.Base, "/v1.0/im/group/update", token, map[string]any{"chatid": chatID, "add_useridlist": []string{"lisi"}})
	want("group/update status", status, 200)
	want("group/update success", upd["success"], true)

	status, sub := v1Raw(t, p.Base, "/v1.0/im/subAdministrators", token, map[string]any{
		"openConversationId": openID, "userIds": []string{"lisi"}, "role": 2,
	})
	want("subAdministrators status", status, 200)
	want("subAdministrators success", sub["success"], "true")

	status, conv := v1Raw(t, p.Base, "/v1.0/im/chat/"+chatID+"/convertToOpenConversationId", token, nil)
	want("convertToOpenConversationId status", status, 200)
	want("openConversationId", conv["openConversationId"], openID)

	status, e := v1Raw(t, p.Base, "/v1.0/im/group/create", "bogus", map[string]any{})
	want("bad token status", status, 400)
	want("bad token code", e["code"], "InvalidAuthentication")
	want("bad token message", e["message"], "不合法的access_token")
	if id, _ := e["requestid"].(string); id == "" {
		t.Errorf("error body %v has no requestid", e)
	}
}
