package v1api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	ok         = http.StatusOK
	badRequest = http.StatusBadRequest
	forbidden  = http.StatusForbidden
	notFound   = http.StatusNotFound
	get        = http.MethodGet
	post       = http.MethodPost

	createPath = "/v1.0/im/group/create"
	updatePath = "/v1.0/im/group/update"
	subPath    = "/v1.0/im/subAdministrators"
	convert    = "/v1.0/im/chat/{{chatid}}/convertToOpenConversationId"
)

// expired sets {{token}} and moves the clock to the end of its 7200 s lifetime.
func expired(e *servertest.Env) {
	e.Expand("{{token}}")
	e.Clock.Advance(ding.TokenTTL * time.Second)
}

func both(fs ...func(e *servertest.Env)) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		for _, f := range fs {
			f(e)
		}
	}
}

// groupAdmins lists the fixture group's admins through the service.
func groupAdmins(t testing.TB, e *servertest.Env) []string {
	t.Helper()
	v, err := e.Svc.GetGroup(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret), service.GroupRef{ChatID: e.Vars["chatid"]})
	if err != nil {
		t.Fatal(err)
	}
	return v.Admins
}

func TestAccessTokenGolden(t *testing.T) {
	path := "/v1.0/oauth2/accessToken"
	creds := `{"appKey":"` + dingtest.AppKey + `","appSecret":"` + dingtest.AppSecret + `"}`
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Method: post, Path: path, Body: creds, Status: ok, Golden: "oauth2_accessToken/ok"},
		{Name: "chunked", Method: post, Path: path, Body: creds, Chunked: true, Status: ok, Golden: "oauth2_accessToken/chunked"},
		{Name: "SDK content type", Method: post, Path: path, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: creds, Status: ok, Golden: "oauth2_accessToken/sdk_content_type"},
		{Name: "bad secret", Method: post, Path: path, Body: `{"appKey":"` + dingtest.AppKey + `","appSecret":"wrong"}`, Status: badRequest, Golden: "oauth2_accessToken/bad_secret"},
		{Name: "unknown key", Method: post, Path: path, Body: `{"appKey":"dingnosuchkey","appSecret":"x"}`, Status: badRequest, Golden: "oauth2_accessToken/unknown_key"},
		{Name: "appKey missing", Method: post, Path: path, Body: `{"appSecret":"` + dingtest.AppSecret + `"}`, Status: badRequest, Golden: "oauth2_accessToken/app_key_missing"},
		{Name: "appSecret missing", Method: post, Path: path, Body: `{"appKey":"` + dingtest.AppKey + `"}`, Status: badRequest, Golden: "oauth2_accessToken/app_secret_missing"},
		{Name: "empty body", Method: post, Path: path, Status: badRequest, Golden: "oauth2_accessToken/empty_body"},
		{Name: "legacy snake_case names", Method: post, Path: path, Body: `{"appkey":"` + dingtest.AppKey + `","appsecret":"` + dingtest.AppSecret + `"}`, Status: badRequest, Golden: "oauth2_accessToken/snake_case"},
		{Name: "malformed JSON", Method: post, Path: path, Body: `{"appKey":`, Status: badRequest, Golden: "oauth2_accessToken/malformed_json"},
		{Name: "appKey a list", Method: post, Path: path, Body: `{"appKey":["a"],"appSecret":"b"}`, Status: badRequest, Golden: "oauth2_accessToken/app_key_list"},
		{Name: "GET", Method: get, Path: path, Status: notFound, Golden: "oauth2_accessToken/get"},
	}, *update)
}

