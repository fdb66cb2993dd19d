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
	top := map[string]json.RawMessage{}
	if httpx.IsForm(r.Header.Get("Content-Type"), raw) {
		vs, perr := url.ParseQuery(string(raw))
		if perr != nil {
			return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "form body does not parse")
		}
		for k, v := range vs {
			if len(v) == 0 {
				continue
			}
			if !utf8.ValidString(v[0]) {
				return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "%s is not UTF-8 text", k)
			}
			t := strings.TrimSpace(v[0])
			if json.Valid([]byte(t)) && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
				top[k] = json.RawMessage(t)
			} else {
				b, _ := json.Marshal(v[0])
				top[k] = b
			}
		}
		raw, _ = json.Marshal(top)
	} else if !utf8.Valid(raw) {
		return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not UTF-8 text")
	} else if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return "", "", nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object")
	}
	text := func(k string) (string, error) {
		v, ok := top[k]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s, nil
		}
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			return n.String(), nil
		}
		return "", ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s must be a string", k)
	}
	if chatID, err = text("chatid"); err != nil {
		return "", "", nil, err
	}
	if m, ok := top["msg"]; ok && string(m) != "null" {
		m = bytes.TrimSpace(m)
		if len(m) > 0 && m[0] == '"' { // msg sent as JSON text
			var s string
			json.Unmarshal(m, &s)
			m = []byte(s)
		}
		return chatID, "", m, nil
	}
	// the 2016 shape: msgtype and its object sit beside chatid, with a sender
	if sender, err = text("sender"); err != nil {
		return "", "", nil, err
	}
	return chatID, sender, raw, nil
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
