package service_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/service"
)

// send is chat/send through the service as c.
func (e *env) send(c *service.Caller, chatID, sender, body string) (*ding.Message, error) {
	return e.svc.SendMessage(bg, c, service.SendInput{ChatID: chatID, Sender: sender, Body: []byte(body)})
}

// timeline reads a group's whole timeline from the store, oldest first.
func (e *env) timeline(chatID string) []ding.Message {
	e.t.Helper()
	ms, err := e.st.Messages(bg, chatID, ding.MessageQuery{Limit: 1 << 20})
	if err != nil {
		e.t.Fatalf("Messages(%s): %v", chatID, err)
	}
	return ms
}

// exactBytes is a text message of exactly n bytes.
func exactBytes(n int) string {
	const head, tail = `{"msgtype":"text","text":{"content":"`, `"}}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestSendMessageRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan", "lisi")
	ordinary := e.create(e.ordinaryApp(), service.CreateGroupInput{Name: "客户群", Owner: "manager4220", UserIDs: []string{"manager4220"},
		ExtIDs: []string{"ext001"}, ConversationTag: ptr(ding.TagOrdinary)})
	e.media("@img", ding.MediaImage)
	e.media("@voice", ding.MediaVoice)
	e.media("@file", ding.MediaFile)
	if err := e.st.CreateMedia(bg, &ding.Media{ID: "@theirs", CorpID: dingtest.OtherCorpID, Type: ding.MediaImage, Digest: "00", Size: 1}); err != nil {
		t.Fatal(err)
	}
	text := `{"msgtype":"text","text":{"content":"x"}}`
	card := func(fields string) string {
		return `{"msgtype":"action_card","action_card":{"markdown":"m",` + fields + `}}`
	}
	cases := []struct {
		name         string
		c            *service.Caller
		chatID, from string
		body         string
		kind         ding.Kind
		reason       ding.Reason
	}{
		{"read-only app", e.readOnlyApp(), g.ChatID, "", text, ding.Forbidden, ding.ReasonPermissionDenied},
		{"chatid missing", nil, "", "", text, ding.Invalid, ding.ReasonChatIDMissing},
		{"chatid unknown", nil, "chat0123456789abcdef0123456789abcdef", "", text, ding.NotFound, ding.ReasonChatNotFound},
		{"group of another corp", e.otherApp(), g.ChatID, "", text, ding.NotFound, ding.ReasonChatNotFound},
		{"ordinary group", nil, ordinary.ChatID, "", text, ding.Invalid, ding.ReasonGroupKind},
		{"msg of 2049 bytes", nil, g.ChatID, "", exactBytes(2049), ding.Invalid, ding.ReasonMsgTooLong},
		{"not JSON", nil, g.ChatID, "", `{"msgtype":`, ding.Invalid, ding.ReasonMsgMalformed},
		{"trailing bracket", nil, g.ChatID, "", text + `]`, ding.Invalid, ding.ReasonMsgMalformed},
		{"trailing brace", nil, g.ChatID, "", text + `}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"two objects", nil, g.ChatID, "", text + text, ding.Invalid, ding.ReasonMsgMalformed},
		{"text after blanks", nil, g.ChatID, "", text + " \n\tx", ding.Invalid, ding.ReasonMsgMalformed},
		{"an array", nil, g.ChatID, "", `[` + text + `]`, ding.Invalid, ding.ReasonMsgMalformed},
		{"msgtype missing", nil, g.ChatID, "", `{"text":{"content":"x"}}`, ding.Invalid, ding.ReasonMsgType},
		{"msgtype a number", nil, g.ChatID, "", `{"msgtype":1,"text":{"content":"x"}}`, ding.Invalid, ding.ReasonMsgType},
		{"msgtype unknown", nil, g.ChatID, "", `{"msgtype":"video"}`, ding.Invalid, ding.ReasonMsgType},
		{"object missing", nil, g.ChatID, "", `{"msgtype":"markdown"}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"object a list", nil, g.ChatID, "", `{"msgtype":"text","text":["x"]}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"image empty", nil, g.ChatID, "", `{"msgtype":"image","image":{"media_id":""}}`, ding.Invalid, ding.ReasonImageEmpty},
		{"voice empty", nil, g.ChatID, "", `{"msgtype":"voice","voice":{"duration":"3"}}`, ding.Invalid, ding.ReasonVoiceEmpty},
		{"file empty", nil, g.ChatID, "", `{"msgtype":"file","file":{}}`, ding.Invalid, ding.ReasonFileEmpty},
		{"link empty", nil, g.ChatID, "", `{"msgtype":"link","link":{"title":"t","text":"x"}}`, ding.Invalid, ding.ReasonLinkEmpty},
		{"image unknown", nil, g.ChatID, "", `{"msgtype":"image","image":{"media_id":"@nosuch"}}`, ding.Invalid, ding.ReasonMediaID},
		{"image of another corp", nil, g.ChatID, "", `{"msgtype":"image","image":{"media_id":"@theirs"}}`, ding.Invalid, ding.ReasonMediaID},
		{"image that is a file", nil, g.ChatID, "", `{"msgtype":"image","image":{"media_id":"@file"}}`, ding.Invalid, ding.ReasonMediaID},
		{"voice that is an image", nil, g.ChatID, "", `{"msgtype":"voice","voice":{"media_id":"@img","duration":"3"}}`, ding.Invalid, ding.ReasonMediaID},
		{"file that is a voice", nil, g.ChatID, "", `{"msgtype":"file","file":{"media_id":"@voice"}}`, ding.Invalid, ding.ReasonMediaID},
		{"voice 0 s", nil, g.ChatID, "", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":0}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"voice 61 s", nil, g.ChatID, "", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":"61"}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"voice -1 s", nil, g.ChatID, "", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":-1}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"bgcolor short", nil, g.ChatID, "", `{"msgtype":"oa","oa":{"message_url":"u","head":{"bgcolor":"FFF"},"body":{}}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"oa form items not objects", nil, g.ChatID, "", `{"msgtype":"oa","oa":{"message_url":"u","head":{"bgcolor":"FFBBBBBB"},"body":{"form":["k"]}}}`, ding.Invalid, ding.ReasonMsgMalformed},
		{"markdown title 65", nil, g.ChatID, "", `{"msgtype":"markdown","markdown":{"title":"` + cjk(65) + `","text":"x"}}`, ding.Invalid, ding.ReasonMsgTooLong},
		{"single_title 21", nil, g.ChatID, "", card(`"single_title":"` + cjk(21) + `","single_url":"u"`), ding.Invalid, ding.ReasonMsgTooLong},
		{"single_url 501", nil, g.ChatID, "", card(`"single_title":"t","single_url":"` + strings.Repeat("u", 501) + `"`), ding.Invalid, ding.ReasonMsgTooLong},
		{"action_url 701", nil, g.ChatID, "", card(`"btn_orientation":"0","btn_json_list":[{"title":"t","action_url":"` + strings.Repeat("u", 701) + `"}]`), ding.Invalid, ding.ReasonMsgTooLong},
		{"btn_orientation without list", nil, g.ChatID, "", card(`"btn_orientation":"0"`), ding.Invalid, ding.ReasonMsgMalformed},
		{"btn_json_list not a list", nil, g.ChatID, "", card(`"btn_orientation":"0","btn_json_list":{"title":"t"}`), ding.Invalid, ding.ReasonMsgMalformed},
		{"sender unknown", nil, g.ChatID, "nobody", text, ding.Invalid, ding.ReasonSenderUnknown},
		{"sender of another corp", nil, g.ChatID, "zhaoliu", text, ding.Invalid, ding.ReasonSenderUnknown},
		{"sender not a member", nil, g.ChatID, "wangwu", text, ding.Invalid, ding.ReasonSenderNotMember},
	}
	events := len(e.events())
	for _, c := range cases {
		caller := c.c
		if caller == nil {
			caller = e.app()
		}
		_, err := e.send(caller, c.chatID, c.from, c.body)
		wantErr(t, err, c.kind, c.reason, c.name)
	}
	for _, id := range []string{g.ChatID, ordinary.ChatID} {
		if n := len(e.timeline(id)); n != 0 {
			t.Fatalf("refused sends stored %d messages in %s", n, id)
		}
	}
	if got := len(e.events()); got != events {
		t.Fatalf("refused sends wrote %d events", got-events)
	}
}