func TestGroupCreateGolden(t *testing.T) {
	named := func(name string) string {
		return `{"name":"` + name + `","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`
	}
	created := func(check func(t *testing.T, info map[string]any)) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			check(t, servertest.ChatInfo(t, e, field(t, r, "chatid")))
		}
	}
	nameIs := func(want string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return created(func(t *testing.T, info map[string]any) {
			if info["name"] != want {
				t.Errorf("name = %v, want %q", info["name"], want)
			}
		})
	}
	tok := hdr("token")
	servertest.Run(t, []servertest.Case{
		{Name: "minimal", Method: post, Path: createPath, Header: tok, Body: named("项目群"), Status: ok, Golden: "im_group_create/minimal", Check: nameIs("项目群")},
		{Name: "all fields", Method: post, Path: createPath, Header: tok, Status: ok, Golden: "im_group_create/all_fields",
			Body: `{"name":"全选项群","owner":"zhangsan","ownerType":"emp","useridlist":["manager4220","zhangsan"],"conversationTag":2,"icon":"@lADPDfJ6Q7LLejDNAljNAlg",` +
				`"managementOptions":{"showHistoryType":1,"searchable":1,"validationType":1,"mentionAllAuthority":1,"managementType":1,"chatBannedType":1}}`,
			Check: created(func(t *testing.T, info map[string]any) {
				for _, k := range []string{"showHistoryType", "searchable", "validationType", "mentionAllAuthority", "managementType", "chatBannedType"} {
					if jsonText(info[k]) != "1" {
						t.Errorf("%s = %v, want 1", k, info[k])
					}
				}
			})},
		{Name: "options as strings", Method: post, Path: createPath, Header: tok, Status: ok, Golden: "im_group_create/options_strings",
			Body: `{"name":"字符串","owner":"manager4220","useridlist":["manager4220"],"conversationTag":"2","managementOptions":{"showHistoryType":"1","chatBannedType":"1"}}`,
			Check: created(func(t *testing.T, info map[string]any) {
				if jsonText(info["showHistoryType"]) != "1" || jsonText(info["chatBannedType"]) != "1" {
					t.Errorf("chat_info = %v", info)
				}
			})},
		{Name: "chunked", Method: post, Path: createPath, Header: tok, Body: named("分块群"), Chunked: true, Status: ok, Golden: "im_group_create/chunked",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if s := e.LastSeen(); s.ContentLength != -1 || !slices.Equal(s.TransferEncoding, []string{"chunked"}) {
					t.Errorf("request arrived as %+v, want chunked without length", s)
				}
				nameIs("分块群")(t, e, r)
			}},
		{Name: "JSON labelled text/plain", Method: post, Path: createPath, Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}", "Content-Type": "text/plain"}, Body: named("纯文本群"), Status: ok, Golden: "im_group_create/text_plain"},

		{Name: "name 0 chars", Method: post, Path: createPath, Header: tok, Body: named(""), Status: badRequest, Golden: "im_group_create/name_0_chars"},
		{Name: "name 1 char", Method: post, Path: createPath, Header: tok, Body: named(cjk(1)), Status: ok, Golden: "im_group_create/name_1_char", Check: nameIs(cjk(1))},
		{Name: "name 20 chars", Method: post, Path: createPath, Header: tok, Body: named(cjk(20)), Status: ok, Golden: "im_group_create/name_20_chars", Check: nameIs(cjk(20))},
		{Name: "name 21 chars", Method: post, Path: createPath, Header: tok, Body: named(cjk(21)), Status: badRequest, Golden: "im_group_create/name_21_chars"},
		{Name: "name 20 emoji", Method: post, Path: createPath, Header: tok, Body: named(emoji(20)), Status: ok, Golden: "im_group_create/name_20_emoji", Check: nameIs(emoji(20))},
		{Name: "name 21 emoji", Method: post, Path: createPath, Header: tok, Body: named(emoji(21)), Status: badRequest, Golden: "im_group_create/name_21_emoji"},

		{Name: "useridlist 40", Method: post, Path: createPath, Header: tok, Body: `{"name":"四十人","owner":"user0001","useridlist":` + users(1, 40) + `}`, Status: ok, Golden: "im_group_create/useridlist_40"},
		{Name: "useridlist 41", Method: post, Path: createPath, Header: tok, Body: `{"name":"四十一人","owner":"user0001","useridlist":` + users(1, 41) + `}`, Status: badRequest, Golden: "im_group_create/useridlist_41"},
		{Name: "useridlist empty", Method: post, Path: createPath, Header: tok, Body: `{"name":"空","owner":"manager4220","useridlist":[]}`, Status: badRequest, Golden: "im_group_create/useridlist_empty"},
		{Name: "useridlist a number", Method: post, Path: createPath, Header: tok, Body: `{"name":"类型","owner":"manager4220","useridlist":5}`, Status: badRequest, Golden: "im_group_create/useridlist_number"},
		{Name: "unknown user", Method: post, Path: createPath, Header: tok, Body: `{"name":"陌生","owner":"manager4220","useridlist":["manager4220","nobody"]}`, Status: badRequest, Golden: "im_group_create/unknown_user"},
		{Name: "owner missing", Method: post, Path: createPath, Header: tok, Body: `{"name":"无主","useridlist":["manager4220"]}`, Status: badRequest, Golden: "im_group_create/owner_missing"},
		{Name: "owner not member", Method: post, Path: createPath, Header: tok, Body: `{"name":"在外","owner":"wangwu","useridlist":["manager4220"]}`, Status: badRequest, Golden: "im_group_create/owner_not_member"},
		{Name: "owner outside the app's visibility", Method: post, Path: createPath, Header: hdr("narrow_token"), Body: `{"name":"可见性","owner":"lisi","useridlist":["lisi","zhangsan"]}`, Status: badRequest, Golden: "im_group_create/owner_not_visible"},

		{Name: "options 0", Method: post, Path: createPath, Header: tok, Body: `{"name":"零","owner":"manager4220","useridlist":["manager4220"],"managementOptions":{"searchable":0,"chatBannedType":0}}`, Status: ok, Golden: "im_group_create/options_0"},
		{Name: "option 1", Method: post, Path: createPath, Header: tok, Body: `{"name":"一","owner":"manager4220","useridlist":["manager4220"],"managementOptions":{"searchable":1}}`, Status: ok, Golden: "im_group_create/option_1"},
		{Name: "option 2", Method: post, Path: createPath, Header: tok, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"managementOptions":{"searchable":2}}`, Status: badRequest, Golden: "im_group_create/option_2"},
		{Name: "managementOptions not an object", Method: post, Path: createPath, Header: tok, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"managementOptions":[1]}`, Status: badRequest, Golden: "im_group_create/management_options_list"},
		{Name: "managementOptions as JSON text", Method: post, Path: createPath, Header: tok, Body: `{"name":"文本","owner":"manager4220","useridlist":["manager4220"],"managementOptions":"{\"searchable\":1}"}`, Status: ok, Golden: "im_group_create/management_options_text"},

		{Name: "conversationTag 0 not allow-listed", Method: post, Path: createPath, Header: tok, Body: `{"name":"普通群","owner":"manager4220","useridlist":["manager4220"],"conversationTag":0}`, Status: badRequest, Golden: "im_group_create/conversation_tag_0_not_allowed"},
		{Name: "conversationTag 0 allow-listed", Method: post, Path: createPath, Header: hdr("ordinary_token"), Status: ok, Golden: "im_group_create/conversation_tag_0_allowed",
			Body: `{"name":"普通群","owner":"manager4220","useridlist":["manager4220"],"extidlist":["ext001","ext002"],"conversationTag":0}`,
			Check: created(func(t *testing.T, info map[string]any) {
				if jsonText(info["extidlist"]) != `["ext001","ext002"]` || jsonText(info["conversationTag"]) != "0" {
					t.Errorf("chat_info = %v", info)
				}
			})},
		{Name: "external owner", Method: post, Path: createPath, Header: hdr("ordinary_token"), Status: ok, Golden: "im_group_create/owner_type_ext",
			Body: `{"name":"外部群主","owner":"ext001","ownerType":"ext","useridlist":["manager4220"],"extidlist":["ext001"],"conversationTag":0}`,
			Check: created(func(t *testing.T, info map[string]any) {
				if info["owner"] != "ext001" {
					t.Errorf("owner = %v", info["owner"])
				}
			})},
		{Name: "conversationTag 1", Method: post, Path: createPath, Header: tok, Body: `{"name":"标签","owner":"manager4220","useridlist":["manager4220"],"conversationTag":1}`, Status: badRequest, Golden: "im_group_create/conversation_tag_1"},
		{Name: "externals in an internal group", Method: post, Path: createPath, Header: tok, Body: `{"name":"企业群","owner":"manager4220","useridlist":["manager4220"],"extidlist":["ext001"]}`, Status: badRequest, Golden: "im_group_create/externals_internal_group"},
		{Name: "extidlist 41", Method: post, Path: createPath, Header: hdr("ordinary_token"), Body: `{"name":"外部","owner":"manager4220","useridlist":["manager4220"],"extidlist":` + exts(1, 41) + `,"conversationTag":0}`, Status: badRequest, Golden: "im_group_create/extidlist_41"},

		{Name: "malformed JSON", Method: post, Path: createPath, Header: tok, Body: `{"name":`, Status: badRequest, Golden: "im_group_create/malformed_json"},
		{Name: "permission denied", Method: post, Path: createPath, Header: hdr("readonly_token"), Body: named("只读"), Status: forbidden, Golden: "im_group_create/permission_denied"},
		{Name: "token missing", Method: post, Path: createPath, Body: named("无令牌"), Status: badRequest, Golden: "im_group_create/token_missing"},
		{Name: "token empty", Method: post, Path: createPath, Header: map[string]string{"x-acs-dingtalk-access-token": " "}, Body: named("空令牌"), Status: badRequest, Golden: "im_group_create/token_blank"},
		{Name: "token invalid", Method: post, Path: createPath, Header: map[string]string{"x-acs-dingtalk-access-token": "bad"}, Body: named("坏令牌"), Status: badRequest, Golden: "im_group_create/token_invalid"},
		{Name: "token expired", Setup: expired, Method: post, Path: createPath, Header: tok, Body: named("过期"), Status: badRequest, Golden: "im_group_create/token_expired"},
		{Name: "token in the query only", Method: post, Path: createPath + "?access_token={{token}}", Body: named("查询令牌"), Status: badRequest, Golden: "im_group_create/token_in_query"},
		{Name: "token as a bearer", Method: post, Path: createPath, Header: map[string]string{"Authorization": "Bearer {{token}}"}, Body: named("持有者"), Status: badRequest, Golden: "im_group_create/token_bearer"},
		{Name: "token header in canonical case", Method: post, Path: createPath, Header: map[string]string{"X-Acs-Dingtalk-Access-Token": "{{token}}"}, Body: named("大小写"), Status: ok, Golden: "im_group_create/token_header_canonical"},
		{Name: "token of the other corp", Method: post, Path: createPath, Header: hdr("other_token"), Body: named("他司"), Status: badRequest, Golden: "im_group_create/other_corp_users"},
	}, *update)
}

