package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fastwego/dingding"
	"github.com/hugozhu/godingtalk"
)

const sendAdminToken = "e2e-admin-token-for-send"

// startSend starts dingchat on the fixed organisation with the admin API
// open to sendAdminToken.
func startSend(t *testing.T) *proc {
	t.Helper()
	needBinary(t)
	dir := t.TempDir()
	return start(t, "--data", filepath.Join(dir, "data"), "--org", writeOrg(t, dir), "--demo=false", "--admin-token", sendAdminToken)
}

// recorder sends over plainHTTP and keeps the bodies the SDK posted to
// chat/send, in order.
type recorder struct {
	plainHTTP
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/chat/send" && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.plainHTTP.RoundTrip(req)
}

func (r *recorder) sent() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// dingchatCall is a call to DingChat's own API with a bearer token.
func dingchatCall(t *testing.T, method, rawURL, token, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, rawURL, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %s: %v", method, rawURL, raw, err)
	}
}

// memberTokenFor issues a member token through the admin API.
func memberTokenFor(t *testing.T, base, user string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	dingchatCall(t, http.MethodPost, base+"/_dingchat/admin/member-tokens", sendAdminToken, `{"corpId":"`+corpID+`","userid":"`+user+`"}`, &out)
	if out.Token == "" {
		t.Fatal("admin API issued no member token")
	}
	return out.Token
}

type shownMessage struct {
	MessageID  string          `json:"messageId"`
	Seq        int64           `json:"seq"`
	SenderType string          `json:"senderType"`
	Sender     string          `json:"sender"`
	MsgType    string          `json:"msgtype"`
	Msg        json.RawMessage `json:"msg"`
}

// memberTimeline is a group's timeline, oldest first, as the member API shows it.
func memberTimeline(t *testing.T, base, token, chatID string) []shownMessage {
	t.Helper()
	var page struct {
		Messages []shownMessage `json:"messages"`
		HasMore  bool           `json:"hasMore"`
	}
	dingchatCall(t, http.MethodGet, base+"/_dingchat/member/groups/"+url.PathEscape(chatID)+"/messages?order=asc&limit=100", token, "", &page)
	if page.HasMore {
		t.Fatal("timeline longer than one page")
	}
	return page.Messages
}

func markRead(t *testing.T, base, token, chatID string, seq int64) {
	t.Helper()
	var out struct {
		ReadSeq int64 `json:"readSeq"`
	}
	dingchatCall(t, http.MethodPost, base+"/_dingchat/member/groups/"+url.PathEscape(chatID)+"/read", token, fmt.Sprintf(`{"seq":%d}`, seq), &out)
	if out.ReadSeq != seq {
		t.Fatalf("read mark = %d, want %d", out.ReadSeq, seq)
	}
}

