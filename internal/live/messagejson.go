package live

import (
	"strconv"

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
	dst = jsonx.AppendString(dst, m.ID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, m.Seq, 10)
	dst = append(dst, `,"chatid":`...)
	dst = jsonx.AppendString(dst, m.ChatID)
	dst = append(dst, `,"senderType":`...)
	dst = jsonx.AppendString(dst, m.SenderType)
	dst = append(dst, `,"sender":`...)
	dst = jsonx.AppendString(dst, m.Sender)
	dst = append(dst, `,"msgtype":`...)
	dst = jsonx.AppendString(dst, m.MsgType)
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
