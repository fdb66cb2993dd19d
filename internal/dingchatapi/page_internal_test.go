package dingchatapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/live"
)

// oldPage is the shape the member API encoded a page from before the page
// wrote its own JSON: the bytes must not have changed.
type oldPage struct {
	Messages   []live.MessageJSON `json:"messages"`
	NextCursor int64              `json:"nextCursor"`
	HasMore    bool               `json:"hasMore"`
}

func oldBytes(t *testing.T, ms []ding.Message, more bool) []byte {
	t.Helper()
	p := oldPage{Messages: make([]live.MessageJSON, 0, len(ms)), HasMore: more}
	for i := range ms {
		p.Messages = append(p.Messages, live.MessageView(&ms[i]))
	}
	if len(ms) > 0 {
		p.NextCursor = ms[len(ms)-1].Seq
	}
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, 200, httpx.ContentTypeV1, p)
	return w.Body.Bytes()
}

func TestMessagesPageBytesUnchanged(t *testing.T) {
	msg := func(seq int64, body string, recalled int64) ding.Message {
		return ding.Message{ID: "msgAaI+V4fHPz+SzVJc", CorpID: "dingcorp", ChatID: "chat<&>", Seq: seq, SenderType: ding.SenderUser,
			Sender: "zhang\"san\u2028", MsgType: ding.MsgText, Body: []byte(body), RecalledAt: recalled, CreatedAt: 1767225600123}
	}
	for _, tc := range []struct {
		ms   []ding.Message
		more bool
	}{
		{nil, false},
		{[]ding.Message{}, false},
		{[]ding.Message{msg(3, `{"msgtype":"text","text":{"content":"<hi> & 你好"}}`, 0)}, true},
		{[]ding.Message{msg(9, "{ \"a\" :\n [1, 2] }", 0), msg(8, `{"x":1}`, 1767225600999), msg(7, ``, 0)}, false},
	} {
		want := oldBytes(t, tc.ms, tc.more)
		w := httptest.NewRecorder()
		httpx.WriteJSON(w, 200, httpx.ContentTypeV1, messagesPage(tc.ms, tc.more))
		if !bytes.Equal(w.Body.Bytes(), want) || w.Code != 200 {
			t.Fatalf("page %d = %s, want %s", w.Code, w.Body.Bytes(), want)
		}
		if !json.Valid(want) {
			t.Fatalf("not JSON: %s", want)
		}
	}
	// a body that is not JSON fails the whole answer, as it did
	bad := []ding.Message{msg(2, `{"open":`, 0)}
	want := oldBytes(t, bad, false)
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, 200, httpx.ContentTypeV1, messagesPage(bad, false))
	if w.Code != 500 || !bytes.Equal(w.Body.Bytes(), want) {
		t.Fatalf("bad body: %d %s, want 500 %s", w.Code, w.Body.Bytes(), want)
	}
	// the kept buffer of one answer does not leak into the next
	w = httptest.NewRecorder()
	httpx.WriteJSON(w, 200, httpx.ContentTypeV1, messagesPage(nil, false))
	if got := w.Body.String(); got != `{"messages":[],"nextCursor":0,"hasMore":false}` {
		t.Fatalf("empty page after others = %s", got)
	}
}
