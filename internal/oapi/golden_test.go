package oapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

const (
	ok   = http.StatusOK
	get  = http.MethodGet
	post = http.MethodPost
)

// expired sets {{token}} to the default app's token and moves the clock to
// the end of its 7200 s lifetime.
func expired(e *servertest.Env) {
	e.Expand("{{token}}")
	e.Clock.Advance(ding.TokenTTL * time.Second)
}

// nearlyExpired sets {{token}} and moves the clock to 1 ms before its end.
func nearlyExpired(e *servertest.Env) {
	e.Expand("{{token}}")
	e.Clock.Advance(ding.TokenTTL*time.Second - time.Millisecond)
}

func both(fs ...func(e *servertest.Env)) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		for _, f := range fs {
			f(e)
		}
	}
}

func TestGettokenGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "appkey", Method: get, Path: "/gettoken?appkey=" + dingtest.AppKey + "&appsecret=" + dingtest.AppSecret, Status: ok, Golden: "gettoken/appkey"},
		{Name: "appkey params reordered", Method: get, Path: "/gettoken?appsecret=" + dingtest.AppSecret + "&appkey=" + dingtest.AppKey, Status: ok, Golden: "gettoken/appkey_reordered"},
		{Name: "corpid is the corp, corpsecret an app secret", Method: get, Path: "/gettoken?corpid=" + dingtest.CorpID + "&corpsecret=" + dingtest.NarrowAppSecret, Status: ok, Golden: "gettoken/corpid_corp",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				// the token acts as the app whose secret was given
				tok, _ := r.JSON(t)["access_token"].(string)
				res := e.Post("/chat/create?access_token="+tok, `{"name":"群","owner":"lisi","useridlist":["lisi"]}`)
				wantErrcode(t, res, "43007")
			}},
		{Name: "corpid is an app key", Method: get, Path: "/gettoken?corpid=" + dingtest.AppKey + "&corpsecret=" + dingtest.AppSecret, Status: ok, Golden: "gettoken/corpid_appkey"},
		{Name: "missing params", Method: get, Path: "/gettoken", Status: ok, Golden: "gettoken/missing_params"},
		{Name: "params in a GET body are not read", Method: get, Path: "/gettoken", Body: `{"appkey":"` + dingtest.AppKey + `","appsecret":"` + dingtest.AppSecret + `"}`, Status: ok, Golden: "gettoken/get_body_params"},
		{Name: "appkey without secret", Method: get, Path: "/gettoken?appkey=" + dingtest.AppKey, Status: ok, Golden: "gettoken/appkey_missing_secret"},
		{Name: "corpid without secret", Method: get, Path: "/gettoken?corpid=" + dingtest.CorpID, Status: ok, Golden: "gettoken/corpid_missing_secret"},
		{Name: "bad appsecret", Method: get, Path: "/gettoken?appkey=" + dingtest.AppKey + "&appsecret=wrong", Status: ok, Golden: "gettoken/bad_secret"},
		{Name: "unknown appkey", Method: get, Path: "/gettoken?appkey=dingnosuchkey&appsecret=" + dingtest.AppSecret, Status: ok, Golden: "gettoken/unknown_appkey"},
		{Name: "secret of another app", Method: get, Path: "/gettoken?appkey=" + dingtest.AppKey + "&appsecret=" + dingtest.OrdinaryAppSecret, Status: ok, Golden: "gettoken/other_apps_secret"},
		{Name: "bad corpsecret", Method: get, Path: "/gettoken?corpid=" + dingtest.CorpID + "&corpsecret=wrong", Status: ok, Golden: "gettoken/bad_corpsecret"},
		{Name: "corpsecret of another corp", Method: get, Path: "/gettoken?corpid=" + dingtest.CorpID + "&corpsecret=" + dingtest.OtherAppSecret, Status: ok, Golden: "gettoken/corpsecret_other_corp"},
		{Name: "POST form", Method: post, Path: "/gettoken", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: "appkey=" + dingtest.AppKey + "&appsecret=" + dingtest.AppSecret, Status: ok, Golden: "gettoken/post_form"},
	}, *update)
}

const (
	create = "/chat/create?access_token={{token}}"
	upd    = "/chat/update?access_token={{token}}"
	chget  = "/chat/get?access_token={{token}}&chatid={{chatid}}"
	form   = "application/x-www-form-urlencoded"
)

