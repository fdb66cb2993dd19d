package live

import (
	"strconv"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/jsonx"
)

// AppendMessageJSON appends m as the member API shows it: the bytes
// encoding/json writes for MessageView(m) with HTML left unescaped, without
// the reflection and the copy of every field. The body is compacted and
// checked as encoding/json does with a json.RawMessage; a body that is not
// JSON is the same error.
func AppendMessageJSON(dst []byte, m *ding.Message) ([]byte, error) {
	dst = append(dst, `{"messageId":`...)
	dst = appendJSONString(dst, m.ID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, m.Seq, 10)
	dst = append(dst, `,"chatid":`...)
	dst = appendJSONString(dst, m.ChatID)
	dst = append(dst, `,"senderType":`...)
	dst = appendJSONString(dst, m.SenderType)
	dst = append(dst, `,"sender":`...)
	dst = appendJSONString(dst, m.Sender)
	dst = append(dst, `,"msgtype":`...)
	dst = appendJSONString(dst, m.MsgType)
	dst = append(dst, `,"msg":`...)
	if m.RecalledAt != 0 || len(m.Body) == 0 {
		dst = append(dst, "null"...)
	} else {
		var err error
		if dst, err = jsonx.AppendCompact(dst, m.Body); err != nil {
			return dst, err
		}
	}
	if m.RecalledAt != 0 {
		dst = append(dst, `,"recalled":true,"recalledAt":`...)
		dst = strconv.AppendInt(dst, m.RecalledAt, 10)
	} else {
		dst = append(dst, `,"recalled":false`...)
	}
	dst = append(dst, `,"createdAt":`...)
	dst = strconv.AppendInt(dst, m.CreatedAt, 10)
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML left
// unescaped: quotes, backslashes and control characters escaped, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