func TestGroupUpdateGolden(t *testing.T) {
	body := func(fields string) string { return `{"chatid":"{{chatid}}",` + fields + `}` }
	tok := hdr("token")
	servertest.Run(t, []servertest.Case{
		{Name: "rename", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":"新名字"`), Status: ok, Golden: "im_group_update/rename",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["name"]; got != "新名字" {
					t.Errorf("name = %v", got)
				}
			}},
		{Name: "everything", Setup: group, Method: post, Path: updatePath, Header: tok, Status: ok, Golden: "im_group_update/everything",
			Body: body(`"name":"全改","owner":"wangwu","ownerType":"emp","add_useridlist":["wangwu"],"del_useridlist":["lisi"],"icon":"@media","managementOptions":{"showHistoryType":1,"searchable":1,"validationType":1,"mentionAllAuthority":1,"managementType":1,"chatBannedType":1}`),
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, e.Vars["chatid"])
				if info["owner"] != "wangwu" || jsonText(info["useridlist"]) != `["manager4220","zhangsan","wangwu"]` || jsonText(info["managementType"]) != "1" || info["icon"] != "@media" {
					t.Errorf("chat_info = %v", info)
				}
			}},
		{Name: "options as strings", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"managementOptions":{"chatBannedType":"1"}`), Status: ok, Golden: "im_group_update/options_strings",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["chatBannedType"]; jsonText(got) != "1" {
					t.Errorf("chatBannedType = %v", got)
				}
			}},
		{Name: "name 0 chars", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":""`), Status: badRequest, Golden: "im_group_update/name_0_chars"},
		{Name: "name 20 chars", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":"` + cjk(20) + `"`), Status: ok, Golden: "im_group_update/name_20_chars"},
		{Name: "name 21 chars", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":"` + cjk(21) + `"`), Status: badRequest, Golden: "im_group_update/name_21_chars"},
		{Name: "name 21 emoji", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":"` + emoji(21) + `"`), Status: badRequest, Golden: "im_group_update/name_21_emoji"},
		{Name: "add 40", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":` + users(1, 40)), Status: ok, Golden: "im_group_update/add_40"},
		{Name: "add 41", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":` + users(1, 41)), Status: badRequest, Golden: "im_group_update/add_41"},
		{Name: "del 40", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 43) }, Method: post, Path: updatePath, Header: tok, Body: body(`"del_useridlist":` + users(1, 40)), Status: ok, Golden: "im_group_update/del_40"},
		{Name: "del 41", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 44) }, Method: post, Path: updatePath, Header: tok, Body: body(`"del_useridlist":` + users(1, 41)), Status: badRequest, Golden: "im_group_update/del_41"},
		{Name: "members 1000", Setup: func(e *servertest.Env) { group(e); fill(e, 960) }, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":` + users(958, 40)), Status: ok, Golden: "im_group_update/members_1000",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if n := len(servertest.ChatInfo(t, e, e.Vars["chatid"])["useridlist"].([]any)); n != ding.MaxMembers {
					t.Errorf("%d members, want %d", n, ding.MaxMembers)
				}
			}},
		{Name: "members 1001", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 1000) }, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":["user0998"]`), Status: badRequest, Golden: "im_group_update/members_1001"},
		{Name: "add and del overlap", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":["wangwu"],"del_useridlist":["wangwu"]`), Status: badRequest, Golden: "im_group_update/add_del_overlap"},
		{Name: "externals overlap", Setup: ordinaryGroup, Method: post, Path: updatePath, Header: tok, Body: body(`"add_extidlist":["ext004"],"del_extidlist":["ext004"]`), Status: badRequest, Golden: "im_group_update/ext_overlap"},
		{Name: "externals added and removed", Setup: ordinaryGroup, Method: post, Path: updatePath, Header: tok, Body: body(`"add_extidlist":["ext004"],"del_extidlist":["ext001"]`), Status: ok, Golden: "im_group_update/externals",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := jsonText(servertest.ChatInfo(t, e, e.Vars["chatid"])["extidlist"]); got != `["ext002","ext003","ext004"]` {
					t.Errorf("extidlist = %s", got)
				}
			}},
		{Name: "add_extidlist 41", Setup: ordinaryGroup, Method: post, Path: updatePath, Header: tok, Body: body(`"add_extidlist":` + exts(4, 41)), Status: badRequest, Golden: "im_group_update/add_extidlist_41"},
		{Name: "del_extidlist 40", Setup: ordinaryGroup, Method: post, Path: updatePath, Header: tok, Body: body(`"del_extidlist":` + exts(1, 40)), Status: ok, Golden: "im_group_update/del_extidlist_40",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := jsonText(servertest.ChatInfo(t, e, e.Vars["chatid"])["extidlist"]); got != `[]` {
					t.Errorf("extidlist = %s", got)
				}
			}},
		{Name: "externals added to an internal group", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"add_extidlist":["ext001"]`), Status: badRequest, Golden: "im_group_update/externals_internal_group"},
		{Name: "owner not member", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"owner":"wangwu"`), Status: badRequest, Golden: "im_group_update/owner_not_member"},
		{Name: "owner outside the app's visibility", Setup: group, Method: post, Path: updatePath, Header: hdr("narrow_token"), Body: body(`"owner":"lisi"`), Status: badRequest, Golden: "im_group_update/owner_not_visible"},
		{Name: "option 2", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"managementOptions":{"validationType":2}`), Status: badRequest, Golden: "im_group_update/option_2"},
		{Name: "chatid missing", Setup: group, Method: post, Path: updatePath, Header: tok, Body: `{"name":"无ID"}`, Status: badRequest, Golden: "im_group_update/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: updatePath, Header: tok, Body: `{"chatid":"chat0123456789abcdef0123456789abcdef","name":"无群"}`, Status: badRequest, Golden: "im_group_update/chatid_unknown"},
		{Name: "openConversationId instead of chatid", Setup: group, Method: post, Path: updatePath, Header: tok, Body: `{"chatid":"{{openid}}","name":"开放ID"}`, Status: badRequest, Golden: "im_group_update/open_conversation_id"},
		{Name: "group of another corp", Setup: group, Method: post, Path: updatePath, Header: hdr("other_token"), Body: body(`"name":"他司"`), Status: badRequest, Golden: "im_group_update/other_corp"},
		{Name: "add_useridlist a number", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"add_useridlist":5`), Status: badRequest, Golden: "im_group_update/add_useridlist_number"},
		{Name: "malformed JSON", Setup: group, Method: post, Path: updatePath, Header: tok, Body: `{"chatid":"{{chatid}}",`, Status: badRequest, Golden: "im_group_update/malformed_json"},
		{Name: "chunked", Setup: group, Method: post, Path: updatePath, Header: tok, Body: body(`"name":"分块"`), Chunked: true, Status: ok, Golden: "im_group_update/chunked"},
		{Name: "permission denied", Setup: group, Method: post, Path: updatePath, Header: hdr("readonly_token"), Body: body(`"name":"只读"`), Status: forbidden, Golden: "im_group_update/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: updatePath, Body: body(`"name":"无令牌"`), Status: badRequest, Golden: "im_group_update/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: updatePath, Header: map[string]string{"x-acs-dingtalk-access-token": "bad"}, Body: body(`"name":"坏令牌"`), Status: badRequest, Golden: "im_group_update/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: updatePath, Header: tok, Body: body(`"name":"过期"`), Status: badRequest, Golden: "im_group_update/token_expired"},
	}, *update)
}

