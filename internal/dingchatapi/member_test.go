package dingchatapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	get  = http.MethodGet
	post = http.MethodPost
)

// bearer is the Authorization header of the member token in {{member}}.
var bearer = map[string]string{"Authorization": "Bearer {{member}}"}

// as issues a member token for user and keeps it as {{member}}.
func as(user string) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		e.T.Helper()
		tok, err := e.Svc.IssueMemberToken(context.Background(), dingtest.CorpID, user, 0)
		if err != nil {
			e.T.Fatalf("IssueMemberToken(%s): %v", user, err)
		}
		e.Vars["member"] = tok.Value
	}
}

// setup runs fs in order.
func setup(fs ...func(e *servertest.Env)) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		for _, f := range fs {
			f(e)
		}
	}
}

// group is the fixture group: manager4220 (owner), zhangsan and lisi.
func group(e *servertest.Env) { e.Group("项目群") }

// texts sends n texts "1"…"n" into the fixture group through chat/send.
func texts(n int) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		e.T.Helper()
		for i := 1; i <= n; i++ {
			r := e.Post("/chat/send?access_token={{token}}", fmt.Sprintf(`{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"%d"}}}`, i))
			if errcode(e.T, r) != "0" {
				e.T.Fatalf("chat/send %d: %s", i, r.Body)
			}
		}
	}
}

func errcode(t testing.TB, r *servertest.Response) string {
	t.Helper()
	v, _ := r.JSON(t)["errcode"].(json.Number)
	return v.String()
}

// otherGroup makes a group zhangsan is not in and keeps its id as {{other_chat}}.
func otherGroup(e *servertest.Env) {
	e.T.Helper()
	g, err := e.Svc.CreateGroup(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret),
		service.CreateGroupInput{Name: "别人的群", Owner: "wangwu", UserIDs: []string{"wangwu", "lisi"}})
	if err != nil {
		e.T.Fatal(err)
	}
	e.Vars["other_chat"] = g.ChatID
	if _, err := e.Svc.SendMessage(context.Background(), e.Caller(dingtest.AppKey, dingtest.AppSecret),
		service.SendInput{ChatID: g.ChatID, Body: []byte(`{"msgtype":"text","text":{"content":"机密"}}`)}); err != nil {
		e.T.Fatal(err)
	}
}

// otherCorpGroup makes a group of the other corp and keeps it as {{other_corp_chat}}.
func otherCorpGroup(e *servertest.Env) {
	e.T.Helper()
	g, err := e.Svc.CreateGroup(context.Background(), e.Caller(dingtest.OtherAppKey, dingtest.OtherAppSecret),
		service.CreateGroupInput{Name: "他司群", Owner: "manager4220", UserIDs: []string{"manager4220", "zhaoliu"}})
	if err != nil {
		e.T.Fatal(err)
	}
	e.Vars["other_corp_chat"] = g.ChatID
}

func media(e *servertest.Env) {
	e.T.Helper()
	for _, m := range []ding.Media{
		{ID: "@memberimage", CorpID: dingtest.CorpID, Type: ding.MediaImage},
		{ID: "@membervoice", CorpID: dingtest.CorpID, Type: ding.MediaVoice},
		{ID: "@theirimage", CorpID: dingtest.OtherCorpID, Type: ding.MediaImage},
	} {
		m.Digest, m.Size = "00", 1
		if err := e.Store.CreateMedia(context.Background(), &m); err != nil {
			e.T.Fatal(err)
		}
	}
}

// errorIs checks a DingChat API error: JSON {"code","message","requestid"}
// with the v1.0 content type.
func errorIs(code string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		if got, want := r.ContentType(), "application/json;charset=utf-8"; got != want {
			t.Errorf("Content-Type = %q, want %q", got, want)
		}
		m := r.JSON(t)
		if len(m) != 3 || m["code"] != code || m["message"] == "" || m["requestid"] == "" {
			t.Fatalf("error body = %s, want {code %q, message, requestid}", r.Body, code)
		}
	}
}

