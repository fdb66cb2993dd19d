package dingchatapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/orgfile"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

const memberTestAdminToken = "adm-member-test-secret"

// withAdmin points the Env at a second server over the same service that
// answers the admin API for memberTestAdminToken.
func withAdmin(e *servertest.Env) {
	srv := httptest.NewServer(server.Handler(e.Svc, slog.New(slog.DiscardHandler), server.WithAdminToken(memberTestAdminToken)))
	e.T.Cleanup(srv.Close)
	e.URL = srv.URL
}

var adminBearer = map[string]string{"Authorization": "Bearer " + memberTestAdminToken}

// issued checks an issued member token: it names corp and user, and the
// member API accepts it as that user.
func issued(corp, user string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		var out struct {
			Token  string `json:"token"`
			CorpID string `json:"corpId"`
			UserID string `json:"userid"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil || out.Token == "" || out.CorpID != corp || out.UserID != user {
			t.Fatalf("member token answer %s, want a token for %s/%s", r.Body, corp, user)
		}
		me := e.Do(servertest.Request{Method: get, Path: "/_dingchat/member/me", Header: map[string]string{"Authorization": "Bearer " + out.Token}})
		if m := me.JSON(t); me.Status != http.StatusOK || m["userid"] != user || m["corpId"] != corp {
			t.Fatalf("member/me with the issued token: %d %s", me.Status, me.Body)
		}
	}
}

func TestAdminMemberTokensGolden(t *testing.T) {
	path := "/_dingchat/admin/member-tokens"
	body := func(corp, user string) string { return `{"corpId":"` + corp + `","userid":"` + user + `"}` }
	servertest.Run(t, []servertest.Case{
		{Name: "issue", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body(dingtest.CorpID, "zhangsan"),
			Status: servertest.OK, Golden: "admin_member_tokens/issue", Check: issued(dingtest.CorpID, "zhangsan")},
		{Name: "issue in the other corp", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body(dingtest.OtherCorpID, "zhaoliu"),
			Status: servertest.OK, Check: issued(dingtest.OtherCorpID, "zhaoliu")},
		{Name: "unknown user", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body(dingtest.CorpID, "nobody"),
			Status: http.StatusNotFound, Golden: "admin_member_tokens/unknown_user", Check: errorIs("user_not_found")},
		{Name: "user of another corp", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body(dingtest.CorpID, "zhaoliu"),
			Status: http.StatusNotFound, Check: errorIs("user_not_found")},
		{Name: "unknown corp", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body("dingnosuchcorp", "zhangsan"),
			Status: http.StatusNotFound, Check: errorIs("user_not_found")},
		{Name: "external contact", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: body(dingtest.CorpID, "ext001"),
			Status: http.StatusNotFound, Check: errorIs("user_not_found")},
		{Name: "userid missing", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: `{"corpId":"` + dingtest.CorpID + `"}`,
			Status: http.StatusBadRequest, Golden: "admin_member_tokens/userid_missing", Check: errorIs("missing_param")},
		{Name: "malformed JSON", Setup: withAdmin, Method: post, Path: path, Header: adminBearer, Body: `{"corpId":`,
			Status: http.StatusBadRequest, Check: errorIs("malformed_body")},
		{Name: "no admin token", Setup: withAdmin, Method: post, Path: path, Body: body(dingtest.CorpID, "zhangsan"),
			Status: http.StatusUnauthorized, Golden: "admin_member_tokens/token_missing", Check: errorIs("token_missing")},
		{Name: "wrong admin token", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "Bearer " + memberTestAdminToken + "x"},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Golden: "admin_member_tokens/token_wrong", Check: errorIs("token_invalid")},
		{Name: "lower-case scheme", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "bearer " + memberTestAdminToken},
			Body: body(dingtest.CorpID, "zhangsan"), Status: servertest.OK, Check: issued(dingtest.CorpID, "zhangsan")},
		{Name: "another scheme", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "Basic " + memberTestAdminToken},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_missing")},
		{Name: "a prefix of the admin token", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "Bearer " + memberTestAdminToken[:5]},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_invalid")},
		{Name: "admin token without Bearer", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": memberTestAdminToken},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_missing")},
		{Name: "admin token as Basic", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "Basic " + memberTestAdminToken},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_missing")},
		{Name: "a member token", Setup: setup(withAdmin, as("zhangsan")), Method: post, Path: path, Header: bearer,
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_invalid")},
		{Name: "an app token", Setup: withAdmin, Method: post, Path: path, Header: map[string]string{"Authorization": "Bearer {{token}}"},
			Body: body(dingtest.CorpID, "zhangsan"), Status: http.StatusUnauthorized, Check: errorIs("token_invalid")},
		// without server.WithAdminToken no token opens the admin API
		{Name: "admin API off", Method: post, Path: path, Header: adminBearer, Body: body(dingtest.CorpID, "zhangsan"),
			Status: http.StatusUnauthorized, Golden: "admin_member_tokens/admin_off", Check: errorIs("token_invalid")},
	}, *update)
}

const orgWithTokens = `corps:
  - corpId: dingorgfilecorp00001
    name: 组织文件企业
    apps:
      - appKey: dingorgfileappkey001
        appSecret: orgfile-secret-0001
        agentId: 400001
    users:
      - userid: alice
        name: 爱丽丝
        memberToken: mt-alice-from-the-org-file
      - userid: bob
        name: 鲍勃
`

// TestOrgFileMemberTokens: a memberToken declared for a user in the org
// file opens the member API as that user once the org is applied, and
// stays valid when the same file is applied again.
func TestOrgFileMemberTokens(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	withAdmin(e)
	apply := func() {
		orgs, err := orgfile.Parse(strings.NewReader(orgWithTokens), e.Clock.Now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orgs {
			if err := e.Svc.ApplyOrg(context.Background(), o); err != nil {
				t.Fatal(err)
			}
		}
	}
	alice := map[string]string{"Authorization": "Bearer mt-alice-from-the-org-file"}
	if r := e.Do(servertest.Request{Method: get, Path: "/_dingchat/member/me", Header: alice}); r.Status != http.StatusUnauthorized {
		t.Fatalf("before the org is applied: %d %s", r.Status, r.Body)
	}
	apply()
	r := e.Do(servertest.Request{Method: get, Path: "/_dingchat/member/me", Header: alice})
	if got, want := string(r.Body), `{"corpId":"dingorgfilecorp00001","userid":"alice","name":"爱丽丝"}`; r.Status != http.StatusOK || got != want {
		t.Fatalf("member/me = %d %s, want 200 %s", r.Status, got, want)
	}

	// the org's app makes a group and sends; alice reads it with her token
	tok := e.Token("dingorgfileappkey001", "orgfile-secret-0001")
	cr := e.Post("/chat/create?access_token="+tok, `{"name":"组织群","owner":"alice","useridlist":["alice","bob"]}`)
	chatid, _ := cr.JSON(t)["chatid"].(string)
	if chatid == "" {
		t.Fatalf("chat/create: %s", cr.Body)
	}
	if s := e.Post("/chat/send?access_token="+tok, `{"chatid":"`+chatid+`","msg":{"msgtype":"text","text":{"content":"欢迎"}}}`); errcode(t, s) != "0" {
		t.Fatalf("chat/send: %s", s.Body)
	}
	apply() // applying the same file again keeps the token
	p := decodePage(t, e.Do(servertest.Request{Method: get, Path: "/_dingchat/member/groups/" + chatid + "/messages", Header: alice}))
	if len(p.Messages) != 1 || string(p.Messages[0].Msg) != `{"msgtype":"text","text":{"content":"欢迎"}}` {
		t.Fatalf("alice's timeline: %+v", p)
	}
	// bob has no token in the file; the admin API issues one
	ir := e.Do(servertest.Request{Method: post, Path: "/_dingchat/admin/member-tokens", Header: adminBearer, Body: `{"corpId":"dingorgfilecorp00001","userid":"bob"}`})
	issued("dingorgfilecorp00001", "bob")(t, e, ir)
	// the token is alice's in her corp only: the fixture corp's groups stay hidden
	e.Group("项目群")
	if r := e.Do(servertest.Request{Method: get, Path: "/_dingchat/member/groups/{{chatid}}/messages", Header: alice}); r.Status != http.StatusNotFound {
		t.Fatalf("alice reading another corp's group: %d %s", r.Status, r.Body)
	}
}