func TestChatCreateGolden(t *testing.T) {
	ct := func(v string) map[string]string { return map[string]string{"Content-Type": v} }
	named := func(name string) string {
		return `{"name":"` + name + `","owner":"manager4220","useridlist":["manager4220","zhangsan"]}`
	}
	nameIs := func(want string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			if got := servertest.ChatInfo(t, e, createdChat(t, r))["name"]; got != want {
				t.Errorf("name = %q, want %q", got, want)
			}
		}
	}
	servertest.Run(t, []servertest.Case{
		{Name: "minimal", Method: post, Path: create, Body: `{"name":"项目群","owner":"manager4220","useridlist":["manager4220","zhangsan","lisi"]}`, Status: ok, Golden: "chat_create/minimal",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, createdChat(t, r))
				if got := strs(info["useridlist"]); len(got) != 3 || got[0] != "manager4220" {
					t.Errorf("useridlist = %v", got)
				}
			}},
		{Name: "all fields", Method: post, Path: create, Status: ok, Golden: "chat_create/all_fields",
			Body: `{"name":"全选项群","owner":"zhangsan","ownerType":"emp","useridlist":["manager4220","zhangsan"],"conversationTag":2,"icon":"@lADPDfJ6Q7LLejDNAljNAlg",` +
				`"showHistoryType":1,"searchable":1,"validationType":1,"mentionAllAuthority":1,"managementType":1,"chatBannedType":1}`,
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, createdChat(t, r))
				for _, k := range []string{"showHistoryType", "searchable", "validationType", "mentionAllAuthority", "managementType", "chatBannedType"} {
					if got := info[k]; jsonText(got) != "1" {
						t.Errorf("%s = %v, want 1", k, got)
					}
				}
				if info["owner"] != "zhangsan" || info["icon"] != "@lADPDfJ6Q7LLejDNAljNAlg" {
					t.Errorf("owner/icon = %v/%v", info["owner"], info["icon"])
				}
			}},
		{Name: "Java SDK strings", Method: post, Path: create, Status: ok, Golden: "chat_create/java_sdk_strings",
			Body: `{"name":"Java群","owner":"manager4220","useridlist":["manager4220"],"conversationTag":"2","showHistoryType":"1","searchable":"0","validationType":"1","mentionAllAuthority":"","managementType":"1","chatBannedType":"0"}`,
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, createdChat(t, r))
				if got := info["showHistoryType"]; jsonText(got) != "1" {
					t.Errorf("showHistoryType = %v, want 1", got)
				}
			}},
		{Name: "form with JSON lists", Method: post, Path: create, Header: ct(form), Status: ok, Golden: "chat_create/form",
			Body: `name=%E8%A1%A8%E5%8D%95%E7%BE%A4&owner=manager4220&useridlist=%5B%22manager4220%22%2C%22lisi%22%5D&showHistoryType=1`,
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, createdChat(t, r))
				if got := strs(info["useridlist"]); len(got) != 2 || got[1] != "lisi" || info["name"] != "表单群" {
					t.Errorf("chat_info = %v", info)
				}
			}},
		{Name: "JSON labelled text/plain", Method: post, Path: create, Header: ct("text/plain"), Body: named("纯文本群"), Status: ok, Golden: "chat_create/text_plain"},
		{Name: "JSON without content type", Method: post, Path: create, Header: ct(""), Body: named("无类型群"), Status: ok, Golden: "chat_create/no_content_type"},
		{Name: "chunked", Method: post, Path: create, Body: named("分块群"), Chunked: true, Status: ok, Golden: "chat_create/chunked",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if s := e.LastSeen(); s.ContentLength != -1 || len(s.TransferEncoding) != 1 || s.TransferEncoding[0] != "chunked" {
					t.Errorf("request arrived as %+v, want chunked without length", s)
				}
				nameIs("分块群")(t, e, r)
			}},
		{Name: "token in body", Method: post, Path: "/chat/create", Body: `{"access_token":"{{token}}","name":"体内令牌群","owner":"manager4220","useridlist":["manager4220"]}`, Status: ok, Golden: "chat_create/token_in_body"},

		// names: 1–20 characters, counted as characters
		{Name: "name 0 chars", Method: post, Path: create, Body: named(""), Status: ok, Golden: "chat_create/name_0_chars"},
		{Name: "name absent", Method: post, Path: create, Body: `{"owner":"manager4220","useridlist":["manager4220"]}`, Status: ok, Golden: "chat_create/name_absent"},
		{Name: "name 1 char", Method: post, Path: create, Body: named(cjk(1)), Status: ok, Golden: "chat_create/name_1_char", Check: nameIs(cjk(1))},
		{Name: "name 20 chars", Method: post, Path: create, Body: named(cjk(20)), Status: ok, Golden: "chat_create/name_20_chars", Check: nameIs(cjk(20))},
		{Name: "name 21 chars", Method: post, Path: create, Body: named(cjk(21)), Status: ok, Golden: "chat_create/name_21_chars"},
		{Name: "name 20 emoji", Method: post, Path: create, Body: named(emoji(20)), Status: ok, Golden: "chat_create/name_20_emoji", Check: nameIs(emoji(20))},
		{Name: "name 21 emoji", Method: post, Path: create, Body: named(emoji(21)), Status: ok, Golden: "chat_create/name_21_emoji"},
		{Name: "name with markup", Method: post, Path: create, Body: named(`A&B <群>`), Status: ok, Golden: "chat_create/name_markup", Check: nameIs("A&B <群>")},

		// members
		{Name: "useridlist 40", Method: post, Path: create, Body: `{"name":"四十人","owner":"user0001","useridlist":` + users(1, 40) + `}`, Status: ok, Golden: "chat_create/useridlist_40",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := strs(servertest.ChatInfo(t, e, createdChat(t, r))["useridlist"]); len(got) != 40 {
					t.Errorf("%d members, want 40", len(got))
				}
			}},
		{Name: "useridlist 41", Method: post, Path: create, Body: `{"name":"四十一人","owner":"user0001","useridlist":` + users(1, 41) + `}`, Status: ok, Golden: "chat_create/useridlist_41"},
		{Name: "useridlist 41 with a duplicate", Method: post, Path: create, Body: `{"name":"重复","owner":"user0001","useridlist":["user0001",` + users(1, 40)[1:] + `}`, Status: ok, Golden: "chat_create/useridlist_41_duplicate"},
		{Name: "useridlist empty", Method: post, Path: create, Body: `{"name":"空群","owner":"manager4220","useridlist":[]}`, Status: ok, Golden: "chat_create/useridlist_empty"},
		{Name: "useridlist absent", Method: post, Path: create, Body: `{"name":"空群","owner":"manager4220"}`, Status: ok, Golden: "chat_create/useridlist_absent"},
		{Name: "useridlist comma text", Method: post, Path: create, Body: `{"name":"逗号","owner":"manager4220","useridlist":"manager4220,zhangsan"}`, Status: ok, Golden: "chat_create/useridlist_comma_text"},
		{Name: "useridlist JSON text", Method: post, Path: create, Body: `{"name":"文本列表","owner":"manager4220","useridlist":"[\"manager4220\",\"zhangsan\"]"}`, Status: ok, Golden: "chat_create/useridlist_json_text"},
		{Name: "useridlist a number", Method: post, Path: create, Body: `{"name":"类型","owner":"manager4220","useridlist":5}`, Status: ok, Golden: "chat_create/useridlist_number"},
		{Name: "useridlist of objects", Method: post, Path: create, Body: `{"name":"类型","owner":"manager4220","useridlist":[{"userid":"manager4220"}]}`, Status: ok, Golden: "chat_create/useridlist_objects"},
		{Name: "unknown user", Method: post, Path: create, Body: `{"name":"陌生人","owner":"manager4220","useridlist":["manager4220","nobody"]}`, Status: ok, Golden: "chat_create/unknown_user"},
		{Name: "user of the other corp", Method: post, Path: create, Body: `{"name":"他司","owner":"manager4220","useridlist":["manager4220","zhaoliu"]}`, Status: ok, Golden: "chat_create/other_corp_user"},

		// owner
		{Name: "owner absent", Method: post, Path: create, Body: `{"name":"无主","useridlist":["manager4220"]}`, Status: ok, Golden: "chat_create/owner_absent"},
		{Name: "owner not member", Method: post, Path: create, Body: `{"name":"群主在外","owner":"wangwu","useridlist":["manager4220","zhangsan"]}`, Status: ok, Golden: "chat_create/owner_not_member"},
		{Name: "ownerType bad", Method: post, Path: create, Body: `{"name":"类型","owner":"manager4220","ownerType":"boss","useridlist":["manager4220"]}`, Status: ok, Golden: "chat_create/owner_type_bad"},
		{Name: "owner outside the app's visibility", Method: post, Path: "/chat/create?access_token={{narrow_token}}", Body: `{"name":"可见性","owner":"lisi","useridlist":["lisi","zhangsan"]}`, Status: ok, Golden: "chat_create/owner_not_visible"},
		{Name: "owner inside the app's visibility", Method: post, Path: "/chat/create?access_token={{narrow_token}}", Body: `{"name":"可见性","owner":"zhangsan","useridlist":["lisi","zhangsan"]}`, Status: ok, Golden: "chat_create/owner_visible"},

		// options 0/1/2
		{Name: "options 0", Method: post, Path: create, Body: `{"name":"零","owner":"manager4220","useridlist":["manager4220"],"showHistoryType":0,"searchable":0,"validationType":0,"mentionAllAuthority":0,"managementType":0,"chatBannedType":0}`, Status: ok, Golden: "chat_create/options_0"},
		{Name: "option 1", Method: post, Path: create, Body: `{"name":"一","owner":"manager4220","useridlist":["manager4220"],"searchable":1}`, Status: ok, Golden: "chat_create/option_1"},
		{Name: "option 2", Method: post, Path: create, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"searchable":2}`, Status: ok, Golden: "chat_create/option_2"},
		{Name: "option 2 as string", Method: post, Path: create, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"managementType":"2"}`, Status: ok, Golden: "chat_create/option_2_string"},
		{Name: "option not a number", Method: post, Path: create, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"chatBannedType":"yes"}`, Status: ok, Golden: "chat_create/option_not_number"},
		{Name: "option fractional", Method: post, Path: create, Body: `{"name":"二","owner":"manager4220","useridlist":["manager4220"],"chatBannedType":0.5}`, Status: ok, Golden: "chat_create/option_fractional"},

		// conversationTag and externals
		{Name: "conversationTag 1", Method: post, Path: create, Body: `{"name":"标签","owner":"manager4220","useridlist":["manager4220"],"conversationTag":1}`, Status: ok, Golden: "chat_create/conversation_tag_1"},
		{Name: "conversationTag 0 not allow-listed", Method: post, Path: create, Body: `{"name":"普通群","owner":"manager4220","useridlist":["manager4220"],"conversationTag":0}`, Status: ok, Golden: "chat_create/conversation_tag_0_not_allowed"},
		{Name: "conversationTag 0 allow-listed", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"普通群","owner":"manager4220","useridlist":["manager4220"],"extidlist":["ext001"],"conversationTag":0}`, Status: ok, Golden: "chat_create/conversation_tag_0_allowed",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, createdChat(t, r))
				if got := strs(info["extidlist"]); len(got) != 1 || got[0] != "ext001" || jsonText(info["conversationTag"]) != "0" {
					t.Errorf("chat_info = %v", info)
				}
			}},
		{Name: "external owner", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部群主","owner":"ext002","ownerType":"ext","useridlist":["manager4220"],"extidlist":["ext001","ext002"],"conversationTag":0}`, Status: ok, Golden: "chat_create/owner_type_ext",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, createdChat(t, r))["owner"]; got != "ext002" {
					t.Errorf("owner = %v", got)
				}
			}},
		{Name: "externals in an internal group", Method: post, Path: create, Body: `{"name":"企业群","owner":"manager4220","useridlist":["manager4220"],"extidlist":["ext001"]}`, Status: ok, Golden: "chat_create/externals_internal_group"},
		{Name: "external owner of an internal group", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"企业群","owner":"ext001","ownerType":"ext","useridlist":["manager4220"],"extidlist":["ext001"],"conversationTag":2}`, Status: ok, Golden: "chat_create/external_owner_internal_group"},
		{Name: "extidlist 40", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部四十","owner":"manager4220","useridlist":["manager4220"],"extidlist":` + exts(1, 40) + `,"conversationTag":0}`, Status: ok, Golden: "chat_create/extidlist_40"},
		{Name: "extidlist 41", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部四十一","owner":"manager4220","useridlist":["manager4220"],"extidlist":` + exts(1, 41) + `,"conversationTag":0}`, Status: ok, Golden: "chat_create/extidlist_41"},
		{Name: "unknown external", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部","owner":"manager4220","useridlist":["manager4220"],"extidlist":["ext999"],"conversationTag":0}`, Status: ok, Golden: "chat_create/unknown_external"},
		{Name: "emp owner who is an external", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部","owner":"ext001","ownerType":"emp","useridlist":["manager4220"],"extidlist":["ext001"],"conversationTag":0}`, Status: ok, Golden: "chat_create/owner_not_staff"},
		{Name: "ext owner who is staff", Method: post, Path: "/chat/create?access_token={{ordinary_token}}", Body: `{"name":"外部","owner":"manager4220","ownerType":"ext","useridlist":["manager4220"],"extidlist":["ext001"],"conversationTag":0}`, Status: ok, Golden: "chat_create/owner_not_external"},

		// request shape and tokens
		{Name: "malformed JSON", Method: post, Path: create, Body: `{"name":"坏","owner":`, Status: ok, Golden: "chat_create/malformed_json"},
		{Name: "JSON array body", Method: post, Path: create, Body: `["name"]`, Status: ok, Golden: "chat_create/json_array"},
		{Name: "JSON with trailing data", Method: post, Path: create, Body: named("尾巴") + `{}`, Status: ok, Golden: "chat_create/trailing_data"},
		{Name: "permission denied", Method: post, Path: "/chat/create?access_token={{readonly_token}}", Body: named("只读"), Status: ok, Golden: "chat_create/permission_denied"},
		{Name: "token missing", Method: post, Path: "/chat/create", Body: named("无令牌"), Status: ok, Golden: "chat_create/token_missing"},
		{Name: "token empty", Method: post, Path: "/chat/create?access_token=", Body: named("无令牌"), Status: ok, Golden: "chat_create/token_empty"},
		{Name: "token invalid", Method: post, Path: "/chat/create?access_token=0123456789abcdef0123456789abcdef", Body: named("坏令牌"), Status: ok, Golden: "chat_create/token_invalid"},
		{Name: "token expired", Setup: expired, Method: post, Path: create, Body: named("过期"), Status: ok, Golden: "chat_create/token_expired"},
		{Name: "token 1 ms before expiry", Setup: nearlyExpired, Method: post, Path: create, Body: named("将过期"), Status: ok, Golden: "chat_create/token_nearly_expired"},
		{Name: "token in the v1.0 header only", Method: post, Path: "/chat/create", Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}, Body: named("头部令牌"), Status: ok, Golden: "chat_create/token_in_header"},
	}, *update)
}

