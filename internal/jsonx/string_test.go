package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
)

// AppendString writes what encoding/json writes with HTML left unescaped.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "a<b>&c", "tab\tnl\nret\r", "\x00\x01\x1f\x7f",
		"\b\f", "中文群名", "emoji 😀", "bad \xff utf8", "sep \u2028 \u2029", "\xe2\x80", "mixed <\"中\xff\u2028>"} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(bytes.TrimRight(want.Bytes(), "\n")) {
			t.Errorf("%q: got %s, want %s", s, got[1:], want.Bytes())
		}
	}
}