// lastSeq is the fixture group's newest seq.
func lastSeq(t testing.TB, e *servertest.Env, chat string) int64 {
	t.Helper()
	n, err := e.Store.LastSeq(context.Background(), e.Vars[chat])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// timelineIs checks the fixture group's timeline holds n messages.
func timelineIs(n int64) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		if got := lastSeq(t, e, "chatid"); got != n {
			t.Fatalf("timeline holds %d messages, want %d", got, n)
		}
	}
}

func TestMemberAPIGolden(t *testing.T) {
	msgs := "/_dingchat/member/groups/{{chatid}}/messages"
	read := "/_dingchat/member/groups/{{chatid}}/read"
	zs := as("zhangsan")
	seven := setup(group, texts(7), zs)
	refused := func(code string, n int64) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			errorIs(code)(t, e, r)
			timelineIs(n)(t, e, r)
		}
	}
	servertest.Run(t, []servertest.Case{
		{Name: "me", Setup: zs, Method: get, Path: "/_dingchat/member/me", Header: bearer, Status: servertest.OK, Golden: "member/me"},
		{Name: "no token", Method: get, Path: "/_dingchat/member/me", Status: http.StatusUnauthorized, Golden: "member/token_missing", Check: errorIs("token_missing")},
		{Name: "unknown token", Method: get, Path: "/_dingchat/member/me", Header: map[string]string{"Authorization": "Bearer mtnosuchtoken"},
			Status: http.StatusUnauthorized, Golden: "member/token_invalid", Check: errorIs("token_invalid")},
		{Name: "token without Bearer", Setup: zs, Method: get, Path: "/_dingchat/member/me", Header: map[string]string{"Authorization": "{{member}}"},
			Status: http.StatusUnauthorized, Golden: "member/token_no_scheme", Check: errorIs("token_missing")},
		{Name: "token in the query is not read", Setup: zs, Method: get, Path: "/_dingchat/member/me?access_token={{member}}",
			Status: http.StatusUnauthorized, Golden: "member/token_in_query", Check: errorIs("token_missing")},
		{Name: "unknown DingChat path", Setup: zs, Method: get, Path: "/_dingchat/member/nosuch", Header: bearer,
			Status: http.StatusNotFound, Golden: "member/unknown_path", Check: errorIs("not_found")},
		{Name: "wrong method", Setup: zs, Method: http.MethodDelete, Path: "/_dingchat/member/me", Header: bearer,
			Status: http.StatusNotFound, Check: errorIs("not_found")},
		{Name: "an app's access token", Method: get, Path: "/_dingchat/member/me", Header: map[string]string{"Authorization": "Bearer {{token}}"},
			Status: http.StatusUnauthorized, Golden: "member/app_token", Check: errorIs("token_invalid")},

		{Name: "groups", Setup: setup(group, texts(3), otherGroup, zs, func(e *servertest.Env) {
			r := e.Do(servertest.Request{Method: post, Path: read, Header: bearer, Body: `{"seq":2}`})
			if r.Status != http.StatusOK {
				e.T.Fatalf("mark read: %s", r.Body)
			}
		}), Method: get, Path: "/_dingchat/member/groups", Header: bearer, Status: servertest.OK, Golden: "member/groups"},
		{Name: "no groups", Setup: as("user0001"), Method: get, Path: "/_dingchat/member/groups", Header: bearer, Status: servertest.OK, Golden: "member/groups_none"},

		{Name: "newest page", Setup: seven, Method: get, Path: msgs + "?limit=3", Header: bearer, Status: servertest.OK, Golden: "member/messages_newest"},
		{Name: "older page", Setup: seven, Method: get, Path: msgs + "?limit=3&cursor=5", Header: bearer, Status: servertest.OK, Golden: "member/messages_older"},
		{Name: "oldest page", Setup: seven, Method: get, Path: msgs + "?order=asc&limit=3", Header: bearer, Status: servertest.OK, Golden: "member/messages_oldest"},
		{Name: "last page oldest first", Setup: seven, Method: get, Path: msgs + "?order=asc&limit=3&cursor=6", Header: bearer, Status: servertest.OK, Golden: "member/messages_asc_last"},
		{Name: "empty timeline", Setup: setup(group, zs), Method: get, Path: msgs, Header: bearer, Status: servertest.OK, Golden: "member/messages_empty"},
		{Name: "every kind of message", Setup: setup(group, media, zs, func(e *servertest.Env) {
			for _, m := range []string{
				`{"msgtype":"link","link":{"messageUrl":"https://a.example/?a=1&b=<2>","picUrl":"@memberimage","title":"链接","text":"正文"}}`,
				`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB","text":"审批"},"body":{"file_count":"3"},"status_bar":{}}}`,
				"{ \"msgtype\" : \"text\",\n \"text\": {\"content\": \"\\u4f60\\u597d\"} }",
			} {
				if r := e.Post("/chat/send?access_token={{token}}", `{"chatid":"{{chatid}}","msg":`+m+`}`); errcode(e.T, r) != "0" {
					e.T.Fatalf("chat/send: %s", r.Body)
				}
			}
			if r := e.Post("/chat/send?access_token={{token}}", `{"chatid":"{{chatid}}","sender":"lisi","msgtype":"text","text":{"content":"旧"}}`); errcode(e.T, r) != "0" {
				e.T.Fatalf("chat/send: %s", r.Body)
			}
		}), Method: get, Path: msgs + "?order=asc", Header: bearer, Status: servertest.OK, Golden: "member/messages_kinds"},
		{Name: "recalled", Setup: setup(seven, func(e *servertest.Env) {
			ms, err := e.Store.Messages(context.Background(), e.Vars["chatid"], ding.MessageQuery{After: 5, Limit: 1})
			if err != nil || len(ms) != 1 {
				e.T.Fatalf("Messages: %v", err)
			}
			if err := e.Store.RecallMessage(context.Background(), dingtest.CorpID, ms[0].ID, e.Clock.Now().UnixMilli()+1000, nil); err != nil {
				e.T.Fatal(err)
			}
		}), Method: get, Path: msgs + "?limit=3", Header: bearer, Status: servertest.OK, Golden: "member/messages_recalled"},
		{Name: "limit 0 is the default page", Setup: setup(group, texts(25), zs), Method: get, Path: msgs + "?limit=0", Header: bearer, Status: servertest.OK,
			Check: pageIs(20, 25, true)},
		{Name: "limit 1", Setup: seven, Method: get, Path: msgs + "?limit=1", Header: bearer, Status: servertest.OK, Check: pageIs(1, 7, true)},
		{Name: "limit 100", Setup: setup(group, texts(100), zs), Method: get, Path: msgs + "?limit=100", Header: bearer, Status: servertest.OK, Check: pageIs(100, 100, false)},
		{Name: "limit 101", Setup: seven, Method: get, Path: msgs + "?limit=101", Header: bearer, Status: http.StatusBadRequest, Golden: "member/limit_101", Check: errorIs("bad_size")},
		{Name: "limit negative", Setup: seven, Method: get, Path: msgs + "?limit=-1", Header: bearer, Status: http.StatusBadRequest, Check: errorIs("bad_size")},
		{Name: "limit not a number", Setup: seven, Method: get, Path: msgs + "?limit=ten", Header: bearer, Status: http.StatusBadRequest, Check: errorIs("bad_size")},
		{Name: "cursor not a number", Setup: seven, Method: get, Path: msgs + "?cursor=x", Header: bearer, Status: http.StatusBadRequest, Golden: "member/cursor_bad", Check: errorIs("bad_cursor")},
		{Name: "cursor negative", Setup: seven, Method: get, Path: msgs + "?order=asc&cursor=-1", Header: bearer, Status: http.StatusBadRequest, Check: errorIs("bad_cursor")},
		{Name: "order unknown", Setup: seven, Method: get, Path: msgs + "?order=newest", Header: bearer, Status: http.StatusBadRequest, Golden: "member/order_bad", Check: errorIs("invalid_param")},

		// groups the member is not in look like groups that do not exist
		{Name: "another group's messages", Setup: setup(group, otherGroup, zs), Method: get, Path: "/_dingchat/member/groups/{{other_chat}}/messages", Header: bearer,
			Status: http.StatusNotFound, Golden: "member/not_member", Check: sameAsUnknown(get, "messages", "")},
		{Name: "another corp's group", Setup: setup(group, otherCorpGroup, zs), Method: get, Path: "/_dingchat/member/groups/{{other_corp_chat}}/messages", Header: bearer,
			Status: http.StatusNotFound, Check: sameAsUnknown(get, "messages", "")},
		{Name: "unknown group", Setup: setup(group, zs), Method: get, Path: "/_dingchat/member/groups/chat0123456789abcdef0123456789abcdef/messages", Header: bearer,
			Status: http.StatusNotFound, Golden: "member/unknown_group", Check: errorIs("chat_not_found")},
		{Name: "send into another group", Setup: setup(group, otherGroup, zs), Method: post, Path: "/_dingchat/member/groups/{{other_chat}}/messages", Header: bearer,
			Body: `{"msgtype":"text","text":{"content":"x"}}`, Status: http.StatusNotFound, Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				sameAsUnknown(post, "messages", `{"msgtype":"text","text":{"content":"x"}}`)(t, e, r)
				if n := lastSeq(t, e, "other_chat"); n != 1 {
					t.Fatalf("the other group holds %d messages, want 1", n)
				}
			}},
		{Name: "mark read in another group", Setup: setup(group, otherGroup, zs), Method: post, Path: "/_dingchat/member/groups/{{other_chat}}/read", Header: bearer,
			Body: `{"seq":1}`, Status: http.StatusNotFound, Check: sameAsUnknown(post, "read", `{"seq":1}`)},

		// sending as a member
		{Name: "send text", Setup: setup(group, texts(2), zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"text","text":{"content":"成员"}}`,
			Status: servertest.OK, Golden: "member/send_text", Check: sentAs("zhangsan", `{"msgtype":"text","text":{"content":"成员"}}`)},
		{Name: "send markdown", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"markdown","markdown":{"title":"t","text":"**粗**"}}`,
			Status: servertest.OK, Golden: "member/send_markdown", Check: sentAs("zhangsan", `{"msgtype":"markdown","markdown":{"title":"t","text":"**粗**"}}`)},
		{Name: "send image", Setup: setup(group, media, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"image","image":{"media_id":"@memberimage"}}`,
			Status: servertest.OK, Golden: "member/send_image", Check: sentAs("zhangsan", `{"msgtype":"image","image":{"media_id":"@memberimage"}}`)},
		{Name: "send link", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer,
			Body:   `{"msgtype":"link","link":{"messageUrl":"https://a.example","picUrl":"https://a.example/p.png","title":"t","text":"x"}}`,
			Status: http.StatusBadRequest, Golden: "member/send_link", Check: refused("msg_type", 0)},
		{Name: "send voice", Setup: setup(group, media, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"voice","voice":{"media_id":"@membervoice","duration":"3"}}`,
			Status: http.StatusBadRequest, Check: refused("msg_type", 0)},
		{Name: "send file", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"file","file":{"media_id":"@x"}}`,
			Status: http.StatusBadRequest, Check: refused("msg_type", 0)},
		{Name: "send oa", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"oa","oa":{"message_url":"u","head":{"bgcolor":"FFBBBBBB"},"body":{}}}`,
			Status: http.StatusBadRequest, Check: refused("msg_type", 0)},
		{Name: "send action_card", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer,
			Body: `{"msgtype":"action_card","action_card":{"markdown":"m","single_title":"a","single_url":"u"}}`, Status: http.StatusBadRequest, Check: refused("msg_type", 0)},
		{Name: "send image of another corp", Setup: setup(group, media, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"image","image":{"media_id":"@theirimage"}}`,
			Status: http.StatusBadRequest, Golden: "member/send_media_other_corp", Check: refused("media_id", 0)},
		{Name: "send malformed", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"text","text":{"content":"x"}}]`,
			Status: http.StatusBadRequest, Golden: "member/send_malformed", Check: refused("msg_malformed", 0)},
		{Name: "send 2049 bytes", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer,
			Body:   `{"msgtype":"text","text":{"content":"` + strings.Repeat("x", 2049-len(`{"msgtype":"text","text":{"content":""}}`)) + `"}}`,
			Status: http.StatusBadRequest, Check: refused("msg_too_long", 0)},
		{Name: "send over 64 KiB", Setup: setup(group, zs), Method: post, Path: msgs, Header: bearer, Body: strings.Repeat(" ", 65<<10) + `{}`,
			Status: http.StatusRequestEntityTooLarge, Check: refused("malformed_body", 0)},
		{Name: "send into a disbanded group", Setup: setup(group, zs, func(e *servertest.Env) {
			if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
				e.T.Fatal(err)
			}
		}), Method: post, Path: msgs, Header: bearer, Body: `{"msgtype":"text","text":{"content":"x"}}`, Status: http.StatusConflict, Golden: "member/send_disbanded", Check: refused("chat_disbanded", 0)},

		// read marks
		{Name: "mark read", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{"seq":3}`, Status: servertest.OK, Golden: "member/read", Check: markIs(3)},
		{Name: "mark read past the newest", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{"seq":99}`, Status: servertest.OK, Golden: "member/read_capped", Check: markIs(7)},
		{Name: "mark read lower", Setup: setup(seven, func(e *servertest.Env) {
			e.Do(servertest.Request{Method: post, Path: read, Header: bearer, Body: `{"seq":5}`})
		}), Method: post, Path: read, Header: bearer, Body: `{"seq":2}`, Status: servertest.OK, Golden: "member/read_lower", Check: markIs(5)},
		{Name: "mark read on an empty timeline", Setup: setup(group, zs), Method: post, Path: read, Header: bearer, Body: `{"seq":1}`, Status: servertest.OK, Check: markIs(0)},
		{Name: "mark read negative", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{"seq":-1}`, Status: http.StatusBadRequest, Check: errorIs("bad_cursor")},
		{Name: "mark read without seq", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{}`, Status: http.StatusBadRequest, Golden: "member/read_no_seq", Check: errorIs("missing_param")},
		{Name: "mark read malformed", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{"seq":`, Status: http.StatusBadRequest, Check: errorIs("malformed_body")},
		{Name: "mark read seq a string", Setup: seven, Method: post, Path: read, Header: bearer, Body: `{"seq":"3"}`, Status: http.StatusBadRequest, Check: errorIs("malformed_body")},
	}, *update)
}

// pageIs checks a messages page: n messages, the first with seq first.
func pageIs(n int, first int64, more bool) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		p := decodePage(t, r)
		if len(p.Messages) != n || p.Messages[0].Seq != first || p.HasMore != more {
			t.Fatalf("page of %d from %d, hasMore %v; want %d from %d, %v", len(p.Messages), p.Messages[0].Seq, p.HasMore, n, first, more)
		}
	}
}

// sameAsUnknown checks a refusal answers exactly what the same call on a
// group that does not exist answers, but for the chatid in the message.
func sameAsUnknown(method, what, body string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		const unknown = "chat0123456789abcdef0123456789abcdef"
		u := e.Do(servertest.Request{Method: method, Path: "/_dingchat/member/groups/" + unknown + "/" + what, Header: bearer, Body: body})
		got, want := r.JSON(t), u.JSON(t)
		if r.Status != u.Status || got["code"] != want["code"] || len(got) != len(want) {
			t.Fatalf("answer %d %s, unknown group answers %d %s", r.Status, r.Body, u.Status, u.Body)
		}
		gm, _ := got["message"].(string)
		wm, _ := want["message"].(string)
		for _, v := range []string{"other_chat", "other_corp_chat"} {
			if id := e.Vars[v]; id != "" {
				gm = strings.ReplaceAll(gm, id, unknown)
			}
		}
		if gm != wm {
			t.Fatalf("message %q differs from the unknown group's %q", gm, wm)
		}
	}
}

// sentAs checks a member send: the newest message is body from user.
func sentAs(user, body string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		var out struct {
			MessageID string `json:"messageId"`
			Seq       int64  `json:"seq"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil || out.MessageID == "" {
			t.Fatalf("send answer %s", r.Body)
		}
		if last := lastSeq(t, e, "chatid"); out.Seq != last {
			t.Fatalf("send answered seq %d, newest is %d", out.Seq, last)
		}
		m, err := e.Store.Message(context.Background(), dingtest.CorpID, out.MessageID)
		if err != nil || m.Seq != out.Seq || m.SenderType != ding.SenderUser || m.Sender != user || string(m.Body) != body {
			t.Fatalf("stored %+v (%v), want %s from %s", m, err, body, user)
		}
	}
}