func TestChatUpdateGolden(t *testing.T) {
	body := func(fields string) string { return `{"chatid":"{{chatid}}",` + fields + `}` }
	servertest.Run(t, []servertest.Case{
		{Name: "rename", Setup: group, Method: post, Path: upd, Body: body(`"name":"新名字"`), Status: ok, Golden: "chat_update/rename",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["name"]; got != "新名字" {
					t.Errorf("name = %v", got)
				}
			}},
		{Name: "nothing to change", Setup: group, Method: post, Path: upd, Body: body(`"icon":""`), Status: ok, Golden: "chat_update/no_change"},
		{Name: "everything", Setup: group, Method: post, Path: upd, Status: ok, Golden: "chat_update/everything",
			Body: body(`"name":"全改","owner":"wangwu","add_useridlist":["wangwu","user0001"],"del_useridlist":["lisi"],"icon":"@media","showHistoryType":1,"searchable":1,"validationType":1,"mentionAllAuthority":1,"managementType":1,"chatBannedType":1`),
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, e.Vars["chatid"])
				want := `{"name":"全改","owner":"wangwu","useridlist":["manager4220","zhangsan","wangwu","user0001"],"agentidlist":[],"extidlist":[],"conversationTag":2,` +
					`"chatBannedType":1,"searchable":1,"validationType":1,"mentionAllAuthority":1,"managementType":1,"showHistoryType":1,"icon":"@media","status":1,"chatid":"` + e.Vars["chatid"] + `"}`
				if got := jsonText(info); got != canonical(t, want) {
					t.Errorf("chat_info =\n%s\nwant\n%s", got, want)
				}
			}},

		// names
		{Name: "name 0 chars", Setup: group, Method: post, Path: upd, Body: body(`"name":""`), Status: ok, Golden: "chat_update/name_0_chars"},
		{Name: "name 1 char", Setup: group, Method: post, Path: upd, Body: body(`"name":"` + cjk(1) + `"`), Status: ok, Golden: "chat_update/name_1_char"},
		{Name: "name 20 chars", Setup: group, Method: post, Path: upd, Body: body(`"name":"` + cjk(20) + `"`), Status: ok, Golden: "chat_update/name_20_chars"},
		{Name: "name 21 chars", Setup: group, Method: post, Path: upd, Body: body(`"name":"` + cjk(21) + `"`), Status: ok, Golden: "chat_update/name_21_chars"},
		{Name: "name 20 emoji", Setup: group, Method: post, Path: upd, Body: body(`"name":"` + emoji(20) + `"`), Status: ok, Golden: "chat_update/name_20_emoji"},
		{Name: "name 21 emoji", Setup: group, Method: post, Path: upd, Body: body(`"name":"` + emoji(21) + `"`), Status: ok, Golden: "chat_update/name_21_emoji"},

		// member lists: ≤40 per call
		{Name: "add 40", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":` + users(1, 40)), Status: ok, Golden: "chat_update/add_40",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["useridlist"]); len(got) != 43 {
					t.Errorf("%d members, want 43", len(got))
				}
			}},
		{Name: "add 41", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":` + users(1, 41)), Status: ok, Golden: "chat_update/add_41"},
		{Name: "del 40", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 43) }, Method: post, Path: upd, Body: body(`"del_useridlist":` + users(1, 40)), Status: ok, Golden: "chat_update/del_40",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["useridlist"]); len(got) != 3 {
					t.Errorf("%d members, want 3", len(got))
				}
			}},
		{Name: "del 41", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 44) }, Method: post, Path: upd, Body: body(`"del_useridlist":` + users(1, 41)), Status: ok, Golden: "chat_update/del_41"},
		{Name: "del a non-member", Setup: group, Method: post, Path: upd, Body: body(`"del_useridlist":["wangwu"]`), Status: ok, Golden: "chat_update/del_non_member"},
		{Name: "add an existing member", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":["zhangsan"]`), Status: ok, Golden: "chat_update/add_existing"},
		{Name: "add and del overlap", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":["wangwu","user0001"],"del_useridlist":["zhangsan","user0001"]`), Status: ok, Golden: "chat_update/add_del_overlap"},
		{Name: "add unknown user", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":["wangwu","nobody"]`), Status: ok, Golden: "chat_update/add_unknown_user"},
		{Name: "del the owner", Setup: group, Method: post, Path: upd, Body: body(`"del_useridlist":["manager4220"]`), Status: ok, Golden: "chat_update/del_owner"},
		{Name: "member 1000", Setup: func(e *servertest.Env) { group(e); fill(e, 960) }, Method: post, Path: upd, Body: body(`"add_useridlist":` + users(958, 40)), Status: ok, Golden: "chat_update/members_1000",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := strs(servertest.ChatInfo(t, e, e.Vars["chatid"])["useridlist"]); len(got) != ding.MaxMembers {
					t.Errorf("%d members, want %d", len(got), ding.MaxMembers)
				}
			}},
		{Name: "member 1001", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 1000) }, Method: post, Path: upd, Body: body(`"add_useridlist":["user0998"]`), Status: ok, Golden: "chat_update/members_1001"},
		{Name: "member 1001 with a swap", Setup: func(e *servertest.Env) { group(e); e.Fill(e.Vars["chatid"], 1000) }, Method: post, Path: upd, Body: body(`"add_useridlist":["user0998"],"del_useridlist":["user0001"]`), Status: ok, Golden: "chat_update/members_1000_swap"},

		// owner
		{Name: "new owner", Setup: group, Method: post, Path: upd, Body: body(`"owner":"zhangsan"`), Status: ok, Golden: "chat_update/owner",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["owner"]; got != "zhangsan" {
					t.Errorf("owner = %v", got)
				}
			}},
		{Name: "owner not member", Setup: group, Method: post, Path: upd, Body: body(`"owner":"wangwu"`), Status: ok, Golden: "chat_update/owner_not_member"},
		{Name: "owner empty", Setup: group, Method: post, Path: upd, Body: body(`"owner":""`), Status: ok, Golden: "chat_update/owner_empty"},
		{Name: "ownerType bad", Setup: group, Method: post, Path: upd, Body: body(`"owner":"zhangsan","ownerType":"boss"`), Status: ok, Golden: "chat_update/owner_type_bad"},
		{Name: "owner outside the app's visibility", Setup: group, Method: post, Path: "/chat/update?access_token={{narrow_token}}", Body: body(`"owner":"lisi"`), Status: ok, Golden: "chat_update/owner_not_visible"},

		// options
		{Name: "options 0", Setup: group, Method: post, Path: upd, Body: body(`"searchable":0,"chatBannedType":0`), Status: ok, Golden: "chat_update/options_0"},
		{Name: "option 1", Setup: group, Method: post, Path: upd, Body: body(`"validationType":1`), Status: ok, Golden: "chat_update/option_1"},
		{Name: "option 2", Setup: group, Method: post, Path: upd, Body: body(`"validationType":2`), Status: ok, Golden: "chat_update/option_2"},
		{Name: "Java SDK strings", Setup: group, Method: post, Path: upd, Body: body(`"showHistoryType":"1","searchable":"1","isBan":"true"`), Status: ok, Golden: "chat_update/java_sdk_strings",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, e.Vars["chatid"])
				for _, k := range []string{"showHistoryType", "searchable", "chatBannedType"} {
					if jsonText(info[k]) != "1" {
						t.Errorf("%s = %v, want 1", k, info[k])
					}
				}
			}},
		{Name: "isBan true", Setup: group, Method: post, Path: upd, Body: body(`"isBan":true`), Status: ok, Golden: "chat_update/is_ban_true",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["chatBannedType"]; jsonText(got) != "1" {
					t.Errorf("chatBannedType = %v, want 1", got)
				}
			}},
		{Name: "isBan false", Setup: func(e *servertest.Env) {
			group(e)
			wantErrcode(e.T, e.Post(upd, `{"chatid":"{{chatid}}","chatBannedType":1}`), "0")
		}, Method: post, Path: upd, Body: body(`"isBan":"false"`), Status: ok, Golden: "chat_update/is_ban_false",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := servertest.ChatInfo(t, e, e.Vars["chatid"])["chatBannedType"]; jsonText(got) != "0" {
					t.Errorf("chatBannedType = %v, want 0", got)
				}
			}},
		{Name: "isBan not a boolean", Setup: group, Method: post, Path: upd, Body: body(`"isBan":"maybe"`), Status: ok, Golden: "chat_update/is_ban_bad"},

		// externals
		{Name: "externals added to an internal group", Setup: group, Method: post, Path: upd, Body: body(`"add_extidlist":["ext001"]`), Status: ok, Golden: "chat_update/externals_internal_group"},
		{Name: "externals added and removed", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"add_extidlist":["ext004"],"del_extidlist":["ext001"]`), Status: ok, Golden: "chat_update/externals",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				if got := jsonText(servertest.ChatInfo(t, e, e.Vars["chatid"])["extidlist"]); got != `["ext002","ext003","ext004"]` {
					t.Errorf("extidlist = %s", got)
				}
			}},
		{Name: "externals overlap", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"add_extidlist":["ext004","ext005"],"del_extidlist":["ext005"]`), Status: ok, Golden: "chat_update/ext_overlap"},
		{Name: "add_extidlist 41", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"add_extidlist":` + exts(4, 41)), Status: ok, Golden: "chat_update/add_extidlist_41"},
		{Name: "del_extidlist 40", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"del_extidlist":` + exts(1, 40)), Status: ok, Golden: "chat_update/del_extidlist_40"},
		{Name: "del_extidlist 41", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"del_extidlist":` + exts(1, 41)), Status: ok, Golden: "chat_update/del_extidlist_41"},
		{Name: "unknown external", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"add_extidlist":["ext999"]`), Status: ok, Golden: "chat_update/unknown_external"},
		{Name: "external owner", Setup: ordinaryGroup, Method: post, Path: upd, Body: body(`"owner":"ext001","ownerType":"ext"`), Status: ok, Golden: "chat_update/owner_type_ext"},

		// the group
		{Name: "chatid missing", Setup: group, Method: post, Path: upd, Body: `{"name":"无ID"}`, Status: ok, Golden: "chat_update/chatid_missing"},
		{Name: "chatid empty", Setup: group, Method: post, Path: upd, Body: `{"chatid":"","name":"无ID"}`, Status: ok, Golden: "chat_update/chatid_empty"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: upd, Body: `{"chatid":"chat0123456789abcdef0123456789abcdef","name":"无群"}`, Status: ok, Golden: "chat_update/chatid_unknown"},
		{Name: "group of another corp", Setup: group, Method: post, Path: "/chat/update?access_token={{other_token}}", Body: body(`"name":"他司"`), Status: ok, Golden: "chat_update/other_corp"},

		// request shape and tokens
		{Name: "form with JSON lists", Setup: group, Method: post, Path: upd, Header: map[string]string{"Content-Type": form}, Body: `chatid={{chatid}}&add_useridlist=%5B%22wangwu%22%5D&isBan=true`, Status: ok, Golden: "chat_update/form",
			Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				info := servertest.ChatInfo(t, e, e.Vars["chatid"])
				if got := strs(info["useridlist"]); len(got) != 4 || jsonText(info["chatBannedType"]) != "1" {
					t.Errorf("chat_info = %v", info)
				}
			}},
		{Name: "chunked", Setup: group, Method: post, Path: upd, Body: body(`"name":"分块"`), Chunked: true, Status: ok, Golden: "chat_update/chunked"},
		{Name: "malformed JSON", Setup: group, Method: post, Path: upd, Body: `{"chatid":"{{chatid}}","name":`, Status: ok, Golden: "chat_update/malformed_json"},
		{Name: "add_useridlist a number", Setup: group, Method: post, Path: upd, Body: body(`"add_useridlist":5`), Status: ok, Golden: "chat_update/add_useridlist_number"},
		{Name: "name an object", Setup: group, Method: post, Path: upd, Body: body(`"name":{"zh":"群"}`), Status: ok, Golden: "chat_update/name_object"},
		{Name: "permission denied", Setup: group, Method: post, Path: "/chat/update?access_token={{readonly_token}}", Body: body(`"name":"只读"`), Status: ok, Golden: "chat_update/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: "/chat/update", Body: body(`"name":"无令牌"`), Status: ok, Golden: "chat_update/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: "/chat/update?access_token=bad", Body: body(`"name":"坏令牌"`), Status: ok, Golden: "chat_update/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: upd, Body: body(`"name":"过期"`), Status: ok, Golden: "chat_update/token_expired"},
	}, *update)
}

func TestChatGetGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: group, Method: get, Path: chget, Status: ok, Golden: "chat_get/ok"},
		{Name: "POST with JSON", Setup: group, Method: post, Path: "/chat/get?access_token={{token}}", Body: `{"chatid":"{{chatid}}"}`, Status: ok, Golden: "chat_get/post_json"},
		{Name: "params reordered", Setup: group, Method: get, Path: "/chat/get?chatid={{chatid}}&access_token={{token}}", Status: ok, Golden: "chat_get/params_reordered"},
		{Name: "with options and externals", Setup: func(e *servertest.Env) {
			ordinaryGroup(e)
			wantErrcode(e.T, e.Post(upd, `{"chatid":"{{chatid}}","showHistoryType":1,"chatBannedType":1,"icon":"@lADPDfJ6Q7LLejDNAljNAlg"}`), "0")
		}, Method: get, Path: chget, Status: ok, Golden: "chat_get/ordinary_group"},
		{Name: "read-only app", Setup: group, Method: get, Path: "/chat/get?access_token={{readonly_token}}&chatid={{chatid}}", Status: ok, Golden: "chat_get/readonly_app"},
		{Name: "chatid missing", Setup: group, Method: get, Path: "/chat/get?access_token={{token}}", Status: ok, Golden: "chat_get/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: get, Path: "/chat/get?access_token={{token}}&chatid=chat0123456789abcdef0123456789abcdef", Status: ok, Golden: "chat_get/chatid_unknown"},
		{Name: "openConversationId is not a chatid", Setup: group, Method: get, Path: "/chat/get?access_token={{token}}&chatid={{openid}}", Status: ok, Golden: "chat_get/open_conversation_id"},
		{Name: "group of another corp", Setup: group, Method: get, Path: "/chat/get?access_token={{other_token}}&chatid={{chatid}}", Status: ok, Golden: "chat_get/other_corp"},
		{Name: "token missing", Setup: group, Method: get, Path: "/chat/get?chatid={{chatid}}", Status: ok, Golden: "chat_get/token_missing"},
		{Name: "token invalid", Setup: group, Method: get, Path: "/chat/get?access_token=bad&chatid={{chatid}}", Status: ok, Golden: "chat_get/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: get, Path: chget, Status: ok, Golden: "chat_get/token_expired"},
	}, *update)
}

