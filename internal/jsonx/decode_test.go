package jsonx

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeCases adds strings' escapes and objects' keys to compactCases.
var decodeCases = append([]string{
	`{"chatid":"chat1","msg":{"msgtype":"text","text":{"content":"hi"}}}`,
	`{"a":1,"a":{"b":[true,false,null,-1.5e3,"x"]}}`, `{"\u0063hatid":"x","c\"q":1}`,
	`{"s":"\ud83d\ude00 \ud83d \ude00 \ud83dx \ud83d\u0041 \udc00\ud83d\ude00 \u00e9 \/\\\"\b\f\n\r\t"}`,
	`{"lone":"\ud800"}`, `{"n":0,"m":-0,"big":123456789012345678901234567890,"e":1E+2}`,
	`{"nested":[[],{},[{}],{"a":[]}]}`, " {\"a\"\t:\r\n1 } \n", `{"a":1}x`, `{"a":1}{}`, `{"a":1} 1`,
	`{"\u00zz":1}`, "{\"bad\":\"\xff\"}", "{\"k\xc3\":1}", `{"a":"\u0000"}`, `123abc`, `[1]`, `"x"`, `null`,
}, compactCases...)

// reference is what encoding/json's Decoder with UseNumber makes of src,
// with only blanks allowed after the value and UTF-8 required.
func reference(src []byte) (any, bool) {
	if !utf8.Valid(src) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	if len(bytes.TrimLeft(src[d.InputOffset():], " \t\r\n")) != 0 {
		return nil, false
	}
	return v, true
}

func sameAsDecoder(t *testing.T, src string) {
	t.Helper()
	want, wok := reference([]byte(src))
	got, gok := DecodeValue([]byte(src))
	if gok != wok || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeValue(%.80q) = %#.200v, %v; encoding/json %#.200v, %v", src, got, gok, want, wok)
	}
	m, ok := DecodeObject([]byte(src))
	wm, isObj := want.(map[string]any)
	if ok != (wok && isObj) || !reflect.DeepEqual(m, wm) {
		t.Fatalf("DecodeObject(%.80q) = %#.200v, %v; encoding/json %#.200v, %v", src, m, ok, wm, wok && isObj)
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range decodeCases {
		sameAsDecoder(t, s)
	}
}

func FuzzDecode(f *testing.F) {
	seed(f, decodeCases)
	f.Fuzz(sameAsDecoder)
}

// sameAsUnmarshal checks EachField against json.Unmarshal into a map of
// raw values, where a later duplicate key wins.
func sameAsUnmarshal(t *testing.T, src string) {
	t.Helper()
	var want map[string]json.RawMessage
	wok := utf8.ValidString(src) && json.Unmarshal([]byte(src), &want) == nil && want != nil
	got := map[string]json.RawMessage{}
	var order []string
	gok := EachField([]byte(src), func(k, v []byte) {
		got[string(k)] = append(json.RawMessage(nil), v...)
		order = append(order, string(k))
	})
	if gok != wok {
		t.Fatalf("EachField(%.80q) = %v, json.Unmarshal %v", src, gok, wok)
	}
	if !wok {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("EachField(%.80q) gave %d keys, json.Unmarshal %d", src, len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Fatalf("EachField(%.80q)[%q] = %q, json.Unmarshal %q", src, k, g, v)
		}
	}
}

func TestEachFieldMatchesUnmarshal(t *testing.T) {
	for _, s := range decodeCases {
		sameAsUnmarshal(t, s)
	}
	var keys []string
	EachField([]byte(`{"b":1,"a":2,"b":3}`), func(k, _ []byte) { keys = append(keys, string(k)) })
	if strings.Join(keys, ",") != "b,a,b" {
		t.Fatalf("EachField called with %v, want b,a,b in order", keys)
	}
}

func FuzzEachField(f *testing.F) {
	seed(f, decodeCases)
	f.Fuzz(sameAsUnmarshal)
}

func BenchmarkDecodeBody(b *testing.B) {
	body := []byte(`{"msgtype":"text","text":{"content":"hello 1000012345"}}`)
	b.Run("DecodeObject", func(b *testing.B) {
		for b.Loop() {
			DecodeObject(body)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			var m map[string]any
			_ = d.Decode(&m)
		}
	})
}

func BenchmarkEachField(b *testing.B) {
	body := []byte(`{"chatid":"chat00000000000000000000000000000012","msg":{"msgtype":"text","text":{"content":"hello 1000012345"}}}`)
	b.Run("EachField", func(b *testing.B) {
		for b.Loop() {
			EachField(body, func(k, v []byte) {})
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(body, &m)
		}
	})
}
