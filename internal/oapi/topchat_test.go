package oapi_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	subPath  = "/topapi/chat/subadmin/update?access_token={{token}}"
	fsPath   = "/topapi/chat/member/friendswitch/update?access_token={{token}}"
	qrPath   = "/topapi/chat/qrcode/get?access_token={{token}}"
	nickPath = "/topapi/chat/updategroupnick?access_token={{token}}"

	unknownChat = "chat0123456789abcdef0123456789abcdef"
)

var formCT = map[string]string{"Content-Type": form}

// disbanded makes the fixture group and has the operator disband it.
func disbanded(e *servertest.Env) {
	group(e)
	if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
		e.T.Fatalf("disband: %v", err)
	}
}

// withAdmins makes the fixture group, fills it to 60 members and makes
// user0001..user000n its admins through the service.
func withAdmins(n int) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		group(e)
		e.Fill(e.Vars["chatid"], 60)
		c := e.Caller(dingtest.AppKey, dingtest.AppSecret)
		for from := 1; from <= n; from += ding.MaxIDsPerCall {
			var ids []string
			for i := from; i <= min(from+ding.MaxIDsPerCall-1, n); i++ {
				ids = append(ids, dingtest.UserID(i))
			}
			if err := e.Svc.SetSubAdmins(context.Background(), c, service.GroupRef{ChatID: e.Vars["chatid"]}, ids, ding.RoleAdmin); err != nil {
				e.T.Fatalf("SetSubAdmins: %v", err)
			}
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

func adminsAre(want ...string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		if got := groupAdmins(t, e); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("admins = %v, want %v", got, want)
		}
	}
}

func adminCount(want int) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		if got := len(groupAdmins(t, e)); got != want {
			t.Errorf("%d admins, want %d", got, want)
		}
	}
}