// TestSendGodingtalk: godingtalk posts chat/send in the 2016 shape (flat,
// with a sender) for every type it has; each send answers a messageId, the
// member API shows the messages in order from their senders with the bodies
// as sent, and godingtalk's getReadList sees the read marks.
// Not parallel: godingtalk reads the server from the process environment.
func TestSendGodingtalk(t *testing.T) {
	p := startSend(t)
	t.Setenv("oapi_server", p.Host)
	tr := &recorder{}
	c := godingtalkClient(appKey, appSecret, tr)
	if err := c.RefreshAccessToken(); err != nil {
		t.Fatalf("RefreshAccessToken: %v", err)
	}
	chatID, err := c.CreateChat("godingtalk 发送群", "manager4220", []string{"manager4220", "zhangsan", "lisi"})
	if err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	upload := func(typ, name, data string) string {
		t.Helper()
		m, err := c.UploadMedia(typ, name, strings.NewReader(data))
		if err != nil || m.MediaID == "" {
			t.Fatalf("UploadMedia(%s): %+v, %v", typ, m, err)
		}
		return m.MediaID
	}
	img := upload("image", "photo.png", "\x89PNG\r\n\x1a\nnot really a picture")
	voice := upload("voice", "hello.amr", "#!AMR\nnot really a voice")
	doc := upload("file", "report.pdf", "%PDF-1.4 not really a document")

	oa := godingtalk.OAMessage{URL: "https://oa.example/1", PcURL: "https://oa.example/pc/1"}
	oa.Head.BgColor, oa.Head.Text = "FFBBBBBB", "审批"
	oa.Body.Title, oa.Body.Content, oa.Body.Author, oa.Body.FileCount, oa.Body.Image = "报销单", "出差报销", "李四", 3, img
	oa.Body.Rich.Num, oa.Body.Rich.Unit = "15.6", "元" // godingtalk writes the unit as "body"
	oa.AppendFormItem("姓名：", "张三")
	oa.AppendFormItem("金额：", "100")

	type sent struct {
		from, msgtype string
		send          func() (godingtalk.MessageResponse, error)
	}
	sends := []sent{
		{"zhangsan", "text", func() (godingtalk.MessageResponse, error) {
			return c.SendTextMessage("zhangsan", chatID, "你好 & <再见>")
		}},
		{"lisi", "image", func() (godingtalk.MessageResponse, error) { return c.SendImageMessage("lisi", chatID, img) }},
		{"zhangsan", "voice", func() (godingtalk.MessageResponse, error) {
			return c.SendVoiceMessage("zhangsan", chatID, voice, "10")
		}},
		{"manager4220", "file", func() (godingtalk.MessageResponse, error) { return c.SendFileMessage("manager4220", chatID, doc) }},
		{"zhangsan", "link", func() (godingtalk.MessageResponse, error) {
			return c.SendLinkMessage("zhangsan", chatID, img, "https://a.example/?a=1&b=2", "链接", "正文")
		}},
		{"lisi", "oa", func() (godingtalk.MessageResponse, error) { return c.SendOAMessage("lisi", chatID, oa) }},
	}
	var ids []string
	for _, s := range sends {
		r, err := s.send()
		if err != nil || r.ErrCode != 0 || r.MessageID == "" {
			t.Fatalf("send %s: %+v, %v", s.msgtype, r, err)
		}
		ids = append(ids, r.MessageID)
	}
	if _, err := c.SendTextMessage("wangwu", chatID, "不在群里"); err == nil || err.Error() != "34007: 发送者不在会话中" {
		t.Errorf("send as a non-member: err = %v, want 34007: 发送者不在会话中", err)
	}
	if _, err := c.SendTextMessage("nobody", chatID, "不在企业"); err == nil || err.Error() != "34006: 发送者不在企业中" {
		t.Errorf("send as an unknown user: err = %v, want 34006: 发送者不在企业中", err)
	}
	if _, err := c.SendImageMessage("lisi", chatID, "@nosuchmedia"); err == nil || err.Error() != "40007: 不合法的媒体文件id" {
		t.Errorf("send of an unknown image: err = %v, want 40007: 不合法的媒体文件id", err)
	}

	lisi := memberTokenFor(t, p.Base, "lisi")
	tl := memberTimeline(t, p.Base, lisi, chatID)
	bodies := tr.sent()
	if len(tl) != len(sends) {
		t.Fatalf("member API shows %d messages, want %d", len(tl), len(sends))
	}
	for i, m := range tl {
		s := sends[i]
		if m.Seq != int64(i+1) || m.MessageID != ids[i] || m.SenderType != "user" || m.Sender != s.from || m.MsgType != s.msgtype {
			t.Errorf("message %d = %s seq %d %s/%s %s, want %s seq %d user/%s %s", i, m.MessageID, m.Seq, m.SenderType, m.Sender, m.MsgType,
				ids[i], i+1, s.from, s.msgtype)
		}
		// the 2016 shape keeps the whole body godingtalk posted, byte for byte
		if string(m.Msg) != string(bodies[i]) {
			t.Errorf("message %d msg = %s, want the body sent %s", i, m.Msg, bodies[i])
		}
	}

	// read marks through the member API; zhangsan's own message is not his to read
	markRead(t, p.Base, lisi, chatID, 6)
	markRead(t, p.Base, memberTokenFor(t, p.Base, "zhangsan"), chatID, 6)
	markRead(t, p.Base, memberTokenFor(t, p.Base, "manager4220"), chatID, 1)
	for _, c2 := range []struct {
		id   string
		size int
		want []string
	}{
		{ids[0], 3, []string{"manager4220", "lisi"}}, // zhangsan's text
		{ids[1], 3, []string{"zhangsan"}},            // lisi's image; manager4220 stopped at seq 1
	} {
		r, err := c.GetMessageReadList(c2.id, 0, c2.size)
		if err != nil || r.NextCursor != 0 || strings.Join(r.ReadUserIdList, ",") != strings.Join(c2.want, ",") {
			t.Errorf("GetMessageReadList(%s) = %+v, %v; want %v", c2.id, r, err, c2.want)
		}
	}
	first, err := c.GetMessageReadList(ids[0], 0, 1)
	if err != nil || len(first.ReadUserIdList) != 1 || first.NextCursor == 0 {
		t.Fatalf("first page of one: %+v, %v", first, err)
	}
	second, err := c.GetMessageReadList(ids[0], int(first.NextCursor), 1)
	if err != nil || strings.Join(append(first.ReadUserIdList, second.ReadUserIdList...), ",") != "manager4220,lisi" || second.NextCursor != 0 {
		t.Fatalf("second page: %+v, %v", second, err)
	}
}

