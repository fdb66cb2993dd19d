package service_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// member signs in as a staff member through a freshly issued member token.
func (e *env) member(userID string) *service.MemberCaller {
	e.t.Helper()
	tok, err := e.svc.IssueMemberToken(bg, dingtest.CorpID, userID, 0)
	if err != nil {
		e.t.Fatalf("IssueMemberToken(%s): %v", userID, err)
	}
	mc, err := e.svc.AuthenticateMember(bg, tok.Value)
	if err != nil {
		e.t.Fatalf("AuthenticateMember(%s): %v", userID, err)
	}
	return mc
}

// texts sends n texts "1"…"n" into chatID through chat/send.
func (e *env) texts(chatID string, n int) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := e.send(e.app(), chatID, "", fmt.Sprintf(`{"msgtype":"text","text":{"content":"%d"}}`, i)); err != nil {
			e.t.Fatalf("send %d: %v", i, err)
		}
	}
}

func seqs(ms []ding.Message) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = fmt.Sprint(m.Seq)
	}
	return strings.Join(s, ",")
}

func TestMemberTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok, err := e.svc.IssueMemberToken(bg, dingtest.CorpID, "zhangsan", 0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.IssueMemberToken(bg, dingtest.CorpID, "zhangsan", 0)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value == again.Value || !strings.HasPrefix(tok.Value, "mt") {
		t.Fatalf("tokens %q and %q: want two distinct mt… tokens", tok.Value, again.Value)
	}
	for _, v := range []string{tok.Value, again.Value} { // issuing one does not revoke another
		mc, err := e.svc.AuthenticateMember(bg, v)
		if err != nil || mc.CorpID != dingtest.CorpID || mc.UserID != "zhangsan" {
			t.Fatalf("AuthenticateMember(%s) = %+v, %v", v, mc, err)
		}
	}
	for _, c := range []struct {
		name, corp, user string
		kind             ding.Kind
		reason           ding.Reason
	}{
		{"unknown user", dingtest.CorpID, "nobody", ding.NotFound, ding.ReasonUserNotFound},
		{"user of another corp", dingtest.CorpID, "zhaoliu", ding.NotFound, ding.ReasonUserNotFound},
		{"unknown corp", "dingnosuchcorp", "zhangsan", ding.NotFound, ding.ReasonUserNotFound},
		{"external contact", dingtest.CorpID, "ext001", ding.NotFound, ding.ReasonUserNotFound},
		{"corp missing", "", "zhangsan", ding.Invalid, ding.ReasonMissingParam},
		{"user missing", dingtest.CorpID, "", ding.Invalid, ding.ReasonMissingParam},
	} {
		_, err := e.svc.IssueMemberToken(bg, c.corp, c.user, 0)
		wantErr(t, err, c.kind, c.reason, c.name)
	}
	_, err = e.svc.AuthenticateMember(bg, "")
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenMissing, "no member token")
	_, err = e.svc.AuthenticateMember(bg, "mtbogus")
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenInvalid, "bogus member token")
	// an app's access token is not a member token
	app, err := e.svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateMember(bg, app.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenInvalid, "app token as member token")
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const configured = "configured-admin-token"
	if got, err := e.svc.AdminToken(bg, configured); err != nil || got.Hash != ding.SecretHash(configured) || !got.Configured || got.Minted != "" {
		t.Fatalf("AdminToken(configured) = %+v, %v", got, err)
	}
	if _, err := e.svc.AdminToken(bg, "short"); !ding.IsKind(err, ding.Invalid) {
		t.Fatalf("AdminToken(short) = %v, want Invalid", err)
	}
	first, err := e.svc.AdminToken(bg, "")
	if err != nil || !strings.HasPrefix(first.Minted, "adm") || first.Hash != ding.SecretHash(first.Minted) {
		t.Fatalf("AdminToken() = %+v, %v", first, err)
	}
	// kept as its hash: a later start checks requests against it but cannot show it
	if again, err := e.svc.AdminToken(bg, ""); err != nil || again.Hash != first.Hash || again.Minted != "" {
		t.Fatalf("second AdminToken() = %+v, %v; want the kept hash %q and nothing to show", again, err, first.Hash)
	}
	if v, err := e.st.Setting(bg, "admin_token_hash", "unset"); err != nil || v != first.Hash || strings.Contains(v, first.Minted) {
		t.Fatalf("stored admin token = %q, %v; want only its hash", v, err)
	}
}

func TestMemberGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.group("zhangsan")
	e.clock.Advance(time.Second)
	b := e.group("zhangsan", "lisi")
	e.group("lisi") // not zhangsan's
	e.texts(b.ChatID, 3)
	zs := e.member("zhangsan")
	if _, err := e.svc.MemberMarkRead(bg, zs, b.ChatID, 2); err != nil {
		t.Fatal(err)
	}
	gs, err := e.svc.MemberGroups(bg, zs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range gs {
		got = append(got, fmt.Sprintf("%s:%d/%d", g.Group.ChatID, g.ReadSeq, g.LastSeq))
	}
	want := []string{b.ChatID + ":2/3", a.ChatID + ":0/0"} // newest first, never c
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("zhangsan's groups = %v, want %v", got, want)
	}
	none, err := e.svc.MemberGroups(bg, e.member("wangwu"))
	if err != nil || len(none) != 0 {
		t.Fatalf("wangwu's groups = %v, %v; want none", none, err)
	}
}

func TestMemberMessagesPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	e.texts(g.ChatID, 7)
	zs := e.member("zhangsan")
	page := func(q ding.MessageQuery) ([]ding.Message, bool) {
		t.Helper()
		ms, more, err := e.svc.MemberMessages(bg, zs, g.ChatID, q)
		if err != nil {
			t.Fatalf("MemberMessages(%+v): %v", q, err)
		}
		return ms, more
	}
	for _, c := range []struct {
		q    ding.MessageQuery
		want string
		more bool
	}{
		{ding.MessageQuery{Desc: true, Limit: 3}, "7,6,5", true},
		{ding.MessageQuery{Desc: true, Before: 5, Limit: 3}, "4,3,2", true},
		{ding.MessageQuery{Desc: true, Before: 2, Limit: 3}, "1", false},
		{ding.MessageQuery{Desc: true, Before: 4, Limit: 3}, "3,2,1", false}, // exactly the rest: no more
		{ding.MessageQuery{Desc: true, Before: 1, Limit: 3}, "", false},
		{ding.MessageQuery{Limit: 3}, "1,2,3", true},
		{ding.MessageQuery{After: 3, Limit: 3}, "4,5,6", true},
		{ding.MessageQuery{After: 6, Limit: 3}, "7", false},
		{ding.MessageQuery{After: 4, Limit: 3}, "5,6,7", false},
		{ding.MessageQuery{After: 7, Limit: 3}, "", false},
		{ding.MessageQuery{Desc: true}, "7,6,5,4,3,2,1", false}, // limit 0: the default page of 20
		{ding.MessageQuery{Desc: true, Limit: 1}, "7", true},
		{ding.MessageQuery{Limit: service.MaxMemberPage}, "1,2,3,4,5,6,7", false},
	} {
		ms, more := page(c.q)
		if seqs(ms) != c.want || more != c.more {
			t.Errorf("%+v = [%s] more %v, want [%s] more %v", c.q, seqs(ms), more, c.want, c.more)
		}
	}
	e.texts(g.ChatID, 25)
	if ms, more := page(ding.MessageQuery{Desc: true}); len(ms) != service.DefaultMemberPage || !more || ms[0].Seq != 32 {
		t.Fatalf("default page: %d messages from %d, more %v", len(ms), ms[0].Seq, more)
	}
	for _, c := range []struct {
		name   string
		q      ding.MessageQuery
		reason ding.Reason
	}{
		{"limit 101", ding.MessageQuery{Limit: service.MaxMemberPage + 1}, ding.ReasonBadSize},
		{"limit negative", ding.MessageQuery{Limit: -1}, ding.ReasonBadSize},
		{"before negative", ding.MessageQuery{Desc: true, Before: -1}, ding.ReasonBadCursor},
		{"after negative", ding.MessageQuery{After: -1}, ding.ReasonBadCursor},
	} {
		_, _, err := e.svc.MemberMessages(bg, zs, g.ChatID, c.q)
		wantErr(t, err, ding.Invalid, c.reason, c.name)
	}
}

// TestMemberSeesOnlyOwnGroups: a group the member is not in, one of
// another corp and one that does not exist all answer the same NotFound.
func TestMemberSeesOnlyOwnGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.group("zhangsan")
	theirs := e.group("lisi")
	e.texts(theirs.ChatID, 2)
	other := e.create(e.otherApp(), service.CreateGroupInput{Name: "他司群", Owner: "manager4220", UserIDs: []string{"manager4220", "zhaoliu"}})
	zs := e.member("zhangsan")
	text := []byte(`{"msgtype":"text","text":{"content":"x"}}`)
	for _, id := range []string{theirs.ChatID, other.ChatID, "chat0123456789abcdef0123456789abcdef"} {
		_, _, err := e.svc.MemberMessages(bg, zs, id, ding.MessageQuery{Desc: true})
		wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "messages of "+id)
		_, err = e.svc.MemberSend(bg, zs, id, text)
		wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "send to "+id)
		_, err = e.svc.MemberMarkRead(bg, zs, id, 1)
		wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "mark read in "+id)
	}
	_, _, err := e.svc.MemberMessages(bg, zs, "", ding.MessageQuery{})
	wantErr(t, err, ding.Invalid, ding.ReasonChatIDMissing, "no chatid")
	if n := len(e.timeline(theirs.ChatID)); n != 2 {
		t.Fatalf("their group has %d messages, want 2", n)
	}
	// the manager4220 of the other corp is not the one of this corp
	om := &service.MemberCaller{CorpID: dingtest.OtherCorpID, UserID: "manager4220"}
	_, _, err = e.svc.MemberMessages(bg, om, mine.ChatID, ding.MessageQuery{})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "same userid, other corp")
	// a member who was removed loses the group
	e.update(e.app(), service.UpdateGroupInput{ChatID: mine.ChatID, DelUserIDs: []string{"zhangsan"}})
	_, _, err = e.svc.MemberMessages(bg, zs, mine.ChatID, ding.MessageQuery{})
	wantErr(t, err, ding.NotFound, ding.ReasonChatNotFound, "after removal")
}

func TestMemberSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	e.media("@img", ding.MediaImage)
	e.media("@voice", ding.MediaVoice)
	e.media("@file", ding.MediaFile)
	if err := e.st.CreateMedia(bg, &ding.Media{ID: "@theirs", CorpID: dingtest.OtherCorpID, Type: ding.MediaImage, Digest: "00", Size: 1}); err != nil {
		t.Fatal(err)
	}
	zs := e.member("zhangsan")
	okBodies := []string{
		`{"msgtype":"text","text":{"content":"你好"}}`,
		`{"msgtype":"markdown","markdown":{"title":"t","text":"**x**"}}`,
		`{"msgtype":"image","image":{"media_id":"@img"}}`,
	}
	for i, b := range okBodies {
		m, err := e.svc.MemberSend(bg, zs, g.ChatID, []byte(b))
		if err != nil {
			t.Fatalf("member send %s: %v", b, err)
		}
		if m.Seq != int64(i+1) || m.SenderType != ding.SenderUser || m.Sender != "zhangsan" || string(m.Body) != b {
			t.Fatalf("member send stored %+v", m)
		}
	}
	for _, c := range []struct {
		name, body string
		kind       ding.Kind
		reason     ding.Reason
	}{
		{"voice", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":"3"}}`, ding.Invalid, ding.ReasonMsgType},
		{"file", `{"msgtype":"file","file":{"media_id":"@file"}}`, ding.Invalid, ding.ReasonMsgType},
		{"link", `{"msgtype":"link","link":{"messageUrl":"u","picUrl":"p","title":"t","text":"x"}}`, ding.Invalid, ding.ReasonMsgType},
		{"oa", `{"msgtype":"oa","oa":{"message_url":"u","head":{"bgcolor":"FFBBBBBB"},"body":{}}}`, ding.Invalid, ding.ReasonMsgType},
		{"action_card", `{"msgtype":"action_card","action_card":{"markdown":"m","single_title":"a","single_url":"u"}}`, ding.Invalid, ding.ReasonMsgType},
		{"unknown type", `{"msgtype":"video"}`, ding.Invalid, ding.ReasonMsgType},
		{"image of another corp", `{"msgtype":"image","image":{"media_id":"@theirs"}}`, ding.Invalid, ding.ReasonMediaID},
		{"image that is a voice", `{"msgtype":"image","image":{"media_id":"@voice"}}`, ding.Invalid, ding.ReasonMediaID},
		{"text empty", `{"msgtype":"text","text":{"content":""}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"not JSON", `{"msgtype":"text"`, ding.Invalid, ding.ReasonMsgMalformed},
		{"trailing bracket", okBodies[0] + `]`, ding.Invalid, ding.ReasonMsgMalformed},
		{"invalid UTF-8", "{\"msgtype\":\"text\",\"text\":{\"content\":\"\xff\xfe\"}}", ding.Invalid, ding.ReasonMsgMalformed},
		{"too long", exactBytes(ding.MaxMsgBytes + 1), ding.Invalid, ding.ReasonMsgTooLong},
	} {
		_, err := e.svc.MemberSend(bg, zs, g.ChatID, []byte(c.body))
		wantErr(t, err, c.kind, c.reason, c.name)
	}
	if n := len(e.timeline(g.ChatID)); n != len(okBodies) {
		t.Fatalf("timeline has %d messages, want only the %d accepted", n, len(okBodies))
	}
}

func TestMemberMarkRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	zs := e.member("zhangsan")
	mark := func(seq, want int64) {
		t.Helper()
		got, err := e.svc.MemberMarkRead(bg, zs, g.ChatID, seq)
		if err != nil || got != want {
			t.Fatalf("MemberMarkRead(%d) = %d, %v; want %d", seq, got, err, want)
		}
		if stored, err := e.st.ReadMark(bg, g.ChatID, "zhangsan"); err != nil || stored != want {
			t.Fatalf("stored read mark = %d, %v; want %d", stored, err, want)
		}
	}
	mark(5, 0) // nothing to read yet: capped at the newest seq, 0
	e.texts(g.ChatID, 5)
	mark(3, 3)
	mark(2, 3) // never down
	mark(0, 3)
	mark(99, 5) // capped at the newest
	e.texts(g.ChatID, 2)
	mark(6, 6)
	mark(1<<62, 7)
	_, err := e.svc.MemberMarkRead(bg, zs, g.ChatID, -1)
	wantErr(t, err, ding.Invalid, ding.ReasonBadCursor, "negative seq")
	// one member's mark is not another's
	if m, err := e.st.ReadMark(bg, g.ChatID, "manager4220"); err != nil || m != 0 {
		t.Fatalf("manager4220's mark = %d, %v; want 0", m, err)
	}
}

// TestMemberMessagesRecalled: a recalled message keeps its place and says so.
func TestMemberMessagesRecalled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	e.texts(g.ChatID, 2)
	first := e.timeline(g.ChatID)[0]
	if err := e.st.RecallMessage(bg, dingtest.CorpID, first.ID, e.nowMs()+5, nil); err != nil {
		t.Fatal(err)
	}
	ms, _, err := e.svc.MemberMessages(bg, e.member("zhangsan"), g.ChatID, ding.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].RecalledAt != e.nowMs()+5 || ms[1].RecalledAt != 0 {
		t.Fatalf("messages after a recall = %+v", ms)
	}
}

// Member tokens expire, can be revoked, and are kept only as hashes.
func TestMemberTokenExpiryAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	short, err := e.svc.IssueMemberToken(bg, dingtest.CorpID, "zhangsan", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.MemberToken(bg, short.Value); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("the store finds a member token by its plaintext: %v", err)
	}
	if _, err := e.svc.AuthenticateMember(bg, short.Value); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	e.clock.Advance(time.Minute)
	_, err = e.svc.AuthenticateMember(bg, short.Value)
	wantErr(t, err, ding.Unauthenticated, ding.ReasonTokenExpired, "expired member token")

	for _, ttl := range []time.Duration{time.Second, service.MaxMemberTokenTTL + time.Second, -time.Minute} {
		if _, err := e.svc.IssueMemberToken(bg, dingtest.CorpID, "zhangsan", ttl); !ding.IsKind(err, ding.Invalid) {
			t.Errorf("IssueMemberToken(ttl %v) = %v, want Invalid", ttl, err)
		}
	}

	tokA, _ := e.svc.IssueMemberToken(bg, dingtest.CorpID, "lisi", 0)
	tokB, _ := e.svc.IssueMemberToken(bg, dingtest.CorpID, "lisi", 0)
	if n, err := e.svc.RevokeMemberTokens(bg, dingtest.CorpID, "lisi", tokA.Value); err != nil || n != 1 {
		t.Fatalf("revoke one = %d, %v", n, err)
	}
	if _, err := e.svc.AuthenticateMember(bg, tokA.Value); !ding.IsKind(err, ding.Unauthenticated) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if _, err := e.svc.AuthenticateMember(bg, tokB.Value); err != nil {
		t.Fatalf("the other token was revoked too: %v", err)
	}
	if n, err := e.svc.RevokeMemberTokens(bg, dingtest.CorpID, "lisi", ""); err != nil || n < 1 {
		t.Fatalf("revoke all = %d, %v", n, err)
	}
	if _, err := e.svc.AuthenticateMember(bg, tokB.Value); !ding.IsKind(err, ding.Unauthenticated) {
		t.Fatalf("token survives revoke-all: %v", err)
	}
	// another user's token cannot be revoked in lisi's name
	if n, _ := e.svc.RevokeMemberTokens(bg, dingtest.CorpID, "lisi", short.Value); n != 0 {
		t.Fatalf("revoked zhangsan's token through lisi")
	}
}

// Within its validity gettoken returns the same token though the store
// keeps only its hash; a changed secret mints a new one.
func TestAccessTokenRenewedFromHash(t *testing.T) {
	t.Parallel()
	st := dingtest.OpenStore(t)
	if err := st.ApplyOrg(bg, dingtest.Org()); err != nil {
		t.Fatal(err)
	}
	svc := service.New(st, nil, nil) // random ids: the real derivation
	first, err := svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.IssueToken(bg, dingtest.AppKey, dingtest.AppSecret)
	if err != nil || again.Value != first.Value {
		t.Fatalf("second gettoken = %+v, %v; want %q", again, err, first.Value)
	}
	if _, err := st.Token(bg, first.Value); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("the store finds an access token by its plaintext: %v", err)
	}
	if c, err := svc.Authenticate(bg, first.Value); err != nil || c.App.Key != dingtest.AppKey {
		t.Fatalf("Authenticate = %v, %v", c, err)
	}
}