// TestSendMessageBoundaries: each limit accepts its boundary value and
// refuses one past it.
func TestSendMessageBoundaries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	e.media("@voice", ding.MediaVoice)
	btns := func(n int) string { // a btn_json_list of exactly n characters, "&" in its urls
		const frame = `[{"action_url":"https://a.example/?a=1&b=","title":"好"},{"action_url":"https://a.example/?a=2&c=","title":"否"}]`
		pad := n - len([]rune(frame))
		return strings.Replace(strings.Replace(frame, "b=", "b="+strings.Repeat("z", pad/2), 1), "c=", "c="+strings.Repeat("z", pad-pad/2), 1)
	}
	card := func(fields string) string {
		return `{"msgtype":"action_card","action_card":{"markdown":"m",` + fields + `}}`
	}
	for _, c := range []struct {
		name     string
		ok, over string
	}{
		{"msg bytes", exactBytes(ding.MaxMsgBytes), exactBytes(ding.MaxMsgBytes + 1)},
		{"voice duration", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":"60"}}`, `{"msgtype":"voice","voice":{"media_id":"@voice","duration":"61"}}`},
		{"voice duration from below", `{"msgtype":"voice","voice":{"media_id":"@voice","duration":1}}`, `{"msgtype":"voice","voice":{"media_id":"@voice","duration":0}}`},
		{"markdown title", `{"msgtype":"markdown","markdown":{"title":"` + cjk(64) + `","text":"x"}}`, `{"msgtype":"markdown","markdown":{"title":"` + cjk(65) + `","text":"x"}}`},
		{"link title", `{"msgtype":"link","link":{"messageUrl":"u","picUrl":"p","title":"` + cjk(64) + `","text":"x"}}`,
			`{"msgtype":"link","link":{"messageUrl":"u","picUrl":"p","title":"` + cjk(65) + `","text":"x"}}`},
		{"single_title", card(`"single_title":"` + cjk(20) + `","single_url":"u"`), card(`"single_title":"` + cjk(21) + `","single_url":"u"`)},
		{"single_url", card(`"single_title":"t","single_url":"` + strings.Repeat("u", 500) + `"`), card(`"single_title":"t","single_url":"` + strings.Repeat("u", 501) + `"`)},
		{"button title", card(`"btn_orientation":"1","btn_json_list":[{"title":"` + cjk(20) + `","action_url":"u"}]`),
			card(`"btn_orientation":"1","btn_json_list":[{"title":"` + cjk(21) + `","action_url":"u"}]`)},
		{"action_url", card(`"btn_orientation":"1","btn_json_list":[{"title":"t","action_url":"` + strings.Repeat("u", 700) + `"}]`),
			card(`"btn_orientation":"1","btn_json_list":[{"title":"t","action_url":"` + strings.Repeat("u", 701) + `"}]`)},
		{"btn_json_list", card(`"btn_orientation":"1","btn_json_list":` + btns(1000)), card(`"btn_orientation":"1","btn_json_list":` + btns(1001))},
	} {
		if _, err := e.send(e.app(), g.ChatID, "", c.ok); err != nil {
			t.Errorf("%s at its limit: %v", c.name, err)
		}
		if _, err := e.send(e.app(), g.ChatID, "", c.over); err == nil || ding.ErrorKind(err) != ding.Invalid {
			t.Errorf("%s past its limit: err = %v, want Invalid", c.name, err)
		}
	}
	// 5000 characters of text or markdown never fit in the 2048-byte msg
	for _, body := range []string{
		`{"msgtype":"text","text":{"content":"` + cjk(ding.MaxTextChars) + `"}}`,
		`{"msgtype":"markdown","markdown":{"title":"t","text":"` + strings.Repeat("m", ding.MaxMarkdownChars) + `"}}`,
	} {
		_, err := e.send(e.app(), g.ChatID, "", body)
		wantErr(t, err, ding.Invalid, ding.ReasonMsgTooLong, "5000 characters")
	}
}