// TestSendFastwego: fastwego posts chat/send in the current shape
// {"chatid","msg":{…}} (and once as a form); each send answers a
// messageId and the member API shows the messages in order, as the app's,
// with msg as sent.
// Not parallel: fastwego keeps its server in a package variable.
func TestSendFastwego(t *testing.T) {
	p := startSend(t)
	oldURL, oldLog := dingding.ServerUrl, dingding.Logger
	dingding.ServerUrl, dingding.Logger = p.Base, nil
	t.Cleanup(func() { dingding.ServerUrl, dingding.Logger = oldURL, oldLog })
	c := fastwegoClient(appKey, appSecret)

	raw, err := fastwegoPost(t, c, "/chat/create", map[string]any{"name": "fastwego 发送群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan", "lisi"}})
	if err != nil {
		t.Fatalf("chat/create: %v", err)
	}
	var created createBody
	if err := json.Unmarshal(raw, &created); err != nil || created.ChatID == "" {
		t.Fatalf("chat/create = %s (%v)", raw, err)
	}
	chatID := created.ChatID

	msgs := []string{
		`{"msgtype":"text","text":{"content":"大家好"}}`,
		`{"msgtype":"markdown","markdown":{"title":"周报","text":"## 本周\n- 完成"}}`,
		`{"msgtype":"link","link":{"message_url":"https://a.example/1","pic_url":"https://a.example/1.png","title":"链接","text":"正文"}}`,
		`{"msgtype":"action_card","action_card":{"title":"审批","markdown":"请审批","btn_orientation":"1","btn_json_list":[{"title":"同意","action_url":"https://a.example/y"},{"title":"拒绝","action_url":"https://a.example/n"}]}}`,
		`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB","text":"审批"},"body":{"title":"报销","rich":{"num":"15.6","body":"元"},"file_count":"2"},"status_bar":{}}}`,
	}
	var ids []string
	for _, m := range msgs {
		raw, err := fastwegoPost(t, c, "/chat/send", map[string]any{"chatid": chatID, "msg": json.RawMessage(m)})
		if err != nil {
			t.Fatalf("chat/send %s: %v", m, err)
		}
		var out struct {
			errBody
			MessageID string `json:"messageId"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.Errcode != 0 || out.MessageID == "" {
			t.Fatalf("chat/send = %s (%v)", raw, err)
		}
		ids = append(ids, out.MessageID)
	}
	// the same shape form-urlencoded, msg as JSON text
	form := `{"msgtype":"text","text":{"content":"表单"}}`
	req, _ := http.NewRequest(http.MethodPost, "/chat/send", strings.NewReader(url.Values{"chatid": {chatID}, "msg": {form}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	raw, err = c.Do(req)
	if err != nil {
		t.Fatalf("chat/send as a form: %v", err)
	}
	var out struct {
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.MessageID == "" {
		t.Fatalf("chat/send as a form = %s", raw)
	}
	msgs, ids = append(msgs, form), append(ids, out.MessageID)

	// refusals reach fastwego as errors
	for _, bad := range []struct{ msg, code string }{
		{`{"msgtype":"video","video":{}}`, "34004"},
		{`{"msgtype":"text"}`, "34014"},
		{`{"msgtype":"text","text":{"content":"` + strings.Repeat("长", 700) + `"}}`, "34016"},
	} {
		if _, err := fastwegoPost(t, c, "/chat/send", map[string]any{"chatid": chatID, "msg": json.RawMessage(bad.msg)}); err == nil ||
			!strings.Contains(err.Error(), `"errcode":`+bad.code) {
			t.Errorf("chat/send %.40s: err = %v, want errcode %s", bad.msg, err, bad.code)
		}
	}
	if _, err := fastwegoPost(t, c, "/chat/send", map[string]any{"chatid": "chatnosuchgroup", "msg": json.RawMessage(msgs[0])}); err == nil ||
		!strings.Contains(err.Error(), `"errcode":34001`) {
		t.Errorf("chat/send to an unknown chatid: err = %v, want errcode 34001", err)
	}

	zs := memberTokenFor(t, p.Base, "zhangsan")
	tl := memberTimeline(t, p.Base, zs, chatID)
	if len(tl) != len(msgs) {
		t.Fatalf("member API shows %d messages, want %d", len(tl), len(msgs))
	}
	for i, m := range tl {
		if m.Seq != int64(i+1) || m.MessageID != ids[i] || m.SenderType != "app" || m.Sender != appKey || string(m.Msg) != msgs[i] {
			t.Errorf("message %d = %s seq %d %s/%s %s, want %s seq %d app/%s %s", i, m.MessageID, m.Seq, m.SenderType, m.Sender, m.Msg,
				ids[i], i+1, appKey, msgs[i])
		}
	}

	// getReadList through fastwego after zhangsan read everything
	markRead(t, p.Base, zs, chatID, int64(len(msgs)))
	req, _ = http.NewRequest(http.MethodGet, "/chat/getReadList?"+url.Values{"messageId": {ids[0]}, "cursor": {"0"}, "size": {"3"}}.Encode(), nil)
	raw, err = c.Do(req)
	if err != nil {
		t.Fatalf("chat/getReadList: %v", err)
	}
	if got, want := string(raw), `{"errcode":0,"errmsg":"ok","readUserIdList":["zhangsan"]}`; got != want {
		t.Errorf("chat/getReadList = %s, want %s", got, want)
	}
}
