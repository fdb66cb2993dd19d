package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var compactCases = []string{
	`{"msgtype":"text","text":{"content":"hello"}}`, "{ \"a\" : [1, 2.50, \"x y\"] ,\n\t\"b\":null }", `  {"lead":1}  `,
	`"s"`, `12`, `-0`, `-0.5e+10`, `1E-2`, `true`, `false`, `null`, `[]`, `{}`, `[ ]`, `{ }`, `[1,[2,[3]]]`,
	`"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`, "\"\xff\xfe bad utf8\"", "\"\x7f\"", "\"\u2028\"",
	// not JSON
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{1:2}`, `{} {}`, `01`, `[01]`, `-`, `1.`, `.5`, `1e`, `1e+`,
	`+1`, `tru`, `nul`, `truex`, `"open`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"\x01\"", "\"a\x1fb\"", `[1 2]`, `{"a":1 "b":2}`,
	"\x00", `nan`, `[`, `"\`, `{"a":[}`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth),
	strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1),
}

func sameAsCompact(t *testing.T, src string) {
	t.Helper()
	var want bytes.Buffer
	werr := json.Compact(&want, []byte(src))
	got, gerr := AppendCompact([]byte("prefix"), []byte(src))
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("AppendCompact(%.80q) error %v, json.Compact %v", src, gerr, werr)
	}
	if werr != nil {
		if string(got) != "prefix" {
			t.Fatalf("AppendCompact(%.80q) failed but left %q", src, got)
		}
		return
	}
	if string(got) != "prefix"+want.String() {
		t.Fatalf("AppendCompact(%.80q) = %.80q, json.Compact %.80q", src, got, want.String())
	}
}

func TestAppendCompactJSONMatchesCompact(t *testing.T) {
	for _, s := range compactCases {
		sameAsCompact(t, s)
	}
}

// seed adds the cases short enough to be worth mutating.
func seed(f *testing.F, cases []string) {
	for _, s := range cases {
		if len(s) < 200 {
			f.Add(s)
		}
	}
}

func FuzzAppendCompactJSON(f *testing.F) {
	seed(f, compactCases)
	f.Fuzz(sameAsCompact)
}

func BenchmarkCompactBody(b *testing.B) {
	body := []byte(`{"msgtype":"text","text":{"content":"hello 1000012345"}}`)
	dst := make([]byte, 0, 256)
	b.Run("AppendCompact", func(b *testing.B) {
		for b.Loop() {
			dst, _ = AppendCompact(dst[:0], body)
		}
	})
	b.Run("json.Compact", func(b *testing.B) {
		for b.Loop() {
			buf := bytes.NewBuffer(dst[:0])
			_ = json.Compact(buf, body)
			dst = buf.Bytes()
		}
	})
}
