package oapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/jsonx"
	"github.com/dingchat/dingchat/internal/service"
)

// maxSendBody bounds a chat/send body; the msg inside is capped far lower.
const maxSendBody = 256 << 10

type sendResponse struct {
	ok
	MessageID string `json:"messageId"`
}

// sendBody splits a chat/send body into chatid, sender and the message
// object, keeping the object's bytes exactly as sent.
func sendBody(r *http.Request) (chatID, sender string, msg []byte, err error) {
	raw, err := httpx.ReadBodyOr(r, maxSendBody, ding.ReasonMsgTooLong)
	if err != nil {
		return "", "", nil, err
	}
	// a later duplicate key wins, as with encoding/json
	var chatV, senderV, msgV []byte
	if httpx.IsForm(r.Header.Get("Content-Type"), raw) {
		var top map[string]json.RawMessage
		if top, err = formFields(raw); err != nil {
			return "", "", nil, err
		}
		chatV, senderV, msgV = top["chatid"], top["sender"], top["msg"]
		raw, _ = json.Marshal(top)
	} else if !utf8.Valid(raw) {
		return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not UTF-8 text")
	} else if !jsonx.EachField(raw, func(k, v []byte) {
		switch string(k) {
		case "chatid":
			chatV = v
		case "sender":
			senderV = v
		case "msg":
			msgV = v
		}
	}) {
		return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object")
	}
	if chatID, err = text("chatid", chatV); err != nil {
		return "", "", nil, err
	}
	if msgV != nil && string(msgV) != "null" {
		if msgV[0] == '"' { // msg sent as JSON text
			v, _ := jsonx.DecodeValue(msgV)
			s, _ := v.(string)
			msgV = []byte(s)
		}
		return chatID, "", msgV, nil
	}
	// the 2016 shape: msgtype and its object sit beside chatid, with a sender
	if sender, err = text("sender", senderV); err != nil {
		return "", "", nil, err
	}
	return chatID, sender, raw, nil
}

// text reads a top-level field k that must be text; clients send numbers
// for it too. An absent or null field is "".
func text(k string, v []byte) (string, error) {
	if v == nil {
		return "", nil
	}
	if v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	switch x, _ := jsonx.DecodeValue(v); x := x.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s must be a string", k)
}

// formFields reads a form body as the JSON object's fields it stands for: a
// value that is a JSON object or list is taken as one, any other as text.
func formFields(raw []byte) (map[string]json.RawMessage, error) {
	vs, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "form body does not parse")
	}
	top := map[string]json.RawMessage{}
	for k, v := range vs {
		if len(v) == 0 {
			continue
		}
		if !utf8.ValidString(v[0]) {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "%s is not UTF-8 text", k)
		}
		t := strings.TrimSpace(v[0])
		if json.Valid([]byte(t)) && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
			top[k] = json.RawMessage(t)
		} else {
			b, _ := json.Marshal(v[0])
			top[k] = b
		}
	}
	return top, nil
}

func (a *API) chatSend(r *http.Request, _ *httpx.Params, c *service.Caller) (any, error) {
	chatID, sender, msg, err := sendBody(r)
	if err != nil {
		return nil, err
	}
	m, err := a.svc.SendMessage(r.Context(), c, service.SendInput{ChatID: chatID, Sender: sender, Body: msg})
	if err != nil {
		return nil, err
	}
	return sendResponse{ok: okBody, MessageID: m.ID}, nil
}

type readListResponse struct {
	ok
	NextCursor     *int64   `json:"next_cursor,omitempty"`
	ReadUserIDList []string `json:"readUserIdList,omitempty"`
}

func (a *API) chatReadList(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := p.String("messageId")
	if err != nil {
		return nil, err
	}
	cursor, err := p.Int64("cursor")
	if err != nil || cursor == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonBadCursor, "cursor must be a number")
	}
	size, err := p.Int64("size")
	if err != nil || size == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonBadSize, "size must be a number")
	}
	ids, next, err := a.svc.ReadList(r.Context(), c, id, *cursor, *size)
	if err != nil {
		return nil, err
	}
	out := readListResponse{ok: okBody, ReadUserIDList: ids}
	if next > 0 {
		out.NextCursor = &next
	}
	return out, nil
}