// TestSendMessageKeepsBody: the stored body is the msg as sent, byte for
// byte, in either shape; the sender and its kind follow the shape.
func TestSendMessageKeepsBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan")
	bodies := []struct{ sender, body string }{
		{"", "{ \"msgtype\" : \"text\",\n\"text\":{\"content\":\"\\u4f60\\u597d <&> \\/\"}, \"n\": 1.0e2 }"},
		{"zhangsan", `{"chatid":"` + g.ChatID + `","sender":"zhangsan","msgtype":"markdown","markdown":{"title":"t","text":"# x"}}`},
		{"", `{"msgtype":"link","link":{"message_url":"https://a.example/?a=1&b=2","pic_url":"https://a.example/p.png","title":"t","text":"x"}}`},
	}
	for i, b := range bodies {
		m, err := e.send(e.app(), g.ChatID, b.sender, b.body)
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if m.Seq != int64(i+1) || string(m.Body) != b.body {
			t.Fatalf("send %d returned seq %d body %s", i, m.Seq, m.Body)
		}
	}
	tl := e.timeline(g.ChatID)
	if len(tl) != len(bodies) {
		t.Fatalf("timeline has %d messages, want %d", len(tl), len(bodies))
	}
	for i, m := range tl {
		if string(m.Body) != bodies[i].body {
			t.Errorf("message %d stored as %q, want %q", i, m.Body, bodies[i].body)
		}
		wantType, wantSender := ding.SenderApp, dingtest.AppKey
		if bodies[i].sender != "" {
			wantType, wantSender = ding.SenderUser, bodies[i].sender
		}
		if m.SenderType != wantType || m.Sender != wantSender || m.CorpID != dingtest.CorpID || m.CreatedAt != e.nowMs() {
			t.Errorf("message %d from %s/%s of %s at %d", i, m.SenderType, m.Sender, m.CorpID, m.CreatedAt)
		}
	}
}

