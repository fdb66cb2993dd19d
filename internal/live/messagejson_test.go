package live_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/live"
)

// viaEncoding is what the member API wrote for a message before
// AppendMessageJSON: encoding/json over MessageView, HTML left unescaped.
func viaEncoding(m *ding.Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(live.MessageView(m)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func sameAsEncoding(t *testing.T, m *ding.Message) {
	t.Helper()
	want, werr := viaEncoding(m)
	got, gerr := live.AppendMessageJSON([]byte("prefix"), m)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("AppendMessageJSON(%+v) error %v, encoding/json %v", m, gerr, werr)
	}
	if werr != nil {
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("AppendMessageJSON(%+v) =\n%s\nencoding/json:\n%s", m, got, want)
	}
}

var tricky = []string{"", "plain", `quote " and \ back`, "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "你好，世界 👨‍👩‍👧‍👦",
	"line\u2028para\u2029", "bad \xff\xfe utf8 \xe4\xbd", "\xed\xa0\x80 surrogate", "é\u00e9", "trailing \xc3"}

var bodies = []string{`{"msgtype":"text","text":{"content":"hello"}}`, "{ \"a\" : [1, 2.50, \"x y\"] ,\n\t\"b\":null }",
	`{"html":"<a href=\"x\">&</a>","esc":"\u003c\u2028\ud83d\ude00"}`, `"just a string"`, `12`, ``, `{"open":`, `{} {}`, "{\"raw\":\"\x01\"}",
	`{"a":"\u0000"}`, "  {\"lead\":1}  "}

func TestAppendMessageJSONMatchesEncoding(t *testing.T) {
	for _, s := range tricky {
		for _, body := range bodies {
			for _, recalled := range []int64{0, 1767225600999} {
				sameAsEncoding(t, &ding.Message{ID: "msg" + s, ChatID: "chat" + s, Seq: 42, SenderType: s, Sender: s, MsgType: s,
					Body: []byte(body), RecalledAt: recalled, CreatedAt: 1767225600123})
			}
		}
	}
	sameAsEncoding(t, &ding.Message{}) // zero values, nil body
	sameAsEncoding(t, &ding.Message{Seq: -1, CreatedAt: -5, RecalledAt: -7, Body: []byte("{}")})
}

func FuzzAppendMessageJSON(f *testing.F) {
	for i, s := range tricky {
		f.Add(s, bodies[i%len(bodies)], int64(i))
	}
	f.Fuzz(func(t *testing.T, s, body string, recalled int64) {
		sameAsEncoding(t, &ding.Message{ID: s, ChatID: s + "c", Seq: recalled * 3, SenderType: s, Sender: s, MsgType: s,
			Body: []byte(body), RecalledAt: recalled, CreatedAt: recalled + 1})
	})
}
