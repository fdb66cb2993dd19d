package oapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

const sendPath = "/chat/send?access_token={{token}}"

// sendWrapped is a current-shape chat/send body for the fixture group.
func sendWrapped(msg string) string { return `{"chatid":"{{chatid}}","msg":` + msg + `}` }

// sendFlat is a 2016-shape body: msgtype and its object beside chatid,
// after the given leading fields (a sender, or nothing).
func sendFlat(fields string) string { return `{"chatid":"{{chatid}}",` + fields + `}` }

// Media ids withMedia stores: one of each type in the fixture corp and an
// image of the other corp.
const (
	sendImageID      = "@lADPDfJ6Q7LLejDNAljNAlg"
	sendVoiceID      = "@lAzPDfmVbYc7q1rOWJXJeA"
	sendFileID       = "@lAjPDgQ9qXhNcQDOCfhtaw"
	sendOtherImageID = "@lADPDgQ9qXhOtherCorpImg"
)

// withMedia stores media records directly, as media/upload would leave them.
func withMedia(e *servertest.Env) {
	e.T.Helper()
	for _, m := range []ding.Media{
		{ID: sendImageID, CorpID: dingtest.CorpID, Type: ding.MediaImage, FileName: "a.png", ContentType: "image/png"},
		{ID: sendVoiceID, CorpID: dingtest.CorpID, Type: ding.MediaVoice, FileName: "a.amr", ContentType: "audio/amr"},
		{ID: sendFileID, CorpID: dingtest.CorpID, Type: ding.MediaFile, FileName: "a.pdf", ContentType: "application/pdf"},
		{ID: sendOtherImageID, CorpID: dingtest.OtherCorpID, Type: ding.MediaImage, FileName: "b.png", ContentType: "image/png"},
	} {
		m.Digest, m.Size, m.CreatedAt = strings.Repeat("0", 64), 1, e.Clock.Now().UnixMilli()
		if err := e.Store.CreateMedia(context.Background(), &m); err != nil {
			e.T.Fatalf("CreateMedia(%s): %v", m.ID, err)
		}
	}
}

// groupWithMedia is the fixture group plus withMedia.
func groupWithMedia(e *servertest.Env) { group(e); withMedia(e) }