// TestSendMessageConcurrent: 32 callers send to one 1000-member group at
// once, half through chat/send and half as members. The timeline numbers
// every message 1..N without gap or duplicate and holds one row per
// message, whatever the group's size.
func TestSendMessageConcurrent(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	members := append([]string{"zhangsan"}, userIDs(1, 38)...)
	g := e.group(members...)
	for from := 39; from <= ding.MaxMembers-2; from += 40 {
		e.update(e.app(), service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(from, min(from+39, ding.MaxMembers-2))})
	}
	if n := e.stored(g.ChatID).MemberCount; n != ding.MaxMembers {
		t.Fatalf("group has %d members, want %d", n, ding.MaxMembers)
	}
	const callers, each = 32, 10
	app := e.app()
	sent := make([][]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc := &service.MemberCaller{CorpID: dingtest.CorpID, UserID: dingtest.UserID(i + 1)}
			for j := range each {
				body := fmt.Sprintf(`{"msgtype":"text","text":{"content":"%d-%d"}}`, i, j)
				var m *ding.Message
				var err error
				if i%2 == 0 {
					m, err = e.send(app, g.ChatID, "", body)
				} else {
					m, err = e.svc.MemberSend(bg, mc, g.ChatID, []byte(body))
				}
				if err != nil {
					errs[i] = err
					return
				}
				sent[i] = append(sent[i], m.ID)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	n := callers * each
	if last, err := e.st.LastSeq(bg, g.ChatID); err != nil || last != int64(n) {
		t.Fatalf("LastSeq = %d (%v), want %d", last, err, n)
	}
	tl := e.timeline(g.ChatID)
	if len(tl) != n {
		t.Fatalf("%d rows for %d messages in a %d-member group", len(tl), n, ding.MaxMembers)
	}
	seqOf := map[string]int64{}
	for i, m := range tl {
		if m.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d", i, m.Seq)
		}
		if _, dup := seqOf[m.ID]; dup {
			t.Fatalf("message %s stored twice", m.ID)
		}
		seqOf[m.ID] = m.Seq
	}
	for i, ids := range sent {
		prev := int64(0)
		for _, id := range ids {
			if seqOf[id] <= prev {
				t.Fatalf("caller %d: message %s at seq %d after %d", i, id, seqOf[id], prev)
			}
			prev = seqOf[id]
		}
	}
}