func TestSubAdministratorsGolden(t *testing.T) {
	tok := hdr("token")
	adminsAre := func(want ...string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			if got := groupAdmins(t, e); !slices.Equal(got, append([]string{}, want...)) {
				t.Errorf("admins = %v, want %v", got, want)
			}
		}
	}
	servertest.Run(t, []servertest.Case{
		{Name: "set", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan","lisi"],"role":2}`, Status: ok, Golden: "im_subAdministrators/set", Check: adminsAre("zhangsan", "lisi")},
		{Name: "unset", Setup: admins, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":3}`, Status: ok, Golden: "im_subAdministrators/unset", Check: adminsAre()},
		{Name: "role as string", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":"2"}`, Status: ok, Golden: "im_subAdministrators/role_string", Check: adminsAre("zhangsan")},
		{Name: "set again", Setup: admins, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`, Status: ok, Golden: "im_subAdministrators/set_again", Check: adminsAre("zhangsan")},
		{Name: "the owner", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["manager4220"],"role":2}`, Status: ok, Golden: "im_subAdministrators/owner", Check: adminsAre()},
		{Name: "role missing", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"]}`, Status: badRequest, Golden: "im_subAdministrators/role_missing"},
		{Name: "role 1", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":1}`, Status: badRequest, Golden: "im_subAdministrators/role_1"},
		{Name: "role 4", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":4}`, Status: badRequest, Golden: "im_subAdministrators/role_4"},
		{Name: "role not a number", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":"admin"}`, Status: badRequest, Golden: "im_subAdministrators/role_not_number"},
		{Name: "openConversationId missing", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/open_id_missing"},
		{Name: "openConversationId unknown", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"cidnosuchgroup==","userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/open_id_unknown"},
		{Name: "chatid instead of openConversationId", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{chatid}}","userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/chatid"},
		{Name: "group of another corp", Setup: group, Method: post, Path: subPath, Header: hdr("other_token"), Body: `{"openConversationId":"{{openid}}","userIds":["manager4220"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/other_corp"},
		{Name: "userIds missing", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","role":2}`, Status: badRequest, Golden: "im_subAdministrators/user_ids_missing"},
		{Name: "userIds a string", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":"zhangsan","role":2}`, Status: ok, Golden: "im_subAdministrators/user_ids_string"},
		{Name: "userIds a number", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":5,"role":2}`, Status: badRequest, Golden: "im_subAdministrators/user_ids_number"},
		{Name: "userIds 41", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":` + users(1, 41) + `,"role":2}`, Status: badRequest, Golden: "im_subAdministrators/user_ids_41"},
		{Name: "admins 50", Setup: fiftyAdmins(40), Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":` + users(41, 10) + `,"role":2}`, Status: ok, Golden: "im_subAdministrators/admins_50",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if n := len(groupAdmins(t, e)); n != ding.MaxSubAdmins {
					t.Errorf("%d admins, want %d", n, ding.MaxSubAdmins)
				}
			}},
		{Name: "admins 51", Setup: fiftyAdmins(50), Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["user0051"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/admins_51"},
		{Name: "admins 51, one unset in the same group", Setup: fiftyAdmins(50), Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["user0001"],"role":3}`, Status: ok, Golden: "im_subAdministrators/admins_49"},
		{Name: "unknown user", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["nobody"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/unknown_user"},
		{Name: "not a member", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["wangwu"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/not_member"},
		{Name: "one of two not a member", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan","wangwu"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/partly_not_member"},
		{Name: "malformed JSON", Setup: group, Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":`, Status: badRequest, Golden: "im_subAdministrators/malformed_json"},
		{Name: "permission denied", Setup: group, Method: post, Path: subPath, Header: hdr("readonly_token"), Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`, Status: forbidden, Golden: "im_subAdministrators/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: subPath, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: subPath, Header: map[string]string{"x-acs-dingtalk-access-token": "bad"}, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: subPath, Header: tok, Body: `{"openConversationId":"{{openid}}","userIds":["zhangsan"],"role":2}`, Status: badRequest, Golden: "im_subAdministrators/token_expired"},
	}, *update)
}

// fiftyAdmins fills the fixture group to 60 members and makes user0001..n
// admins through HTTP, at most 40 per call.
func fiftyAdmins(n int) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		group(e)
		e.Fill(e.Vars["chatid"], 60)
		for from := 1; from <= n; from += 40 {
			wantOK(e.T, e.PostV1(subPath, "{{token}}", `{"openConversationId":"{{openid}}","userIds":`+users(from, min(40, n-from+1))+`,"role":2}`))
		}
	}
}

func TestConvertGolden(t *testing.T) {
	tok := hdr("token")
	// lisiGroup is owned by lisi, outside the narrow app's visibility.
	lisiGroup := func(e *servertest.Env) { e.Group("李四的群", "lisi", "zhangsan") }
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: group, Method: post, Path: convert, Header: tok, Status: ok, Golden: "im_chat_convertToOpenConversationId/ok",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := field(t, r, "openConversationId"); got != e.Vars["openid"] {
					t.Errorf("openConversationId = %s, want %s", got, e.Vars["openid"])
				}
			}},
		{Name: "with an empty JSON body", Setup: group, Method: post, Path: convert, Header: tok, Body: `{}`, Status: ok, Golden: "im_chat_convertToOpenConversationId/empty_json"},
		{Name: "read-only app", Setup: group, Method: post, Path: convert, Header: hdr("readonly_token"), Status: ok, Golden: "im_chat_convertToOpenConversationId/readonly_app"},
		{Name: "narrow app, owner visible", Setup: group, Method: post, Path: convert, Header: hdr("narrow_token"), Status: ok, Golden: "im_chat_convertToOpenConversationId/owner_visible"},
		{Name: "narrow app, owner not visible", Setup: lisiGroup, Method: post, Path: convert, Header: hdr("narrow_token"), Status: badRequest, Golden: "im_chat_convertToOpenConversationId/owner_not_visible"},
		{Name: "chatid unknown", Method: post, Path: "/v1.0/im/chat/chat0123456789abcdef0123456789abcdef/convertToOpenConversationId", Header: tok, Status: badRequest, Golden: "im_chat_convertToOpenConversationId/chatid_unknown"},
		{Name: "group of another corp", Setup: group, Method: post, Path: convert, Header: hdr("other_token"), Status: badRequest, Golden: "im_chat_convertToOpenConversationId/other_corp"},
		{Name: "chatid empty", Method: post, Path: "/v1.0/im/chat//convertToOpenConversationId", Header: tok, Status: notFound, Golden: "im_chat_convertToOpenConversationId/chatid_empty"},
		{Name: "GET", Setup: group, Method: get, Path: convert, Header: tok, Status: notFound, Golden: "im_chat_convertToOpenConversationId/get"},
		{Name: "token missing", Setup: group, Method: post, Path: convert, Status: badRequest, Golden: "im_chat_convertToOpenConversationId/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: convert, Header: map[string]string{"x-acs-dingtalk-access-token": "bad"}, Status: badRequest, Golden: "im_chat_convertToOpenConversationId/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: convert, Header: tok, Status: badRequest, Golden: "im_chat_convertToOpenConversationId/token_expired"},
	}, *update)
}

func TestUnknownGolden(t *testing.T) {
	tok := hdr("token")
	servertest.Run(t, []servertest.Case{
		{Name: "unknown v1.0 path", Method: post, Path: "/v1.0/im/nosuch", Header: tok, Body: `{}`, Status: notFound, Golden: "unknown/v1_path"},
		{Name: "unknown v1.0 path without token", Method: post, Path: "/v1.0/im/nosuch", Body: `{}`, Status: notFound, Golden: "unknown/v1_path_no_token"},
		{Name: "unknown v2.0 path", Method: post, Path: "/v2.0/im/nosuch", Header: tok, Body: `{}`, Status: notFound, Golden: "unknown/v2_path"},
		{Name: "v1.0 root", Method: get, Path: "/v1.0/", Status: notFound, Golden: "unknown/v1_root"},
		{Name: "wrong method on group/create", Method: get, Path: createPath, Header: tok, Status: notFound, Golden: "unknown/get_group_create"},
		{Name: "PUT on group/update", Method: http.MethodPut, Path: updatePath, Header: tok, Body: `{}`, Status: notFound, Golden: "unknown/put_group_update"},
		{Name: "DELETE on subAdministrators", Method: http.MethodDelete, Path: subPath, Header: tok, Status: notFound, Golden: "unknown/delete_subadministrators"},
		{Name: "path in the wrong case", Method: post, Path: "/v1.0/im/Group/create", Header: tok, Body: `{}`, Status: notFound, Golden: "unknown/wrong_case"},
	}, *update)
}