func TestUserGolden(t *testing.T) {
	tform := map[string]string{"Content-Type": form}
	servertest.Run(t, []servertest.Case{
		{Name: "user/get", Method: get, Path: "/user/get?access_token={{token}}&userid=zhangsan", Status: ok, Golden: "user_get/ok"},
		{Name: "user/get unknown", Method: get, Path: "/user/get?access_token={{token}}&userid=nobody", Status: ok, Golden: "user_get/unknown"},
		{Name: "user/get other corp's user", Method: get, Path: "/user/get?access_token={{token}}&userid=zhaoliu", Status: ok, Golden: "user_get/other_corp_user"},
		{Name: "user/get missing userid", Method: get, Path: "/user/get?access_token={{token}}", Status: ok, Golden: "user_get/missing_userid"},
		{Name: "user/get permission denied", Method: get, Path: "/user/get?access_token={{readonly_token}}&userid=zhangsan", Status: ok, Golden: "user_get/permission_denied"},
		{Name: "user/get token missing", Method: get, Path: "/user/get?userid=zhangsan", Status: ok, Golden: "user_get/token_missing"},
		{Name: "user/get token invalid", Method: get, Path: "/user/get?access_token=bad&userid=zhangsan", Status: ok, Golden: "user_get/token_invalid"},
		{Name: "user/get token expired", Setup: expired, Method: get, Path: "/user/get?access_token={{token}}&userid=zhangsan", Status: ok, Golden: "user_get/token_expired"},

		{Name: "v2/user/get", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"manager4220","language":"zh_CN"}`, Status: ok, Golden: "topapi_v2_user_get/ok"},
		{Name: "v2/user/get form", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Header: tform, Body: `userid=zhangsan`, Status: ok, Golden: "topapi_v2_user_get/form"},
		{Name: "v2/user/get token in form", Method: post, Path: "/topapi/v2/user/get", Header: tform, Body: `access_token={{token}}&userid=zhangsan`, Status: ok, Golden: "topapi_v2_user_get/token_in_form"},
		{Name: "v2/user/get bad token in form", Method: post, Path: "/topapi/v2/user/get", Header: tform, Body: `access_token=bad&userid=zhangsan`, Status: ok, Golden: "topapi_v2_user_get/bad_token_in_form"},
		{Name: "v2/user/get chunked", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"zhangsan"}`, Chunked: true, Status: ok, Golden: "topapi_v2_user_get/chunked"},
		{Name: "v2/user/get unknown", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"nobody"}`, Status: ok, Golden: "topapi_v2_user_get/unknown"},
		{Name: "v2/user/get missing userid", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{}`, Status: ok, Golden: "topapi_v2_user_get/missing_userid"},
		{Name: "v2/user/get userid a list", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":["zhangsan"]}`, Status: ok, Golden: "topapi_v2_user_get/userid_list"},
		{Name: "v2/user/get malformed JSON", Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":`, Status: ok, Golden: "topapi_v2_user_get/malformed_json"},
		{Name: "v2/user/get permission denied", Method: post, Path: "/topapi/v2/user/get?access_token={{readonly_token}}", Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_v2_user_get/permission_denied"},
		{Name: "v2/user/get token missing", Method: post, Path: "/topapi/v2/user/get", Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_v2_user_get/token_missing"},
		{Name: "v2/user/get token in header only", Method: post, Path: "/topapi/v2/user/get", Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}, Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_v2_user_get/token_in_header"},
		{Name: "v2/user/get token invalid", Method: post, Path: "/topapi/v2/user/get?access_token=bad", Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_v2_user_get/token_invalid"},
		{Name: "v2/user/get token expired", Setup: expired, Method: post, Path: "/topapi/v2/user/get?access_token={{token}}", Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_v2_user_get/token_expired"},

		{Name: "getbymobile", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{token}}", Body: `{"mobile":"13800000002"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/ok"},
		{Name: "getbymobile as a number", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{token}}", Body: `{"mobile":13800000002}`, Status: ok, Golden: "topapi_v2_user_getbymobile/number"},
		{Name: "getbymobile unknown", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{token}}", Body: `{"mobile":"10000000000"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/unknown"},
		{Name: "getbymobile other corp's mobile", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{token}}", Body: `{"mobile":"13900000000"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/other_corp"},
		{Name: "getbymobile missing", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{token}}", Body: `{}`, Status: ok, Golden: "topapi_v2_user_getbymobile/missing_mobile"},
		{Name: "getbymobile permission denied", Method: post, Path: "/topapi/v2/user/getbymobile?access_token={{readonly_token}}", Body: `{"mobile":"13800000002"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/permission_denied"},
		{Name: "getbymobile token missing", Method: post, Path: "/topapi/v2/user/getbymobile", Body: `{"mobile":"13800000002"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/token_missing"},
		{Name: "getbymobile token invalid", Method: post, Path: "/topapi/v2/user/getbymobile?access_token=bad", Body: `{"mobile":"13800000002"}`, Status: ok, Golden: "topapi_v2_user_getbymobile/token_invalid"},

		{Name: "getbyunionid staff", Method: post, Path: "/topapi/user/getbyunionid?access_token={{token}}", Body: `{"unionid":"union-lisi"}`, Status: ok, Golden: "topapi_user_getbyunionid/staff"},
		{Name: "getbyunionid external", Method: post, Path: "/topapi/user/getbyunionid?access_token={{token}}", Body: `{"unionid":"ext001"}`, Status: ok, Golden: "topapi_user_getbyunionid/external"},
		{Name: "getbyunionid unknown", Method: post, Path: "/topapi/user/getbyunionid?access_token={{token}}", Body: `{"unionid":"union-nobody"}`, Status: ok, Golden: "topapi_user_getbyunionid/unknown"},
		{Name: "getbyunionid missing", Method: post, Path: "/topapi/user/getbyunionid?access_token={{token}}", Body: `{}`, Status: ok, Golden: "topapi_user_getbyunionid/missing_unionid"},
		{Name: "getbyunionid permission denied", Method: post, Path: "/topapi/user/getbyunionid?access_token={{readonly_token}}", Body: `{"unionid":"union-lisi"}`, Status: ok, Golden: "topapi_user_getbyunionid/permission_denied"},
		{Name: "getbyunionid token missing", Method: post, Path: "/topapi/user/getbyunionid", Body: `{"unionid":"union-lisi"}`, Status: ok, Golden: "topapi_user_getbyunionid/token_missing"},
		{Name: "getbyunionid token invalid", Method: post, Path: "/topapi/user/getbyunionid?access_token=bad", Body: `{"unionid":"union-lisi"}`, Status: ok, Golden: "topapi_user_getbyunionid/token_invalid"},
		{Name: "getbyunionid token expired", Setup: expired, Method: post, Path: "/topapi/user/getbyunionid?access_token={{token}}", Body: `{"unionid":"union-lisi"}`, Status: ok, Golden: "topapi_user_getbyunionid/token_expired"},

		// the pre-topapi spellings godingtalk calls
		{Name: "get_by_mobile", Method: get, Path: "/user/get_by_mobile?access_token={{token}}&mobile=13800000002", Status: ok, Golden: "user_get_by_mobile/ok"},
		{Name: "get_by_mobile unknown", Method: get, Path: "/user/get_by_mobile?access_token={{token}}&mobile=10000000000", Status: ok, Golden: "user_get_by_mobile/unknown"},
		{Name: "get_by_mobile missing", Method: get, Path: "/user/get_by_mobile?access_token={{token}}", Status: ok, Golden: "user_get_by_mobile/missing_mobile"},
		{Name: "get_by_mobile token invalid", Method: get, Path: "/user/get_by_mobile?access_token=bad&mobile=13800000002", Status: ok, Golden: "user_get_by_mobile/token_invalid"},
		{Name: "getUseridByUnionid staff", Method: get, Path: "/user/getUseridByUnionid?access_token={{token}}&unionid=union-lisi", Status: ok, Golden: "user_getUseridByUnionid/staff"},
		{Name: "getUseridByUnionid external", Method: get, Path: "/user/getUseridByUnionid?access_token={{token}}&unionid=ext001", Status: ok, Golden: "user_getUseridByUnionid/external"},
		{Name: "getUseridByUnionid unknown", Method: get, Path: "/user/getUseridByUnionid?access_token={{token}}&unionid=union-nobody", Status: ok, Golden: "user_getUseridByUnionid/unknown"},
	}, *update)
}

func TestUnknownGolden(t *testing.T) {
	servertest.Run(t, []servertest.Case{
		{Name: "unknown path", Method: get, Path: "/nosuch?access_token={{token}}", Status: ok, Golden: "unknown/path"},
		{Name: "unknown chat path", Method: post, Path: "/chat/nosuch?access_token={{token}}", Body: `{}`, Status: ok, Golden: "unknown/chat_path"},
		{Name: "root", Method: get, Path: "/", Status: ok, Golden: "unknown/root"},
		{Name: "trailing slash", Method: get, Path: "/chat/get/?access_token={{token}}", Status: ok, Golden: "unknown/trailing_slash"},
		{Name: "v1.0 path without /v1.0", Method: post, Path: "/oauth2/accessToken", Body: `{}`, Status: ok, Golden: "unknown/v1_path_without_prefix"},
		{Name: "unknown topapi name", Method: post, Path: "/topapi/v2/user/notexist?access_token={{token}}", Body: `{}`, Status: ok, Golden: "unknown/topapi_name"},
		{Name: "unknown topapi name without token", Method: post, Path: "/topapi/app/remove_auth", Status: ok, Golden: "unknown/topapi_name_no_token"},
		{Name: "topapi root", Method: get, Path: "/topapi/", Status: ok, Golden: "unknown/topapi_root"},
	}, *update)
}