// markIs checks the answer and the stored read mark of the member in {{member}}.
func markIs(want int64) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		var out struct {
			ReadSeq *int64 `json:"readSeq"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil || out.ReadSeq == nil || *out.ReadSeq != want {
			t.Fatalf("answer %s, want readSeq %d", r.Body, want)
		}
		mc, err := e.Svc.AuthenticateMember(context.Background(), e.Vars["member"])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.Store.ReadMark(context.Background(), e.Vars["chatid"], mc.UserID); err != nil || got != want {
			t.Fatalf("stored read mark %d (%v), want %d", got, err, want)
		}
	}
}

type page struct {
	Messages []struct {
		MessageID string          `json:"messageId"`
		Seq       int64           `json:"seq"`
		Msg       json.RawMessage `json:"msg"`
		Recalled  bool            `json:"recalled"`
	} `json:"messages"`
	NextCursor int64 `json:"nextCursor"`
	HasMore    bool  `json:"hasMore"`
}

func decodePage(t testing.TB, r *servertest.Response) page {
	t.Helper()
	var p page
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("page %s: %v", r.Body, err)
	}
	return p
}

// TestMemberMessagesWalk follows nextCursor both ways until hasMore is
// false, for page sizes that do and do not divide the timeline.
func TestMemberMessagesWalk(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	group(e)
	texts(12)(e)
	as("lisi")(e)
	for _, order := range []string{"desc", "asc"} {
		for _, limit := range []int{1, 3, 4, 5, 12, 100} {
			var got []int64
			cursor, pages := int64(0), 0
			for {
				pages++
				if pages > 20 {
					t.Fatalf("%s limit %d: more than 20 pages", order, limit)
				}
				p := decodePage(t, e.Do(servertest.Request{Method: get, Header: bearer,
					Path: fmt.Sprintf("/_dingchat/member/groups/{{chatid}}/messages?order=%s&limit=%d&cursor=%d", order, limit, cursor)}))
				for _, m := range p.Messages {
					got = append(got, m.Seq)
				}
				if len(p.Messages) > 0 && p.NextCursor != p.Messages[len(p.Messages)-1].Seq {
					t.Fatalf("%s limit %d: nextCursor %d is not the last seq of the page", order, limit, p.NextCursor)
				}
				if !p.HasMore {
					break
				}
				cursor = p.NextCursor
			}
			want := make([]int64, 12)
			for i := range want {
				want[i] = int64(i + 1)
				if order == "desc" {
					want[i] = int64(12 - i)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s limit %d: walked %v, want %v", order, limit, got, want)
			}
			if wantPages := (12 + limit - 1) / limit; pages != wantPages {
				t.Errorf("%s limit %d: %d pages, want %d", order, limit, pages, wantPages)
			}
		}
	}
}