func TestTopSubAdminGolden(t *testing.T) {
	body := func(userids, role string) string {
		return `{"chatid":"{{chatid}}","userids":` + userids + `,"role":` + role + `}`
	}
	unset := func(e *servertest.Env) {
		group(e)
		wantErrcode(e.T, e.Post(subPath, body(`"zhangsan,lisi"`, "2")), "0")
	}
	servertest.Run(t, []servertest.Case{
		{Name: "set one", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/set", Check: adminsAre("zhangsan")},
		{Name: "set a comma list", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan,lisi"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/set_comma_list", Check: adminsAre("zhangsan", "lisi")},
		{Name: "set a JSON list", Setup: group, Method: post, Path: subPath, Body: body(`["lisi","zhangsan"]`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/set_json_list", Check: adminsAre("zhangsan", "lisi")},
		{Name: "Java SDK strings", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan"`, `"2"`), Status: ok, Golden: "topapi_chat_subadmin_update/java_sdk_strings", Check: adminsAre("zhangsan")},
		{Name: "form", Setup: group, Method: post, Path: subPath, Header: formCT, Body: `chatid={{chatid}}&userids=lisi&role=2`, Status: ok, Golden: "topapi_chat_subadmin_update/form", Check: adminsAre("lisi")},
		{Name: "token in form", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update", Header: formCT, Body: `access_token={{token}}&chatid={{chatid}}&userids=lisi&role=2`, Status: ok, Golden: "topapi_chat_subadmin_update/token_in_form", Check: adminsAre("lisi")},
		{Name: "unset", Setup: unset, Method: post, Path: subPath, Body: body(`"zhangsan"`, "3"), Status: ok, Golden: "topapi_chat_subadmin_update/unset", Check: adminsAre("lisi")},
		{Name: "set again", Setup: unset, Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/set_again", Check: adminsAre("zhangsan", "lisi")},
		{Name: "owner keeps its role", Setup: group, Method: post, Path: subPath, Body: body(`"manager4220"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/owner", Check: adminsAre()},

		// roles
		{Name: "role 1", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan"`, "1"), Status: ok, Golden: "topapi_chat_subadmin_update/role_1"},
		{Name: "role 4", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan"`, "4"), Status: ok, Golden: "topapi_chat_subadmin_update/role_4"},
		{Name: "role missing", Setup: group, Method: post, Path: subPath, Body: `{"chatid":"{{chatid}}","userids":"zhangsan"}`, Status: ok, Golden: "topapi_chat_subadmin_update/role_missing"},
		{Name: "role not a number", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan"`, `"admin"`), Status: ok, Golden: "topapi_chat_subadmin_update/role_not_number"},

		// users
		{Name: "userids missing", Setup: group, Method: post, Path: subPath, Body: `{"chatid":"{{chatid}}","role":2}`, Status: ok, Golden: "topapi_chat_subadmin_update/userids_missing"},
		{Name: "userids empty", Setup: group, Method: post, Path: subPath, Body: body(`""`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/userids_empty"},
		{Name: "unknown user", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan,ghost"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/unknown_user"},
		{Name: "user of another corp", Setup: group, Method: post, Path: subPath, Body: body(`"zhaoliu"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/other_corp_user"},
		{Name: "not a member", Setup: group, Method: post, Path: subPath, Body: body(`"zhangsan,wangwu"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/not_member"},
		{Name: "userids 41", Setup: group, Method: post, Path: subPath, Body: body(users(1, 41), "2"), Status: ok, Golden: "topapi_chat_subadmin_update/userids_41"},

		// the admin cap, at its boundary
		{Name: "admin 50 of 50", Setup: withAdmins(ding.MaxSubAdmins - 1), Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/admin_50", Check: adminCount(ding.MaxSubAdmins)},
		{Name: "admin 51 of 50", Setup: withAdmins(ding.MaxSubAdmins), Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/admin_51"},
		{Name: "two past 49", Setup: withAdmins(ding.MaxSubAdmins - 1), Method: post, Path: subPath, Body: body(`"zhangsan,lisi"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/admin_49_plus_2"},
		{Name: "a place freed at the cap", Setup: withAdmins(ding.MaxSubAdmins), Method: post, Path: subPath, Body: body(`"user0001"`, "3"), Status: ok, Golden: "topapi_chat_subadmin_update/admin_unset_at_cap", Check: adminCount(ding.MaxSubAdmins - 1)},

		// the group: 40016 here, unlike friendswitch, qrcode and nick
		{Name: "chatid missing", Setup: group, Method: post, Path: subPath, Body: `{"userids":"zhangsan","role":2}`, Status: ok, Golden: "topapi_chat_subadmin_update/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: subPath, Body: `{"chatid":"` + unknownChat + `","userids":"zhangsan","role":2}`, Status: ok, Golden: "topapi_chat_subadmin_update/chatid_unknown"},
		{Name: "openConversationId is not a chatid", Setup: group, Method: post, Path: subPath, Body: `{"chatid":"{{openid}}","userids":"zhangsan","role":2}`, Status: ok, Golden: "topapi_chat_subadmin_update/open_conversation_id"},
		{Name: "group of another corp", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update?access_token={{other_token}}", Body: body(`"manager4220"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/other_corp"},
		{Name: "disbanded", Setup: disbanded, Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/disbanded"},

		// request shape and tokens
		{Name: "malformed JSON", Setup: group, Method: post, Path: subPath, Body: `{"chatid":`, Status: ok, Golden: "topapi_chat_subadmin_update/malformed_json"},
		{Name: "permission denied", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update?access_token={{readonly_token}}", Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update", Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/token_missing"},
		{Name: "token in header only", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update", Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"}, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/token_in_header"},
		{Name: "token invalid", Setup: group, Method: post, Path: "/topapi/chat/subadmin/update?access_token=bad", Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: subPath, Body: body(`"zhangsan"`, "2"), Status: ok, Golden: "topapi_chat_subadmin_update/token_expired"},
	}, *update)
}

// friendForbidden reads the fixture group's friend switch from the store.
func friendForbidden(want bool) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		g, err := e.Store.Group(context.Background(), dingtest.CorpID, e.Vars["chatid"])
		if err != nil {
			t.Fatal(err)
		}
		if g.FriendForbidden != want {
			t.Errorf("FriendForbidden = %v, want %v", g.FriendForbidden, want)
		}
	}
}

func TestTopFriendSwitchGolden(t *testing.T) {
	body := func(v string) string { return `{"chatid":"{{chatid}}","is_prohibit":` + v + `}` }
	forbidden := func(e *servertest.Env) {
		group(e)
		wantErrcode(e.T, e.Post(fsPath, body("true")), "0")
	}
	servertest.Run(t, []servertest.Case{
		{Name: "forbid", Setup: group, Method: post, Path: fsPath, Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/forbid", Check: friendForbidden(true)},
		{Name: "Java SDK string", Setup: group, Method: post, Path: fsPath, Body: body(`"true"`), Status: ok, Golden: "topapi_chat_member_friendswitch_update/java_sdk_string", Check: friendForbidden(true)},
		{Name: "form", Setup: group, Method: post, Path: fsPath, Header: formCT, Body: `chatid={{chatid}}&is_prohibit=true`, Status: ok, Golden: "topapi_chat_member_friendswitch_update/form", Check: friendForbidden(true)},
		{Name: "allow again", Setup: forbidden, Method: post, Path: fsPath, Body: body("false"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/allow", Check: friendForbidden(false)},
		{Name: "forbid twice", Setup: forbidden, Method: post, Path: fsPath, Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/forbid_twice", Check: friendForbidden(true)},
		{Name: "allow an allowing group", Setup: group, Method: post, Path: fsPath, Body: body("false"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/allow_unchanged", Check: friendForbidden(false)},

		{Name: "is_prohibit missing", Setup: group, Method: post, Path: fsPath, Body: `{"chatid":"{{chatid}}"}`, Status: ok, Golden: "topapi_chat_member_friendswitch_update/is_prohibit_missing"},
		{Name: "is_prohibit empty", Setup: group, Method: post, Path: fsPath, Body: body(`""`), Status: ok, Golden: "topapi_chat_member_friendswitch_update/is_prohibit_empty"},
		{Name: "is_prohibit not a boolean", Setup: group, Method: post, Path: fsPath, Body: body(`"maybe"`), Status: ok, Golden: "topapi_chat_member_friendswitch_update/is_prohibit_bad"},

		// the group: 34001 here, unlike subadmin
		{Name: "chatid missing", Setup: group, Method: post, Path: fsPath, Body: `{"is_prohibit":true}`, Status: ok, Golden: "topapi_chat_member_friendswitch_update/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: fsPath, Body: `{"chatid":"` + unknownChat + `","is_prohibit":true}`, Status: ok, Golden: "topapi_chat_member_friendswitch_update/chatid_unknown"},
		{Name: "group of another corp", Setup: group, Method: post, Path: "/topapi/chat/member/friendswitch/update?access_token={{other_token}}", Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/other_corp"},
		{Name: "disbanded", Setup: disbanded, Method: post, Path: fsPath, Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/disbanded"},

		{Name: "permission denied", Setup: group, Method: post, Path: "/topapi/chat/member/friendswitch/update?access_token={{readonly_token}}", Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: "/topapi/chat/member/friendswitch/update", Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: "/topapi/chat/member/friendswitch/update?access_token=bad", Body: body("true"), Status: ok, Golden: "topapi_chat_member_friendswitch_update/token_invalid"},
	}, *update)
}

// joinHost stands for the test server's origin in qrcode goldens.
const joinHost = "http://dingchat.test"

// linkGolden compares r with a golden file after putting joinHost for the
// server's origin, which changes with every run; then it opens the link
// and expects the join page of the fixture group.
func linkGolden(name string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		hostless := *r
		hostless.Body = bytes.ReplaceAll(r.Body, []byte(e.URL), []byte(joinHost))
		servertest.Golden(t, name, &hostless, *update)
		link, _ := r.JSON(t)["result"].(string)
		if !strings.HasPrefix(link, e.URL+"/_dingchat/joingroup?code=") {
			t.Fatalf("result = %q, want a link served by DingChat", link)
		}
		page := e.Get(strings.TrimPrefix(link, e.URL))
		if page.Status != http.StatusOK || !strings.HasPrefix(page.ContentType(), "text/html") {
			t.Fatalf("GET link: %d %s", page.Status, page.ContentType())
		}
		for _, want := range []string{`<h1 id="group-name">项目群</h1>`, `<span id="member-count">3</span>`} {
			if !bytes.Contains(page.Body, []byte(want)) {
				t.Errorf("join page lacks %s:\n%s", want, page.Body)
			}
		}
	}
}

func TestTopQRCodeGolden(t *testing.T) {
	body := func(userid string) string { return `{"chatid":"{{chatid}}","userid":"` + userid + `"}` }
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: group, Method: post, Path: qrPath, Body: body("zhangsan"), Status: ok, Check: linkGolden("topapi_chat_qrcode_get/ok")},
		{Name: "owner shares", Setup: group, Method: post, Path: qrPath, Body: body("manager4220"), Status: ok, Check: linkGolden("topapi_chat_qrcode_get/owner")},
		{Name: "form", Setup: group, Method: post, Path: qrPath, Header: formCT, Body: `chatid={{chatid}}&userid=lisi`, Status: ok, Check: linkGolden("topapi_chat_qrcode_get/form")},
		{Name: "GET with query", Setup: group, Method: get, Path: qrPath + "&chatid={{chatid}}&userid=lisi", Status: ok, Check: linkGolden("topapi_chat_qrcode_get/get_query")},

		{Name: "userid missing", Setup: group, Method: post, Path: qrPath, Body: `{"chatid":"{{chatid}}"}`, Status: ok, Golden: "topapi_chat_qrcode_get/userid_missing"},
		{Name: "userid unknown", Setup: group, Method: post, Path: qrPath, Body: body("ghost"), Status: ok, Golden: "topapi_chat_qrcode_get/userid_unknown"},
		{Name: "user of another corp", Setup: group, Method: post, Path: qrPath, Body: body("zhaoliu"), Status: ok, Golden: "topapi_chat_qrcode_get/other_corp_user"},
		{Name: "sharer not in the group", Setup: group, Method: post, Path: qrPath, Body: body("wangwu"), Status: ok, Golden: "topapi_chat_qrcode_get/not_member"},

		// the group: 34001 here, unlike subadmin
		{Name: "chatid missing", Setup: group, Method: post, Path: qrPath, Body: `{"userid":"zhangsan"}`, Status: ok, Golden: "topapi_chat_qrcode_get/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: qrPath, Body: `{"chatid":"` + unknownChat + `","userid":"zhangsan"}`, Status: ok, Golden: "topapi_chat_qrcode_get/chatid_unknown"},
		{Name: "openConversationId is not a chatid", Setup: group, Method: post, Path: qrPath, Body: `{"chatid":"{{openid}}","userid":"zhangsan"}`, Status: ok, Golden: "topapi_chat_qrcode_get/open_conversation_id"},
		{Name: "group of another corp", Setup: group, Method: post, Path: "/topapi/chat/qrcode/get?access_token={{other_token}}", Body: body("manager4220"), Status: ok, Golden: "topapi_chat_qrcode_get/other_corp"},
		{Name: "disbanded", Setup: disbanded, Method: post, Path: qrPath, Body: body("zhangsan"), Status: ok, Golden: "topapi_chat_qrcode_get/disbanded"},

		// qrcode needs qyapi_chat_base_read, which the read-only app lacks
		{Name: "permission denied", Setup: group, Method: post, Path: "/topapi/chat/qrcode/get?access_token={{readonly_token}}", Body: body("zhangsan"), Status: ok, Golden: "topapi_chat_qrcode_get/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: "/topapi/chat/qrcode/get", Body: body("zhangsan"), Status: ok, Golden: "topapi_chat_qrcode_get/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: "/topapi/chat/qrcode/get?access_token=bad", Body: body("zhangsan"), Status: ok, Golden: "topapi_chat_qrcode_get/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: qrPath, Body: body("zhangsan"), Status: ok, Golden: "topapi_chat_qrcode_get/token_expired"},
	}, *update)
}

// nickIs reads a member's nickname in the fixture group from the store.
func nickIs(userID, want string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		m, err := e.Store.Member(context.Background(), e.Vars["chatid"], ding.MemberEmp, userID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Nick != want {
			t.Errorf("nick of %s = %q, want %q", userID, m.Nick, want)
		}
	}
}

func TestTopGroupNickGolden(t *testing.T) {
	body := func(userid, nick string) string {
		return `{"chatid":"{{chatid}}","userid":"` + userid + `","group_nick":"` + nick + `"}`
	}
	nicked := func(e *servertest.Env) {
		group(e)
		wantErrcode(e.T, e.Post(nickPath, body("zhangsan", "小张")), "0")
	}
	servertest.Run(t, []servertest.Case{
		{Name: "ok", Setup: group, Method: post, Path: nickPath, Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/ok", Check: nickIs("zhangsan", "小张")},
		{Name: "form", Setup: group, Method: post, Path: nickPath, Header: formCT, Body: `chatid={{chatid}}&userid=lisi&group_nick=%E5%B0%8F%E6%9D%8E`, Status: ok, Golden: "topapi_chat_updategroupnick/form", Check: nickIs("lisi", "小李")},
		{Name: "nick 30 chars", Setup: group, Method: post, Path: nickPath, Body: body("zhangsan", cjk(30)), Status: ok, Golden: "topapi_chat_updategroupnick/nick_30_chars", Check: nickIs("zhangsan", cjk(30))},
		{Name: "nick 30 emoji", Setup: group, Method: post, Path: nickPath, Body: body("zhangsan", emoji(30)), Status: ok, Golden: "topapi_chat_updategroupnick/nick_30_emoji", Check: nickIs("zhangsan", emoji(30))},
		{Name: "nick 31 chars", Setup: group, Method: post, Path: nickPath, Body: body("zhangsan", cjk(31)), Status: ok, Golden: "topapi_chat_updategroupnick/nick_31_chars"},
		{Name: "the owner's nick", Setup: group, Method: post, Path: nickPath, Body: body("manager4220", "群主"), Status: ok, Golden: "topapi_chat_updategroupnick/owner", Check: nickIs("manager4220", "群主")},
		{Name: "renamed", Setup: nicked, Method: post, Path: nickPath, Body: body("zhangsan", "张工"), Status: ok, Golden: "topapi_chat_updategroupnick/renamed", Check: nickIs("zhangsan", "张工")},
		{Name: "cleared", Setup: nicked, Method: post, Path: nickPath, Body: body("zhangsan", ""), Status: ok, Golden: "topapi_chat_updategroupnick/cleared", Check: nickIs("zhangsan", "")},
		{Name: "group_nick missing", Setup: nicked, Method: post, Path: nickPath, Body: `{"chatid":"{{chatid}}","userid":"zhangsan"}`, Status: ok, Golden: "topapi_chat_updategroupnick/group_nick_missing", Check: nickIs("zhangsan", "小张")},

		{Name: "userid missing", Setup: group, Method: post, Path: nickPath, Body: `{"chatid":"{{chatid}}","group_nick":"无名"}`, Status: ok, Golden: "topapi_chat_updategroupnick/userid_missing"},
		{Name: "userid unknown", Setup: group, Method: post, Path: nickPath, Body: body("ghost", "鬼"), Status: ok, Golden: "topapi_chat_updategroupnick/userid_unknown"},
		{Name: "user of another corp", Setup: group, Method: post, Path: nickPath, Body: body("zhaoliu", "赵"), Status: ok, Golden: "topapi_chat_updategroupnick/other_corp_user"},
		{Name: "not a member", Setup: group, Method: post, Path: nickPath, Body: body("wangwu", "王"), Status: ok, Golden: "topapi_chat_updategroupnick/not_member"},

		// the group: 34001 here, unlike subadmin
		{Name: "chatid missing", Setup: group, Method: post, Path: nickPath, Body: `{"userid":"zhangsan","group_nick":"小张"}`, Status: ok, Golden: "topapi_chat_updategroupnick/chatid_missing"},
		{Name: "chatid unknown", Setup: group, Method: post, Path: nickPath, Body: `{"chatid":"` + unknownChat + `","userid":"zhangsan","group_nick":"小张"}`, Status: ok, Golden: "topapi_chat_updategroupnick/chatid_unknown"},
		{Name: "group of another corp", Setup: group, Method: post, Path: "/topapi/chat/updategroupnick?access_token={{other_token}}", Body: body("manager4220", "他"), Status: ok, Golden: "topapi_chat_updategroupnick/other_corp"},
		{Name: "disbanded", Setup: disbanded, Method: post, Path: nickPath, Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/disbanded"},

		{Name: "permission denied", Setup: group, Method: post, Path: "/topapi/chat/updategroupnick?access_token={{readonly_token}}", Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/permission_denied"},
		{Name: "token missing", Setup: group, Method: post, Path: "/topapi/chat/updategroupnick", Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/token_missing"},
		{Name: "token invalid", Setup: group, Method: post, Path: "/topapi/chat/updategroupnick?access_token=bad", Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/token_invalid"},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: nickPath, Body: body("zhangsan", "小张"), Status: ok, Golden: "topapi_chat_updategroupnick/token_expired"},
	}, *update)
}

// limitApp switches the ordinary app's limits on; the default app stays
// free, so the checks that read groups are not limited themselves.
func limitApp(e *servertest.Env, l ding.Limits) {
	e.T.Helper()
	if err := e.Svc.SetAppLimits(context.Background(), dingtest.OrdinaryAppKey, l); err != nil {
		e.T.Fatalf("SetAppLimits: %v", err)
	}
}

// TestLimitsLegacyGolden: the emulated limits as the legacy plain and
// topapi envelopes answer them.
func TestLimitsLegacyGolden(t *testing.T) {
	t.Parallel()
	const (
		chatGet = "/chat/get?access_token={{ordinary_token}}&chatid={{chatid}}"
		sub     = "/topapi/chat/subadmin/update?access_token={{ordinary_token}}"
		subBody = `{"chatid":"{{chatid}}","userids":"zhangsan","role":2}`
	)
	e := servertest.New(t)
	group(e)
	e.Expand("{{ordinary_token}}")
	good := func(r *servertest.Response) {
		t.Helper()
		wantErrcode(t, r, "0")
	}

	// QPS 2: two calls pass in a second, the third is refused, per API
	limitApp(e, ding.Limits{QPS: 2})
	good(e.Get(chatGet))
	good(e.Get(chatGet))
	servertest.Golden(t, "chat_get/qps_limit", e.Get(chatGet), *update)
	good(e.Post(sub, subBody))
	good(e.Post(sub, subBody))
	servertest.Golden(t, "topapi_chat_subadmin_update/qps_limit", e.Post(sub, subBody), *update)
	e.Clock.Advance(time.Second)
	good(e.Get(chatGet))

	// 2 a minute
	e.Clock.Advance(time.Minute)
	limitApp(e, ding.Limits{PerMinute: 2})
	good(e.Get(chatGet))
	e.Clock.Advance(30 * time.Second)
	good(e.Get(chatGet))
	servertest.Golden(t, "chat_get/qpm_limit", e.Get(chatGet), *update)
	good(e.Post(sub, subBody))
	good(e.Post(sub, subBody))
	servertest.Golden(t, "topapi_chat_subadmin_update/qpm_limit", e.Post(sub, subBody), *update)
	e.Clock.Advance(30 * time.Second)
	good(e.Get(chatGet))

	// the IP allow-list: httptest's 127.0.0.1 is in 127.0.0.0/8, not in 10.0.0.0/8
	limitApp(e, ding.Limits{IPAllowList: []string{"10.0.0.0/8"}})
	servertest.Golden(t, "chat_get/ip_not_allowed", e.Get(chatGet), *update)
	servertest.Golden(t, "topapi_chat_subadmin_update/ip_not_allowed", e.Post(sub, subBody), *update)
	servertest.Golden(t, "topapi_chat_qrcode_get/ip_not_allowed", e.Post("/topapi/chat/qrcode/get?access_token={{ordinary_token}}", `{"chatid":"{{chatid}}","userid":"zhangsan"}`), *update)
	good(e.Get(chget)) // another app of the corp is not bound by it
	limitApp(e, ding.Limits{IPAllowList: []string{"127.0.0.0/8"}})
	good(e.Get(chatGet))
	good(e.Post(sub, subBody))
	limitApp(e, ding.Limits{IPAllowList: []string{"10.1.2.3", "127.0.0.1"}})
	good(e.Get(chatGet))
	limitApp(e, ding.Limits{})

	// a monthly quota of 2 for the corp: token and contacts calls are free
	if err := e.Svc.SetMonthlyQuota(context.Background(), dingtest.CorpID, 2); err != nil {
		t.Fatalf("SetMonthlyQuota: %v", err)
	}
	good(e.Get(chatGet))
	good(e.Post(sub, subBody))
	servertest.Golden(t, "chat_get/monthly_quota", e.Get(chatGet), *update)
	servertest.Golden(t, "topapi_chat_subadmin_update/monthly_quota", e.Post(sub, subBody), *update)
	wantErrcode(t, e.Get(chget), "90020") // the quota is the corp's, over all its apps
	good(e.Get("/gettoken?appkey=" + dingtest.OrdinaryAppKey + "&appsecret=" + dingtest.OrdinaryAppSecret))
	good(e.Get("/user/get?access_token={{ordinary_token}}&userid=zhangsan"))
	good(e.Post("/topapi/v2/user/get?access_token={{ordinary_token}}", `{"userid":"zhangsan"}`))
	good(e.Post("/topapi/user/getbyunionid?access_token={{ordinary_token}}", `{"unionid":"union-lisi"}`))
	// the next month, in China's time
	now := e.Clock.Now()
	e.Clock.Advance(time.Date(2026, 1, 31, 16, 0, 0, 0, time.UTC).Sub(now))
	e.Vars["ordinary_token"] = e.Token(dingtest.OrdinaryAppKey, dingtest.OrdinaryAppSecret)
	good(e.Get(chatGet))
}