func TestReadList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group("zhangsan", "lisi", "wangwu")
	app := e.app()
	mc := func(u string) *service.MemberCaller { return &service.MemberCaller{CorpID: dingtest.CorpID, UserID: u} }
	first, err := e.send(app, g.ChatID, "", `{"msgtype":"text","text":{"content":"一"}}`)
	if err != nil {
		t.Fatal(err)
	}
	byLisi, err := e.svc.MemberSend(bg, mc("lisi"), g.ChatID, []byte(`{"msgtype":"text","text":{"content":"二"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for u, seq := range map[string]int64{"manager4220": 1, "lisi": 2, "wangwu": 2} {
		if _, err := e.svc.MemberMarkRead(bg, mc(u), g.ChatID, seq); err != nil {
			t.Fatal(err)
		}
	}
	readers := func(id string, cursor, size int64) ([]string, int64) {
		t.Helper()
		ids, next, err := e.svc.ReadList(bg, app, id, cursor, size)
		if err != nil {
			t.Fatalf("ReadList(%s, %d, %d): %v", id, cursor, size, err)
		}
		return ids, next
	}
	if ids, next := readers(first.ID, 0, 4); strings.Join(ids, ",") != "manager4220,lisi,wangwu" || next != 0 {
		t.Fatalf("readers of the first message = %v next %d", ids, next)
	}
	// lisi sent the second: not a reader of her own message
	if ids, _ := readers(byLisi.ID, 0, 4); strings.Join(ids, ",") != "wangwu" {
		t.Fatalf("readers of lisi's message = %v, want [wangwu]", ids)
	}
	ids, next := readers(first.ID, 0, 2)
	if strings.Join(ids, ",") != "manager4220,lisi" || next == 0 {
		t.Fatalf("first page = %v next %d", ids, next)
	}
	if ids, next := readers(first.ID, next, 2); strings.Join(ids, ",") != "wangwu" || next != 0 {
		t.Fatalf("second page = %v next %d", ids, next)
	}
	// a read-only app may read the list
	if _, _, err := e.svc.ReadList(bg, e.readOnlyApp(), first.ID, 0, 1); err != nil {
		t.Fatalf("read-only app: %v", err)
	}
	for _, c := range []struct {
		name         string
		c            *service.Caller
		id           string
		cursor, size int64
		kind         ding.Kind
		reason       ding.Reason
	}{
		{"messageId missing", app, "", 0, 1, ding.Invalid, ding.ReasonMissingParam},
		{"messageId unknown", app, "msgnosuch", 0, 1, ding.NotFound, ding.ReasonMessageNotFound},
		{"message of another corp", e.otherApp(), first.ID, 0, 1, ding.NotFound, ding.ReasonMessageNotFound},
		{"cursor negative", app, first.ID, -1, 1, ding.Invalid, ding.ReasonBadCursor},
		{"size 0", app, first.ID, 0, 0, ding.Invalid, ding.ReasonBadSize},
		{"size negative", app, first.ID, 0, -5, ding.Invalid, ding.ReasonBadSize},
		{"size over the member count", app, first.ID, 0, 5, ding.Invalid, ding.ReasonBadSize},
	} {
		_, _, err := e.svc.ReadList(bg, c.c, c.id, c.cursor, c.size)
		wantErr(t, err, c.kind, c.reason, c.name)
	}
}

// TestReadListSizeCap: size is at most 100 even in a bigger group.
func TestReadListSizeCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group(userIDs(1, 39)...)
	e.update(e.app(), service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(40, 79)})
	e.update(e.app(), service.UpdateGroupInput{ChatID: g.ChatID, AddUserIDs: userIDs(80, 110)})
	m, err := e.send(e.app(), g.ChatID, "", `{"msgtype":"text","text":{"content":"x"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.ReadList(bg, e.app(), m.ID, 0, ding.MaxReadListSize); err != nil {
		t.Fatalf("size 100: %v", err)
	}
	_, _, err = e.svc.ReadList(bg, e.app(), m.ID, 0, ding.MaxReadListSize+1)
	wantErr(t, err, ding.Invalid, ding.ReasonBadSize, "size 101")
}