// textMsg is a text msg object of exactly n bytes (ASCII content).
func textMsg(n int) string {
	const head, tail = `{"msgtype":"text","text":{"content":"`, `"}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// cjkText is a text msg whose content is n CJK characters.
func cjkText(n int) string { return `{"msgtype":"text","text":{"content":"` + cjk(n) + `"}}` }

// cjkTextMsg is a text msg object of exactly n bytes, its content as many
// CJK characters (3 bytes each) as fit, padded with ASCII.
func cjkTextMsg(n int) string {
	room := n - len(cjkText(0))
	return `{"msgtype":"text","text":{"content":"` + cjk(room/3) + strings.Repeat("a", room%3) + `"}}`
}

func markdownMsg(title, text string) string {
	return `{"msgtype":"markdown","markdown":{"title":"` + title + `","text":"` + text + `"}}`
}

func singleCard(title, singleTitle, singleURL string) string {
	return `{"msgtype":"action_card","action_card":{"title":"` + title + `","markdown":"## 周报\n请查看","single_title":"` +
		singleTitle + `","single_url":"` + singleURL + `"}}`
}

// btnList is a btn_json_list of two buttons that is exactly n characters
// long in its compact form; sep goes into each action_url (an "&" shows
// that the list is measured as sent, not HTML-escaped).
func btnList(n int, sep string) string {
	const b1, b2 = `[{"action_url":"https://a.example/?x=1` + "%s", `","title":"同意"},{"action_url":"https://b.example/?y=2` + "%s"
	const end = `","title":"拒绝"}]`
	frame := runeLen(fmt.Sprintf(b1, sep)) + runeLen(fmt.Sprintf(b2, sep)) + runeLen(end)
	pad := n - frame
	return fmt.Sprintf(b1, sep) + strings.Repeat("a", pad/2) + fmt.Sprintf(b2, sep) + strings.Repeat("b", pad-pad/2) + end
}

func runeLen(s string) int { return len([]rune(s)) }

func multiCard(list string) string {
	return `{"msgtype":"action_card","action_card":{"title":"审批","markdown":"请审批","btn_orientation":"1","btn_json_list":` + list + `}}`
}

// oaMsg is an oa message with every head, body, form and rich field; body
// is spliced into the body object.
func oaMsg(bgcolor, body string) string {
	return `{"msgtype":"oa","oa":{"message_url":"https://oa.example/1","pc_message_url":"https://oa.example/pc/1",` +
		`"head":{"bgcolor":"` + bgcolor + `","text":"审批"},"body":{"title":"报销单","form":[{"key":"姓名：","value":"张三"},{"key":"金额：","value":"100"}],` +
		`"rich":{"num":"15.6","unit":"元"},"content":"出差报销","image":"` + sendImageID + `","author":"李四"` + body + `},"status_bar":{}}}`
}

func voiceMsg(duration string) string {
	return `{"msgtype":"voice","voice":{"media_id":"` + sendVoiceID + `","duration":` + duration + `}}`
}

// memberToken issues (once per Env) a member-API token for user.
func memberToken(e *servertest.Env, user string) string {
	e.T.Helper()
	key := "mt:" + user // not a {{var}} name, so no request can expand it
	if tok, ok := e.Vars[key]; ok {
		return tok
	}
	tok, err := e.Svc.IssueMemberToken(context.Background(), dingtest.CorpID, user, 0)
	if err != nil {
		e.T.Fatalf("IssueMemberToken(%s): %v", user, err)
	}
	e.Vars[key] = tok.Value
	return tok.Value
}

// memberDo is a call to DingChat's member API as user.
func memberDo(e *servertest.Env, user, method, path, body string) *servertest.Response {
	e.T.Helper()
	return e.Do(servertest.Request{Method: method, Path: path, Body: body,
		Header: map[string]string{"Authorization": "Bearer " + memberToken(e, user)}})
}

// memberMessage is one message as the member API shows it.
type memberMessage struct {
	MessageID  string          `json:"messageId"`
	Seq        int64           `json:"seq"`
	SenderType string          `json:"senderType"`
	Sender     string          `json:"sender"`
	MsgType    string          `json:"msgtype"`
	Msg        json.RawMessage `json:"msg"`
}

// memberTimeline is the whole of chatid's timeline, oldest first, as user sees it
// through the member API.
func memberTimeline(e *servertest.Env, user, chatid string) []memberMessage {
	e.T.Helper()
	var all []memberMessage
	for cursor := int64(0); ; {
		r := memberDo(e, user, http.MethodGet, fmt.Sprintf("/_dingchat/member/groups/%s/messages?order=asc&limit=100&cursor=%d", chatid, cursor), "")
		if r.Status != http.StatusOK {
			e.T.Fatalf("member messages: %d %s", r.Status, r.Body)
		}
		var page struct {
			Messages   []memberMessage `json:"messages"`
			NextCursor int64           `json:"nextCursor"`
			HasMore    bool            `json:"hasMore"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			e.T.Fatalf("member messages %s: %v", r.Body, err)
		}
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
		cursor = page.NextCursor
	}
}

func compactJSON(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return buf.String()
}

// storedMsg checks a successful send: the group's timeline holds exactly
// that message, with msg byte for byte as sent (msg holds {{vars}}), and
// the member API shows it.
func storedMsg(msg string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		wantErrcode(t, r, "0")
		id, _ := r.JSON(t)["messageId"].(string)
		if id == "" {
			t.Fatalf("no messageId in %s", r.Body)
		}
		want := e.Expand(msg)
		m, err := e.Store.Message(context.Background(), dingtest.CorpID, id)
		if err != nil {
			t.Fatalf("Message(%s): %v", id, err)
		}
		if string(m.Body) != want {
			t.Errorf("stored msg differs from what was sent\ngot:  %s\nwant: %s", m.Body, want)
		}
		if m.ChatID != e.Vars["chatid"] || m.Seq != 1 {
			t.Errorf("stored in %s at seq %d, want %s at 1", m.ChatID, m.Seq, e.Vars["chatid"])
		}
		tl := memberTimeline(e, "manager4220", e.Vars["chatid"])
		if len(tl) != 1 || tl[0].MessageID != id {
			t.Fatalf("member timeline = %+v, want the one message %s", tl, id)
		}
		if got, want := string(tl[0].Msg), compactJSON(t, []byte(want)); got != want {
			t.Errorf("member API msg = %s, want %s", got, want)
		}
	}
}

// storedNothing checks that a refused send left every timeline empty.
func storedNothing(t *testing.T, e *servertest.Env, r *servertest.Response) {
	t.Helper()
	if !r.Failed() {
		t.Fatalf("want a refusal, got %s", r.Body)
	}
	if id, ok := e.Vars["chatid"]; ok {
		if n, err := e.Store.LastSeq(context.Background(), id); err != nil || n != 0 {
			t.Fatalf("a refused send left the timeline at seq %d (%v)", n, err)
		}
	}
}

// sendOK is a golden case of a send that succeeds and stores msg.
func sendOK(name, golden, body, msg string, setup ...func(e *servertest.Env)) servertest.Case {
	if len(setup) == 0 {
		setup = []func(e *servertest.Env){groupWithMedia}
	}
	return servertest.Case{Name: name, Setup: both(setup...), Method: post, Path: sendPath, Body: body,
		Status: ok, Golden: "chat_send/" + golden, Check: storedMsg(msg)}
}

// sendErr is a golden case of a send refused with errcode code.
func sendErr(name, golden, code, body string, setup ...func(e *servertest.Env)) servertest.Case {
	if len(setup) == 0 {
		setup = []func(e *servertest.Env){groupWithMedia}
	}
	return servertest.Case{Name: name, Setup: both(setup...), Method: post, Path: sendPath, Body: body,
		Status: ok, Golden: "chat_send/" + golden, Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
			t.Helper()
			wantErrcode(t, r, code)
			storedNothing(t, e, r)
		}}
}

func TestChatSendGolden(t *testing.T) {
	text := `{"msgtype":"text","text":{"content":"你好，DingChat"}}`
	image := `{"msgtype":"image","image":{"media_id":"` + sendImageID + `"}}`
	file := `{"msgtype":"file","file":{"media_id":"` + sendFileID + `"}}`
	linkCamel := `{"msgtype":"link","link":{"messageUrl":"https://a.example/1","picUrl":"https://a.example/1.png","title":"标题","text":"正文"}}`
	linkSnake := `{"msgtype":"link","link":{"message_url":"https://a.example/1","pic_url":"https://a.example/1.png","title":"标题","text":"正文"}}`
	linkMedia := `{"msgtype":"link","link":{"messageUrl":"https://a.example/1","picUrl":"` + sendImageID + `","title":"标题","text":"正文"}}`
	md := markdownMsg("周报", `## 本周\n- 完成 **发布**`)
	// a msg formatted oddly: spacing, escapes, number spellings and key order are kept
	odd := "{ \"text\" : {\"content\":\"\\u4f60\\u597d \\\"x\\\" \\/ <&>\"} ,\n\t\"msgtype\":\"text\", \"extra\": 1.50e1 }"
	flatText := `"sender":"zhangsan","msgtype":"text","text":{"content":"旧接口"}`

	servertest.Run(t, []servertest.Case{
		// each type, in the current shape
		sendOK("text", "text", sendWrapped(text), text),
		sendOK("image", "image", sendWrapped(image), image),
		sendOK("voice duration as a string", "voice", sendWrapped(voiceMsg(`"10"`)), voiceMsg(`"10"`)),
		sendOK("file", "file", sendWrapped(file), file),
		sendOK("link messageUrl/picUrl", "link_camel", sendWrapped(linkCamel), linkCamel),
		sendOK("link message_url/pic_url", "link_snake", sendWrapped(linkSnake), linkSnake),
		sendOK("link picUrl a media id", "link_pic_media", sendWrapped(linkMedia), linkMedia),
		sendOK("oa with every field, empty status_bar, file_count a number", "oa_all_fields",
			sendWrapped(oaMsg("FFBBBBBB", `,"file_count":3`)), oaMsg("FFBBBBBB", `,"file_count":3`)),
		sendOK("oa rich with body instead of unit (godingtalk)", "oa_rich_body",
			sendWrapped(strings.Replace(oaMsg("ffbbbbbb", ""), `"unit":"元"`, `"body":"元"`, 1)), strings.Replace(oaMsg("ffbbbbbb", ""), `"unit":"元"`, `"body":"元"`, 1)),
		sendOK("oa file_count a string", "oa_file_count_string", sendWrapped(oaMsg("FF00FF00", `,"file_count":"3"`)), oaMsg("FF00FF00", `,"file_count":"3"`)),
		sendOK("oa minimal", "oa_minimal", sendWrapped(`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB"},"body":{}}}`),
			`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB"},"body":{}}}`),
		sendOK("markdown", "markdown", sendWrapped(md), md),
		sendOK("action_card single button", "action_card_single", sendWrapped(singleCard("周报", "阅读全文", "https://a.example/r")), singleCard("周报", "阅读全文", "https://a.example/r")),
		sendOK("action_card buttons", "action_card_multi", sendWrapped(multiCard(`[{"title":"同意","action_url":"https://a.example/y"},{"title":"拒绝","action_url":"https://a.example/n"}]`)),
			multiCard(`[{"title":"同意","action_url":"https://a.example/y"},{"title":"拒绝","action_url":"https://a.example/n"}]`)),
		sendOK("action_card btn_orientation a number", "action_card_orientation_number",
			sendWrapped(strings.Replace(multiCard(`[{"title":"好","action_url":"https://a.example/y"}]`), `"1"`, `0`, 1)),
			strings.Replace(multiCard(`[{"title":"好","action_url":"https://a.example/y"}]`), `"1"`, `0`, 1)),

		// shapes and encodings
		sendOK("2016 shape with sender", "flat_sender", sendFlat(flatText), sendFlat(flatText)),
		sendOK("2016 shape without sender (Java SDK)", "flat_no_sender", sendFlat(`"msgtype":"text","text":{"content":"无发送者"}`), sendFlat(`"msgtype":"text","text":{"content":"无发送者"}`)),
		sendOK("2016 shape, image", "flat_image", sendFlat(`"sender":"lisi","msgtype":"image","image":{"media_id":"`+sendImageID+`"}`),
			sendFlat(`"sender":"lisi","msgtype":"image","image":{"media_id":"`+sendImageID+`"}`)),
		sendOK("2016 shape, link in snake case", "flat_link_snake", sendFlat(`"sender":"zhangsan","msgtype":"link","link":`+linkSnake[len(`{"msgtype":"link","link":`):len(linkSnake)-1]),
			sendFlat(`"sender":"zhangsan","msgtype":"link","link":`+linkSnake[len(`{"msgtype":"link","link":`):len(linkSnake)-1])),
		sendOK("msg kept byte for byte", "msg_byte_for_byte", sendWrapped(odd), odd),
		sendOK("msg as JSON text", "msg_json_text", `{"chatid":"{{chatid}}","msg":`+jsonText(text)+`}`, text),
		sendOK("sender beside msg is ignored", "wrapped_with_sender", `{"chatid":"{{chatid}}","sender":"nobody","msg":`+text+`}`, text),
		sendOK("chatid after msg", "chatid_last", `{"msg":`+text+`,"chatid":"{{chatid}}"}`, text),
		{Name: "form-urlencoded with msg as JSON text", Setup: group, Method: post, Path: sendPath,
			Header: map[string]string{"Content-Type": form}, Body: "chatid={{chatid}}&msg=" + url.QueryEscape(" "+text+" "),
			Status: ok, Golden: "chat_send/form_msg", Check: storedMsg(text)},
		{Name: "form-urlencoded 2016 shape", Setup: group, Method: post, Path: sendPath,
			Header: map[string]string{"Content-Type": form}, Body: "chatid={{chatid}}&sender=zhangsan&msgtype=text&text=" + url.QueryEscape(`{"content":"表单"}`),
			Status: ok, Golden: "chat_send/form_flat", Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				wantErrcode(t, r, "0")
				tl := memberTimeline(e, "manager4220", e.Vars["chatid"])
				want := canonical(t, e.Expand(`{"chatid":"{{chatid}}","sender":"zhangsan","msgtype":"text","text":{"content":"表单"}}`))
				if len(tl) != 1 || canonical(t, string(tl[0].Msg)) != want || tl[0].Sender != "zhangsan" {
					t.Fatalf("timeline = %+v, want one message %s from zhangsan", tl, want)
				}
			}},
		{Name: "chunked", Setup: groupWithMedia, Method: post, Path: sendPath, Body: sendWrapped(text), Chunked: true,
			Status: ok, Golden: "chat_send/chunked", Check: storedMsg(text)},
		{Name: "no Content-Type", Setup: groupWithMedia, Method: post, Path: sendPath, Header: map[string]string{"Content-Type": ""}, Body: sendWrapped(text),
			Status: ok, Golden: "chat_send/no_content_type", Check: storedMsg(text)},

		// msgtype and the type's object
		sendErr("msgtype missing", "msgtype_missing", "34004", sendWrapped(`{"text":{"content":"x"}}`)),
		sendErr("msgtype empty", "msgtype_empty", "34004", sendWrapped(`{"msgtype":"","text":{"content":"x"}}`)),
		sendErr("msgtype unknown", "msgtype_unknown", "34004", sendWrapped(`{"msgtype":"video","video":{"media_id":"x"}}`)),
		sendErr("msgtype in another case", "msgtype_case", "34004", sendWrapped(`{"msgtype":"Text","Text":{"content":"x"}}`)),
		sendErr("2016 shape without msgtype", "flat_msgtype_missing", "34004", sendFlat(`"sender":"zhangsan","text":{"content":"x"}`)),
		sendErr("msg null is the 2016 shape without msgtype", "msg_null", "34004", `{"chatid":"{{chatid}}","msg":null}`),
		sendErr("type object missing", "object_missing", "34014", sendWrapped(`{"msgtype":"text"}`)),
		sendErr("type object of another type", "object_other_type", "34014", sendWrapped(`{"msgtype":"text","markdown":{"title":"t","text":"x"}}`)),
		sendErr("type object a string", "object_string", "34014", sendWrapped(`{"msgtype":"text","text":"hello"}`)),
		sendErr("text content empty", "text_empty", "34014", sendWrapped(`{"msgtype":"text","text":{"content":""}}`)),
		sendErr("markdown without text", "markdown_no_text", "34014", sendWrapped(`{"msgtype":"markdown","markdown":{"title":"t"}}`)),
		sendErr("action_card without markdown", "action_card_no_markdown", "34014", sendWrapped(`{"msgtype":"action_card","action_card":{"title":"t","single_title":"a","single_url":"https://a.example"}}`)),
		sendErr("action_card single_title without single_url", "action_card_half_single", "34014", sendWrapped(`{"msgtype":"action_card","action_card":{"markdown":"m","single_title":"a"}}`)),
		sendErr("action_card without buttons", "action_card_no_buttons", "34014", sendWrapped(`{"msgtype":"action_card","action_card":{"markdown":"m"}}`)),
		sendErr("action_card list without orientation", "action_card_no_orientation", "34014", sendWrapped(`{"msgtype":"action_card","action_card":{"markdown":"m","btn_json_list":[{"title":"a","action_url":"https://a.example"}]}}`)),
		sendErr("action_card orientation 2", "action_card_orientation_2", "34014", sendWrapped(strings.Replace(multiCard(`[{"title":"a","action_url":"https://a.example"}]`), `"1"`, `"2"`, 1))),
		sendErr("action_card empty list", "action_card_empty_list", "34014", sendWrapped(multiCard(`[]`))),
		sendErr("action_card button without url", "action_card_button_no_url", "34014", sendWrapped(multiCard(`[{"title":"a"}]`))),
		sendErr("oa without message_url", "oa_no_url", "34014", sendWrapped(`{"msgtype":"oa","oa":{"head":{"bgcolor":"FFBBBBBB"},"body":{}}}`)),
		sendErr("oa without head", "oa_no_head", "34014", sendWrapped(`{"msgtype":"oa","oa":{"message_url":"https://oa.example","body":{}}}`)),
		sendErr("oa without body", "oa_no_body", "34014", sendWrapped(`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB"}}}`)),
		sendErr("oa form an object", "oa_form_object", "34014", sendWrapped(`{"msgtype":"oa","oa":{"message_url":"https://oa.example","head":{"bgcolor":"FFBBBBBB"},"body":{"form":{"key":"k"}}}}`)),
		sendErr("oa bgcolor 7 digits", "oa_bgcolor_7", "34014", sendWrapped(oaMsg("FFBBBBB", ""))),
		sendErr("oa bgcolor 9 digits", "oa_bgcolor_9", "34014", sendWrapped(oaMsg("FFBBBBBBB", ""))),
		sendErr("oa bgcolor not hex", "oa_bgcolor_not_hex", "34014", sendWrapped(oaMsg("GGBBBBBB", ""))),
		sendErr("oa bgcolor with 0x", "oa_bgcolor_0x", "34014", sendWrapped(oaMsg("0xFFBBBB", ""))),
		sendErr("oa bgcolor empty", "oa_bgcolor_empty", "34014", sendWrapped(oaMsg("", ""))),

		// the content-empty codes
		sendErr("image media_id empty", "image_empty", "34008", sendWrapped(`{"msgtype":"image","image":{"media_id":""}}`)),
		sendErr("image media_id missing", "image_missing", "34008", sendWrapped(`{"msgtype":"image","image":{}}`)),
		sendErr("link without messageUrl", "link_no_url", "34009", sendWrapped(`{"msgtype":"link","link":{"picUrl":"https://a.example/1.png","title":"t","text":"x"}}`)),
		sendErr("link without picUrl", "link_no_pic", "34009", sendWrapped(`{"msgtype":"link","link":{"messageUrl":"https://a.example","title":"t","text":"x"}}`)),
		sendErr("link without title", "link_no_title", "34009", sendWrapped(`{"msgtype":"link","link":{"messageUrl":"https://a.example","picUrl":"https://a.example/1.png","text":"x"}}`)),
		sendErr("file media_id empty", "file_empty", "34010", sendWrapped(`{"msgtype":"file","file":{"media_id":""}}`)),
		sendErr("voice media_id empty", "voice_empty", "34011", sendWrapped(`{"msgtype":"voice","voice":{"media_id":"","duration":"10"}}`)),

		// voice duration 1..60
		sendErr("voice duration 0", "voice_duration_0", "34014", sendWrapped(voiceMsg(`"0"`))),
		sendOK("voice duration 1", "voice_duration_1", sendWrapped(voiceMsg(`"1"`)), voiceMsg(`"1"`)),
		sendOK("voice duration 60 as a number", "voice_duration_60", sendWrapped(voiceMsg(`60`)), voiceMsg(`60`)),
		sendErr("voice duration 61", "voice_duration_61", "34014", sendWrapped(voiceMsg(`61`))),
		sendErr("voice duration fractional", "voice_duration_fraction", "34014", sendWrapped(voiceMsg(`"1.5"`))),
		sendErr("voice duration missing", "voice_duration_missing", "34014", sendWrapped(`{"msgtype":"voice","voice":{"media_id":"`+sendVoiceID+`"}}`)),

		// media ids
		sendErr("image media unknown", "image_media_unknown", "40007", sendWrapped(`{"msgtype":"image","image":{"media_id":"@nosuchmedia"}}`)),
		sendErr("image media of another corp", "image_media_other_corp", "40007", sendWrapped(`{"msgtype":"image","image":{"media_id":"`+sendOtherImageID+`"}}`)),
		sendErr("image media a voice", "image_media_wrong_type", "40007", sendWrapped(`{"msgtype":"image","image":{"media_id":"`+sendVoiceID+`"}}`)),
		sendErr("voice media an image", "voice_media_wrong_type", "40007", sendWrapped(`{"msgtype":"voice","voice":{"media_id":"`+sendImageID+`","duration":"5"}}`)),
		sendErr("file media an image", "file_media_wrong_type", "40007", sendWrapped(`{"msgtype":"file","file":{"media_id":"`+sendImageID+`"}}`)),
		sendErr("file media unknown", "file_media_unknown", "40007", sendWrapped(`{"msgtype":"file","file":{"media_id":"@nosuchfile"}}`)),
		sendErr("link picUrl media unknown", "link_media_unknown", "40007", sendWrapped(strings.Replace(linkMedia, sendImageID, "@nosuchpic", 1))),
		sendErr("oa image of another corp", "oa_image_other_corp", "40007", sendWrapped(strings.Replace(oaMsg("FFBBBBBB", ""), sendImageID, sendOtherImageID, 1))),

		// lengths: the msg object in bytes, then each field in characters
		sendOK("msg of 2048 bytes", "msg_2048_bytes", sendWrapped(textMsg(2048)), textMsg(2048)),
		sendErr("msg of 2049 bytes", "msg_2049_bytes", "34016", sendWrapped(textMsg(2049))),
		sendOK("msg of 2048 bytes of CJK text", "msg_2048_bytes_cjk", sendWrapped(cjkTextMsg(2048)), cjkTextMsg(2048)),
		sendErr("msg of 2049 bytes of CJK text", "msg_2049_bytes_cjk", "34016", sendWrapped(cjkTextMsg(2049))),
		// 5000 characters cannot fit in 2048 bytes: the byte cap answers first, with the same code
		sendErr("text content of 5000 CJK characters", "text_5000_cjk", "34016", sendWrapped(cjkText(5000))),
		sendErr("text content of 5001 CJK characters", "text_5001_cjk", "34016", sendWrapped(cjkText(5001))),
		sendErr("markdown text of 5000 characters", "markdown_5000", "34016", sendWrapped(markdownMsg("t", strings.Repeat("m", 5000)))),
		sendErr("markdown text of 5001 characters", "markdown_5001", "34016", sendWrapped(markdownMsg("t", strings.Repeat("m", 5001)))),
		sendOK("markdown title of 64 CJK characters", "markdown_title_64", sendWrapped(markdownMsg(cjk(64), "x")), markdownMsg(cjk(64), "x")),
		sendErr("markdown title of 65 CJK characters", "markdown_title_65", "34016", sendWrapped(markdownMsg(cjk(65), "x"))),
		sendOK("link title of 64 emoji", "link_title_64", sendWrapped(strings.Replace(linkCamel, `"标题"`, `"`+emoji(64)+`"`, 1)), strings.Replace(linkCamel, `"标题"`, `"`+emoji(64)+`"`, 1)),
		sendErr("link title of 65 emoji", "link_title_65", "34016", sendWrapped(strings.Replace(linkCamel, `"标题"`, `"`+emoji(65)+`"`, 1))),
		sendErr("oa body title of 65 characters", "oa_title_65", "34016", sendWrapped(strings.Replace(oaMsg("FFBBBBBB", ""), `"报销单"`, `"`+cjk(65)+`"`, 1))),
		sendOK("action_card title of 64 characters", "action_card_title_64", sendWrapped(singleCard(cjk(64), "看", "https://a.example")), singleCard(cjk(64), "看", "https://a.example")),
		sendErr("action_card title of 65 characters", "action_card_title_65", "34016", sendWrapped(singleCard(cjk(65), "看", "https://a.example"))),
		sendOK("single_title of 20 characters", "single_title_20", sendWrapped(singleCard("t", cjk(20), "https://a.example")), singleCard("t", cjk(20), "https://a.example")),
		sendErr("single_title of 21 characters", "single_title_21", "34016", sendWrapped(singleCard("t", cjk(21), "https://a.example"))),
		sendOK("single_url of 500 characters", "single_url_500", sendWrapped(singleCard("t", "看", "https://a.example/"+strings.Repeat("u", 500-len("https://a.example/")))),
			singleCard("t", "看", "https://a.example/"+strings.Repeat("u", 500-len("https://a.example/")))),
		sendErr("single_url of 501 characters", "single_url_501", "34016", sendWrapped(singleCard("t", "看", "https://a.example/"+strings.Repeat("u", 501-len("https://a.example/"))))),
		sendOK("btn_json_list of 1000 characters", "btn_json_list_1000", sendWrapped(multiCard(btnList(1000, ""))), multiCard(btnList(1000, ""))),
		sendOK("btn_json_list of 1000 characters with & in urls", "btn_json_list_1000_amp", sendWrapped(multiCard(btnList(1000, "&z=3"))), multiCard(btnList(1000, "&z=3"))),
		sendErr("btn_json_list of 1001 characters", "btn_json_list_1001", "34016", sendWrapped(multiCard(btnList(1001, "")))),
		sendOK("button title of 20 characters", "button_title_20", sendWrapped(multiCard(`[{"title":"`+cjk(20)+`","action_url":"https://a.example"}]`)),
			multiCard(`[{"title":"`+cjk(20)+`","action_url":"https://a.example"}]`)),
		sendErr("button title of 21 characters", "button_title_21", "34016", sendWrapped(multiCard(`[{"title":"`+cjk(21)+`","action_url":"https://a.example"}]`))),
		sendOK("action_url of 700 characters", "action_url_700", sendWrapped(multiCard(`[{"title":"a","action_url":"https://a.example/`+strings.Repeat("u", 700-len("https://a.example/"))+`"}]`)),
			multiCard(`[{"title":"a","action_url":"https://a.example/`+strings.Repeat("u", 700-len("https://a.example/"))+`"}]`)),
		sendErr("action_url of 701 characters", "action_url_701", "34016", sendWrapped(multiCard(`[{"title":"a","action_url":"https://a.example/`+strings.Repeat("u", 701-len("https://a.example/"))+`"}]`))),

		// who sends, and where
		sendErr("sender unknown", "sender_unknown", "34006", sendFlat(`"sender":"nobody","msgtype":"text","text":{"content":"x"}`)),
		sendErr("sender of another corp", "sender_other_corp", "34006", sendFlat(`"sender":"zhaoliu","msgtype":"text","text":{"content":"x"}`)),
		sendErr("sender an external contact", "sender_external", "34006", sendFlat(`"sender":"ext001","msgtype":"text","text":{"content":"x"}`)),
		sendErr("sender not in the group", "sender_not_member", "34007", sendFlat(`"sender":"wangwu","msgtype":"text","text":{"content":"x"}`)),
		sendErr("chatid unknown", "chatid_unknown", "34001", `{"chatid":"chat0123456789abcdef0123456789abcdef","msg":`+text+`}`),
		sendErr("chatid missing", "chatid_missing", "34001", `{"msg":`+text+`}`),
		sendErr("chatid empty", "chatid_empty", "34001", `{"chatid":"","msg":`+text+`}`),
		sendErr("openConversationId is not a chatid", "chatid_open_conversation_id", "34001", `{"chatid":"{{openid}}","msg":`+text+`}`),
		{Name: "group of another corp", Setup: group, Method: post, Path: "/chat/send?access_token={{other_token}}", Body: sendWrapped(text),
			Status: ok, Golden: "chat_send/other_corp", Check: func(t *testing.T, e *servertest.Env, r *servertest.Response) {
				wantErrcode(t, r, "34001")
				storedNothing(t, e, r)
			}},
		sendErr("conversationTag 0 group", "ordinary_group", "34015", sendWrapped(text), ordinaryGroup),
		sendErr("disbanded group", "disbanded_group", "34013", sendWrapped(text), group, func(e *servertest.Env) {
			if err := e.Svc.DisbandGroup(context.Background(), service.AdminActor(dingtest.CorpID), e.Vars["chatid"]); err != nil {
				e.T.Fatal(err)
			}
		}),

		// bodies that are not a message
		sendErr("malformed JSON", "malformed_json", "34014", `{"chatid":"{{chatid}}","msg":{"msgtype":"text"`),
		sendErr("empty body", "empty_body", "34014", ``),
		sendErr("JSON array", "json_array", "34014", `[{"chatid":"{{chatid}}"}]`),
		sendErr("JSON null", "json_null", "34014", `null`),
		sendErr("msg an array", "msg_array", "34014", `{"chatid":"{{chatid}}","msg":[`+text+`]}`),
		sendErr("msg a number", "msg_number", "34014", `{"chatid":"{{chatid}}","msg":5}`),
		sendErr("msg JSON text with trailing bracket", "msg_json_text_trailing", "34014", `{"chatid":"{{chatid}}","msg":`+jsonText(text+`]`)+`}`),
		sendErr("msg JSON text with trailing brace", "msg_json_text_trailing_brace", "34014", `{"chatid":"{{chatid}}","msg":`+jsonText(text+`}`)+`}`),
		sendErr("msg JSON text with a second object", "msg_json_text_two_objects", "34014", `{"chatid":"{{chatid}}","msg":`+jsonText(text+text)+`}`),
		{Name: "form msg with trailing bracket", Setup: group, Method: post, Path: sendPath,
			Header: map[string]string{"Content-Type": form}, Body: "chatid={{chatid}}&msg=" + url.QueryEscape(text+"]"),
			Status: ok, Golden: "chat_send/form_msg_trailing", Check: storedNothing},
		{Name: "form body that does not parse", Setup: group, Method: post, Path: sendPath,
			Header: map[string]string{"Content-Type": form}, Body: "chatid={{chatid}}&msg=%zz",
			Status: ok, Golden: "chat_send/form_malformed", Check: storedNothing},
		sendErr("body over 256 KiB", "body_too_large", "34016", `{"chatid":"{{chatid}}","pad":"`+strings.Repeat("x", 256<<10)+`"}`),

		// tokens and permissions
		{Name: "read-only app", Setup: group, Method: post, Path: "/chat/send?access_token={{readonly_token}}", Body: sendWrapped(text),
			Status: ok, Golden: "chat_send/permission_denied", Check: storedNothing},
		{Name: "token missing", Setup: group, Method: post, Path: "/chat/send", Body: sendWrapped(text), Status: ok, Golden: "chat_send/token_missing", Check: storedNothing},
		{Name: "token invalid", Setup: group, Method: post, Path: "/chat/send?access_token=bad", Body: sendWrapped(text), Status: ok, Golden: "chat_send/token_invalid", Check: storedNothing},
		{Name: "token in the body is not read", Setup: group, Method: post, Path: "/chat/send", Body: `{"access_token":"{{token}}","chatid":"{{chatid}}","msg":` + text + `}`,
			Status: ok, Golden: "chat_send/token_in_body", Check: storedNothing},
		{Name: "token expired", Setup: both(group, expired), Method: post, Path: sendPath, Body: sendWrapped(text), Status: ok, Golden: "chat_send/token_expired", Check: storedNothing},
	}, *update)
}

// TestChatSendSender: the 2016 shape sends as the named member, the current
// one as the app; both keep their order in one timeline.
func TestChatSendSender(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	group(e)
	wantErrcode(t, e.Post(sendPath, sendFlat(`"sender":"lisi","msgtype":"text","text":{"content":"一"}`)), "0")
	wantErrcode(t, e.Post(sendPath, sendWrapped(`{"msgtype":"text","text":{"content":"二"}}`)), "0")
	wantErrcode(t, e.Post(sendPath, sendFlat(`"msgtype":"text","text":{"content":"三"}`)), "0")
	tl := memberTimeline(e, "zhangsan", e.Vars["chatid"])
	want := []struct {
		seq              int64
		senderType, from string
	}{{1, ding.SenderUser, "lisi"}, {2, ding.SenderApp, dingtest.AppKey}, {3, ding.SenderApp, dingtest.AppKey}}
	if len(tl) != len(want) {
		t.Fatalf("timeline has %d messages, want %d", len(tl), len(want))
	}
	for i, w := range want {
		if m := tl[i]; m.Seq != w.seq || m.SenderType != w.senderType || m.Sender != w.from || m.MsgType != "text" {
			t.Errorf("message %d = seq %d %s/%s %s, want seq %d %s/%s text", i, m.Seq, m.SenderType, m.Sender, m.MsgType, w.seq, w.senderType, w.from)
		}
	}
}

// blobEnv is a servertest.Env whose service keeps uploads in a blob
// directory, so media/upload works end to end.
func blobEnv(t *testing.T) *servertest.Env {
	t.Helper()
	st := servertest.OpenStore(t)
	dir, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	clock := dingtest.NewClock()
	svc := service.New(st, clock, &service.SequentialIDs{}, service.WithBlobs(dir))
	srv := httptest.NewServer(server.Handler(svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return &servertest.Env{T: t, Clock: clock, Store: st, Svc: svc, URL: srv.URL, Vars: map[string]string{}}
}

// upload posts one file through media/upload and returns its media id.
func upload(e *servertest.Env, token, typ, name string, data []byte) string {
	e.T.Helper()
	r := e.Do(servertest.Request{Method: post, Path: "/media/upload?type=" + typ + "&access_token=" + token,
		Header: map[string]string{"Content-Type": mpContentType}, Body: string(mpBody(mpFile("media", name, data)))})
	wantErrcode(e.T, r, "0")
	id, _ := r.JSON(e.T)["media_id"].(string)
	if id == "" {
		e.T.Fatalf("media/upload gave no media_id: %s", r.Body)
	}
	return id
}

// TestChatSendUploadedMedia sends image, voice and file messages whose
// media went through media/upload, and checks the media rules against
// uploaded ids.
func TestChatSendUploadedMedia(t *testing.T) {
	t.Parallel()
	e := blobEnv(t)
	group(e)
	tok, other := e.Expand("{{token}}"), e.Expand("{{other_token}}")
	img := upload(e, tok, "image", "photo.png", []byte("\x89PNG\r\n\x1a\nnot really a picture"))
	voice := upload(e, tok, "voice", "hello.amr", []byte("#!AMR\nnot really a voice"))
	doc := upload(e, tok, "file", "report.pdf", []byte("%PDF-1.4 not really a document"))
	otherImg := upload(e, other, "image", "theirs.png", []byte("\x89PNG\r\n\x1a\nanother corp's picture"))

	for _, c := range []struct {
		golden, msg, code string
	}{
		{"uploaded_image", `{"msgtype":"image","image":{"media_id":"` + img + `"}}`, "0"},
		{"uploaded_voice", `{"msgtype":"voice","voice":{"media_id":"` + voice + `","duration":"12"}}`, "0"},
		{"uploaded_file", `{"msgtype":"file","file":{"media_id":"` + doc + `"}}`, "0"},
		{"uploaded_link_pic", `{"msgtype":"link","link":{"messageUrl":"https://a.example","picUrl":"` + img + `","title":"t","text":"x"}}`, "0"},
		{"uploaded_image_other_corp", `{"msgtype":"image","image":{"media_id":"` + otherImg + `"}}`, "40007"},
		{"uploaded_image_as_file", `{"msgtype":"file","file":{"media_id":"` + img + `"}}`, "40007"},
		{"uploaded_voice_as_image", `{"msgtype":"image","image":{"media_id":"` + voice + `"}}`, "40007"},
		{"uploaded_file_as_voice", `{"msgtype":"voice","voice":{"media_id":"` + doc + `","duration":"12"}}`, "40007"},
	} {
		before := len(memberTimeline(e, "manager4220", e.Vars["chatid"]))
		r := e.Post(sendPath, sendWrapped(c.msg))
		servertest.Golden(t, "chat_send/"+c.golden, r, *update)
		wantErrcode(t, r, c.code)
		tl := memberTimeline(e, "manager4220", e.Vars["chatid"])
		if c.code != "0" {
			if len(tl) != before {
				t.Errorf("%s: a refused send grew the timeline to %d", c.golden, len(tl))
			}
			continue
		}
		if len(tl) != before+1 || string(tl[before].Msg) != c.msg {
			t.Errorf("%s: timeline ends %s, want %s", c.golden, tl[len(tl)-1].Msg, c.msg)
		}
	}
	// the other corp's token cannot send into this corp's group with its own media either
	r := e.Post("/chat/send?access_token={{other_token}}", sendWrapped(`{"msgtype":"image","image":{"media_id":"`+otherImg+`"}}`))
	wantErrcode(t, r, "34001")
}

// TestChatSendConcurrentHTTP: 32 callers send to one 1000-member group at
// once through HTTP. The timeline numbers every message 1..N in commit
// order with no gap and no duplicate, one row per message.
func TestChatSendConcurrentHTTP(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	group(e)
	e.Fill(e.Vars["chatid"], ding.MaxMembers)
	const callers, each = 32, 8
	target, chatid := e.URL+e.Expand(sendPath), e.Vars["chatid"]
	ids := make([][]string, callers)
	errs := make(chan error, callers*each)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				body := `{"chatid":"` + chatid + `","msg":{"msgtype":"text","text":{"content":"` + fmt.Sprintf("%d-%d", i, j) + `"}}}`
				resp, err := http.Post(target, "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					Errcode   int    `json:"errcode"`
					MessageID string `json:"messageId"`
				}
				if err := json.Unmarshal(raw, &out); err != nil || out.Errcode != 0 || out.MessageID == "" {
					errs <- fmt.Errorf("send %d-%d: %s", i, j, raw)
					return
				}
				ids[i] = append(ids[i], out.MessageID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkTimeline(t, e.Store, chatid, ids)
}

// checkTimeline requires the group's timeline to hold exactly the messages
// in ids, numbered 1..N without gap or duplicate, each caller's messages in
// the order it sent them.
func checkTimeline(t *testing.T, st ding.Store, chatid string, ids [][]string) {
	t.Helper()
	n := 0
	for _, l := range ids {
		n += len(l)
	}
	last, err := st.LastSeq(context.Background(), chatid)
	if err != nil || last != int64(n) {
		t.Fatalf("LastSeq = %d (%v), want %d", last, err, n)
	}
	ms, err := st.Messages(context.Background(), chatid, ding.MessageQuery{Limit: 10 * n})
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	if len(ms) != n {
		t.Fatalf("%d rows for %d messages", len(ms), n)
	}
	seqOf := map[string]int64{}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d, want %d", i, m.Seq, i+1)
		}
		if _, dup := seqOf[m.ID]; dup {
			t.Fatalf("message %s stored twice", m.ID)
		}
		seqOf[m.ID] = m.Seq
	}
	for c, l := range ids {
		prev := int64(0)
		for _, id := range l {
			s, ok := seqOf[id]
			if !ok {
				t.Fatalf("caller %d's message %s is not in the timeline", c, id)
			}
			if s <= prev {
				t.Fatalf("caller %d's messages are out of order: seq %d after %d", c, s, prev)
			}
			prev = s
		}
	}
}

const readListPath = "/chat/getReadList?access_token={{token}}&messageId={{msgid}}"

// sent sends a text into the fixture group and keeps its id as {{msgid}}.
func sent(e *servertest.Env) {
	e.T.Helper()
	r := e.Post(sendPath, sendWrapped(`{"msgtype":"text","text":{"content":"请阅读"}}`))
	wantErrcode(e.T, r, "0")
	e.Vars["msgid"], _ = r.JSON(e.T)["messageId"].(string)
}

// sentBy sends a text as user through the member API and keeps its id as {{msgid}}.
func sentBy(user string) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		e.T.Helper()
		r := memberDo(e, user, post, "/_dingchat/member/groups/{{chatid}}/messages", `{"msgtype":"text","text":{"content":"成员消息"}}`)
		if r.Status != http.StatusOK {
			e.T.Fatalf("member send: %d %s", r.Status, r.Body)
		}
		e.Vars["msgid"], _ = r.JSON(e.T)["messageId"].(string)
	}
}

// readBy moves each user's read mark to the newest message through the member API.
func readBy(users ...string) func(e *servertest.Env) {
	return func(e *servertest.Env) {
		e.T.Helper()
		for _, u := range users {
			r := memberDo(e, u, post, "/_dingchat/member/groups/{{chatid}}/read", `{"seq":1000000}`)
			if r.Status != http.StatusOK {
				e.T.Fatalf("mark read as %s: %d %s", u, r.Status, r.Body)
			}
		}
	}
}

// grown is the fixture group grown to n members (user0001… after the three).
func grown(n int) func(e *servertest.Env) {
	return func(e *servertest.Env) { e.Fill(e.Vars["chatid"], n) }
}

// readListIs checks a successful answer's readUserIdList.
func readListIs(want ...string) func(t *testing.T, e *servertest.Env, r *servertest.Response) {
	return func(t *testing.T, e *servertest.Env, r *servertest.Response) {
		t.Helper()
		wantErrcode(t, r, "0")
		if got := strs(r.JSON(t)["readUserIdList"]); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("readUserIdList = %v, want %v", got, want)
		}
	}
}

func TestChatGetReadListGolden(t *testing.T) {
	page := func(cursor, size string) string { return readListPath + "&cursor=" + cursor + "&size=" + size }
	sentGroup := both(group, sent)
	// twelve members; all but lisi and user0003 have read
	twelve := both(group, grown(12), sent, readBy("manager4220", "zhangsan", "user0001", "user0002", "user0004", "user0005",
		"user0006", "user0007", "user0008", "user0009"))
	servertest.Run(t, []servertest.Case{
		{Name: "nobody has read", Setup: sentGroup, Method: get, Path: page("0", "3"), Status: ok, Golden: "chat_getReadList/none_read", Check: readListIs()},
		{Name: "two have read", Setup: both(sentGroup, readBy("lisi", "manager4220")), Method: get, Path: page("0", "3"), Status: ok,
			Golden: "chat_getReadList/two_read", Check: readListIs("manager4220", "lisi")},
		{Name: "size equal to the member count", Setup: both(sentGroup, readBy("lisi", "zhangsan", "manager4220")), Method: get, Path: page("0", "3"), Status: ok,
			Golden: "chat_getReadList/all_read", Check: readListIs("manager4220", "zhangsan", "lisi")},
		{Name: "a mark before the message does not count", Setup: both(sentGroup, readBy("lisi", "zhangsan"), sent, readBy("zhangsan")), Method: get, Path: page("0", "3"), Status: ok,
			Golden: "chat_getReadList/read_before", Check: readListIs("zhangsan")},
		{Name: "the sender of a member message is not counted", Setup: both(group, sentBy("zhangsan"), readBy("zhangsan", "lisi")), Method: get, Path: page("0", "3"), Status: ok,
			Golden: "chat_getReadList/member_sender", Check: readListIs("lisi")},
		{Name: "the sender of a 2016-shape message is not counted", Setup: both(group, func(e *servertest.Env) {
			r := e.Post(sendPath, sendFlat(`"sender":"lisi","msgtype":"text","text":{"content":"旧"}`))
			wantErrcode(e.T, r, "0")
			e.Vars["msgid"], _ = r.JSON(e.T)["messageId"].(string)
		}, readBy("lisi", "manager4220")), Method: get, Path: page("0", "3"), Status: ok,
			Golden: "chat_getReadList/flat_sender", Check: readListIs("manager4220")},
		{Name: "first page of several", Setup: twelve, Method: get, Path: page("0", "3"), Status: ok, Golden: "chat_getReadList/page_1",
			Check: readListIs("manager4220", "zhangsan", "user0001")},
		{Name: "POST with JSON parameters", Setup: both(sentGroup, readBy("lisi")), Method: post, Path: "/chat/getReadList?access_token={{token}}",
			Body: `{"messageId":"{{msgid}}","cursor":0,"size":2}`, Status: ok, Golden: "chat_getReadList/post_json", Check: readListIs("lisi")},
		{Name: "cursor and size as strings in JSON", Setup: both(sentGroup, readBy("lisi")), Method: post, Path: "/chat/getReadList?access_token={{token}}",
			Body: `{"messageId":"{{msgid}}","cursor":"0","size":"2"}`, Status: ok, Golden: "chat_getReadList/post_json_strings", Check: readListIs("lisi")},
		{Name: "read-only app", Setup: both(sentGroup, readBy("lisi")), Method: get, Path: "/chat/getReadList?access_token={{readonly_token}}&messageId={{msgid}}&cursor=0&size=3",
			Status: ok, Golden: "chat_getReadList/readonly_app", Check: readListIs("lisi")},
		{Name: "size 100 in a group of 120", Setup: both(group, grown(120), sent, readBy("lisi")), Method: get, Path: page("0", "100"), Status: ok,
			Golden: "chat_getReadList/size_100", Check: readListIs("lisi")},

		{Name: "size 101 in a group of 120", Setup: both(group, grown(120), sent), Method: get, Path: page("0", "101"), Status: ok, Golden: "chat_getReadList/size_101"},
		{Name: "size over the member count", Setup: sentGroup, Method: get, Path: page("0", "4"), Status: ok, Golden: "chat_getReadList/size_over_members"},
		{Name: "size 0", Setup: sentGroup, Method: get, Path: page("0", "0"), Status: ok, Golden: "chat_getReadList/size_0"},
		{Name: "size negative", Setup: sentGroup, Method: get, Path: page("0", "-1"), Status: ok, Golden: "chat_getReadList/size_negative"},
		{Name: "size not a number", Setup: sentGroup, Method: get, Path: page("0", "ten"), Status: ok, Golden: "chat_getReadList/size_not_number"},
		{Name: "size missing", Setup: sentGroup, Method: get, Path: readListPath + "&cursor=0", Status: ok, Golden: "chat_getReadList/size_missing"},
		{Name: "cursor not a number", Setup: sentGroup, Method: get, Path: page("abc", "3"), Status: ok, Golden: "chat_getReadList/cursor_not_number"},
		{Name: "cursor fractional", Setup: sentGroup, Method: get, Path: page("1.5", "3"), Status: ok, Golden: "chat_getReadList/cursor_fraction"},
		{Name: "cursor negative", Setup: sentGroup, Method: get, Path: page("-1", "3"), Status: ok, Golden: "chat_getReadList/cursor_negative"},
		{Name: "cursor missing", Setup: sentGroup, Method: get, Path: readListPath + "&size=3", Status: ok, Golden: "chat_getReadList/cursor_missing"},
		{Name: "messageId missing", Setup: sentGroup, Method: get, Path: "/chat/getReadList?access_token={{token}}&cursor=0&size=3", Status: ok, Golden: "chat_getReadList/message_id_missing"},
		{Name: "messageId unknown", Setup: sentGroup, Method: get, Path: "/chat/getReadList?access_token={{token}}&messageId=msgnosuchmessage&cursor=0&size=3", Status: ok,
			Golden: "chat_getReadList/message_id_unknown"},
		{Name: "message of another corp", Setup: sentGroup, Method: get, Path: "/chat/getReadList?access_token={{other_token}}&messageId={{msgid}}&cursor=0&size=1", Status: ok,
			Golden: "chat_getReadList/other_corp"},
		{Name: "token missing", Setup: sentGroup, Method: get, Path: "/chat/getReadList?messageId={{msgid}}&cursor=0&size=3", Status: ok, Golden: "chat_getReadList/token_missing"},
		{Name: "token invalid", Setup: sentGroup, Method: get, Path: "/chat/getReadList?access_token=bad&messageId={{msgid}}&cursor=0&size=3", Status: ok, Golden: "chat_getReadList/token_invalid"},
	}, *update)
}

// TestChatGetReadListPaging follows next_cursor until it is absent.
func TestChatGetReadListPaging(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	group(e)
	e.Fill(e.Vars["chatid"], 12)
	sent(e)
	// everyone but lisi has read, in an order unlike the member order the list keeps
	want := []string{"manager4220", "zhangsan", "user0001", "user0002", "user0003", "user0004", "user0005", "user0006", "user0007", "user0008", "user0009"}
	readBy("user0009", "user0003", "zhangsan", "user0001", "user0002", "user0004", "user0005", "user0006", "user0007", "user0008", "manager4220")(e)
	for _, size := range []int{1, 3, 5, 11, 12} {
		var got []string
		cursor, pages := "0", 0
		for {
			pages++
			if pages > 20 {
				t.Fatalf("size %d: more than 20 pages", size)
			}
			r := e.Get(fmt.Sprintf("%s&cursor=%s&size=%d", readListPath, cursor, size))
			wantErrcode(t, r, "0")
			m := r.JSON(t)
			ids := strs(m["readUserIdList"])
			if len(ids) == 0 || len(ids) > size {
				t.Fatalf("size %d page %d: %d ids: %s", size, pages, len(ids), r.Body)
			}
			got = append(got, ids...)
			next, ok := m["next_cursor"].(json.Number)
			if !ok {
				if _, present := m["next_cursor"]; present {
					t.Fatalf("next_cursor is not a number: %s", r.Body)
				}
				break
			}
			cursor = next.String()
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("size %d: pages gave %v, want %v", size, got, want)
		}
		if wantPages := (len(want) + size - 1) / size; pages != wantPages {
			t.Errorf("size %d: %d pages, want %d", size, pages, wantPages)
		}
	}
}
