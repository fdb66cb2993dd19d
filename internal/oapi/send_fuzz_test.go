package oapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// FuzzChatSend feeds arbitrary bodies, as JSON or as a form, through the
// whole HTTP stack into chat/send. Whatever arrives, the answer is a legacy
// JSON object with a numeric errcode and never a 5xx; a refusal stores
// nothing, and errcode 0 comes with a messageId whose stored msg is what
// was sent, byte for byte, and which the member API then shows.
func FuzzChatSend(f *testing.F) {
	e := servertest.New(f)
	withMedia(e)
	chatid := e.Group("模糊测试群").ChatID
	token := e.Expand("{{token}}")
	member := memberToken(e, "manager4220")
	sendURL := e.URL + "/chat/send?access_token=" + url.QueryEscape(token)
	client := &http.Client{}

	msgs := []string{
		`{"msgtype":"text","text":{"content":"你好"}}`,
		`{"msgtype":"image","image":{"media_id":"` + sendImageID + `"}}`,
		voiceMsg(`"10"`),
		voiceMsg(`60`),
		`{"msgtype":"file","file":{"media_id":"` + sendFileID + `"}}`,
		`{"msgtype":"link","link":{"messageUrl":"https://a.example/1","picUrl":"https://a.example/1.png","title":"标题","text":"正文"}}`,
		`{"msgtype":"link","link":{"message_url":"https://a.example/1","pic_url":"` + sendImageID + `","title":"标题","text":"正文"}}`,
		oaMsg("FFBBBBBB", `,"file_count":3`),
		strings.Replace(oaMsg("ffbbbbbb", `,"file_count":"3"`), `"unit":"元"`, `"body":"元"`, 1),
		markdownMsg("周报", `## 本周\n- 完成`),
		singleCard("周报", "阅读全文", "https://a.example/r"),
		multiCard(`[{"title":"同意","action_url":"https://a.example/y?a=1&b=2"},{"title":"拒绝","action_url":"https://a.example/n"}]`),
		textMsg(2048),
	}
	for _, m := range msgs {
		f.Add(false, `{"chatid":"`+chatid+`","msg":`+m+`}`)
		f.Add(false, `{"chatid":"`+chatid+`","msg":`+jsonText(m)+`}`)
		f.Add(true, "chatid="+chatid+"&msg="+url.QueryEscape(m))
		// the 2016 shape: msgtype and its object beside chatid and sender
		f.Add(false, `{"chatid":"`+chatid+`","sender":"zhangsan",`+m[1:])
	}
	f.Add(true, "chatid="+chatid+"&sender=lisi&msgtype=text&text="+url.QueryEscape(`{"content":"表单"}`))
	f.Add(false, `{"chatid":"`+chatid+`","msg":{"msgtype":"text","text":{"content":"x"}}}]`)
	f.Add(false, `{"chatid":"`+chatid+`","msg":"{\"msgtype\":\"text\",\"text\":{\"content\":\"x\"}}]"}`)
	f.Add(false, `{"chatid":"`+chatid+`","msg":{"msgtype":"text","text":{"content":"\ud800 \u0000"}}}`)
	f.Add(false, "{\"chatid\":\""+chatid+"\",\"msg\":{\"msgtype\":\"text\",\"text\":{\"content\":\"\xff\xfe\"}}}")
	f.Add(false, `{"chatid":"`+chatid+`","msg":{"msgtype":"text","msgtype":"image","text":{"content":"x"}}}`)
	f.Add(false, `{"chatid":`+chatid+`}`)
	f.Add(false, ``)

	f.Fuzz(func(t *testing.T, isForm bool, body string) {
		ctx := context.Background()
		before, err := e.Store.LastSeq(ctx, chatid)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, sendURL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if isForm {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q for %q", ct, body)
		}
		var out struct {
			Errcode   *json.Number `json:"errcode"`
			Errmsg    string       `json:"errmsg"`
			MessageID *string      `json:"messageId"`
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&out); err != nil || out.Errcode == nil {
			t.Fatalf("answer to %q is not a JSON object with a numeric errcode: %s", body, raw)
		}
		if _, err := out.Errcode.Int64(); err != nil {
			t.Fatalf("errcode %q is not an integer", *out.Errcode)
		}
		after, err := e.Store.LastSeq(ctx, chatid)
		if err != nil {
			t.Fatal(err)
		}
		if out.Errcode.String() != "0" {
			if out.MessageID != nil {
				t.Fatalf("refusal with a messageId: %s", raw)
			}
			if out.Errcode.String() == "-1" {
				t.Fatalf("errcode -1 (retried by clients) for %q: %s", body, raw)
			}
			if after != before {
				t.Fatalf("refused send (%s) moved the timeline from %d to %d", raw, before, after)
			}
			return
		}
		if out.MessageID == nil || *out.MessageID == "" {
			t.Fatalf("errcode 0 without a messageId: %s", raw)
		}
		m, err := e.Store.Message(ctx, dingtest.CorpID, *out.MessageID)
		if err != nil {
			t.Fatalf("Message(%s): %v", *out.MessageID, err)
		}
		if m.ChatID != chatid || m.Seq != after || after != before+1 {
			t.Fatalf("stored in %s at seq %d; timeline went %d→%d", m.ChatID, m.Seq, before, after)
		}
		// a form-typed body that opens with "{" is read as JSON
		want, exact := sentMsg(t, isForm && !strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{"), body)
		if exact && !bytes.Equal(m.Body, want) {
			t.Fatalf("stored msg differs from what was sent\ngot:  %q\nwant: %q", m.Body, want)
		}
		if !exact && canonical(t, string(m.Body)) != canonical(t, string(want)) {
			t.Fatalf("stored msg %s is not the form's fields %s", m.Body, want)
		}

		// the member API shows the same message
		mreq, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/_dingchat/member/groups/%s/messages?order=asc&limit=1&cursor=%d", e.URL, chatid, m.Seq-1), nil)
		mreq.Header.Set("Authorization", "Bearer "+member)
		mresp, err := client.Do(mreq)
		if err != nil {
			t.Fatal(err)
		}
		mraw, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		if mresp.StatusCode != http.StatusOK {
			t.Fatalf("member API: %d %s after sending %q", mresp.StatusCode, mraw, body)
		}
		var page struct {
			Messages []memberMessage `json:"messages"`
		}
		if err := json.Unmarshal(mraw, &page); err != nil || len(page.Messages) != 1 || page.Messages[0].MessageID != m.ID {
			t.Fatalf("member API page %s (%v), want message %s", mraw, err, m.ID)
		}
		if got, want := string(page.Messages[0].Msg), compactJSON(t, m.Body); got != want {
			t.Fatalf("member API msg %q, want %q", got, want)
		}
	})
}

// sentMsg is the message object a successful chat/send body carried: the
// "msg" value (its text when sent as a JSON string), or the whole body in
// the 2016 shape. A form in the 2016 shape has no JSON text of its own, so
// its fields come back as an object to compare as a value (exact false).
func sentMsg(t *testing.T, isForm bool, body string) (msg []byte, exact bool) {
	t.Helper()
	if isForm {
		vs, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("a form that does not parse was accepted: %q", body)
		}
		if v, ok := vs["msg"]; ok {
			return []byte(strings.TrimSpace(v[0])), true
		}
		fields := map[string]any{}
		for k, v := range vs {
			var obj any
			if s := strings.TrimSpace(v[0]); json.Unmarshal([]byte(s), &obj) == nil && (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) {
				fields[k] = obj
			} else {
				fields[k] = v[0]
			}
		}
		return []byte(jsonText(fields)), false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		t.Fatalf("a body that is not a JSON object was accepted: %q", body)
	}
	v, ok := top["msg"]
	if !ok || string(v) == "null" {
		return []byte(body), true
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			t.Fatal(err)
		}
		return []byte(s), true
	}
	return v, true
}
