package jsonx

import (
	"encoding/json"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeObject decodes src, which must be one JSON object in UTF-8 with
// only blanks around it, into what encoding/json's Decoder with UseNumber
// makes of it: map[string]any, []any, string, json.Number, bool and nil.
// A later duplicate key wins, as there. ok is false for anything else,
// null included.
func DecodeObject(src []byte) (m map[string]any, ok bool) {
	v, ok := decodeValue(src)
	m, isObj := v.(map[string]any)
	return m, ok && isObj
}

// DecodeValue is DecodeObject for any one JSON value.
func DecodeValue(src []byte) (any, bool) {
	return decodeValue(src)
}

func decodeValue(src []byte) (any, bool) {
	if !utf8.Valid(src) {
		return nil, false
	}
	d := decoder{reader{src: src}}
	d.skipSpace()
	v, ok := d.value(1)
	if !ok {
		return nil, false
	}
	d.skipSpace()
	if d.i != len(src) {
		return nil, false
	}
	return v, true
}

type decoder struct{ reader }

func (d *decoder) value(depth int) (any, bool) {
	switch b := d.next(); {
	case b == '{':
		return d.object(depth)
	case b == '[':
		return d.array(depth)
	case b == '"':
		s, ok := d.string()
		return s, ok
	case b == '-' || b >= '0' && b <= '9':
		start := d.i
		if !d.num() {
			return nil, false
		}
		return json.Number(d.src[start:d.i]), true
	case b == 't':
		return true, d.lit("true")
	case b == 'f':
		return false, d.lit("false")
	case b == 'n':
		return nil, d.lit("null")
	}
	return nil, false
}

func (d *decoder) object(depth int) (any, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	m := map[string]any{}
	for more := !d.open('}'); more; {
		if d.next() != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.next() != ':' {
			return nil, false
		}
		d.i++
		d.skipSpace()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k] = v
		if more, ok = d.after('}'); !ok {
			return nil, false
		}
	}
	return m, true
}

func (d *decoder) array(depth int) (any, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	a := []any{}
	for more := !d.open(']'); more; {
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if more, ok = d.after(']'); !ok {
			return nil, false
		}
	}
	return a, true
}

func (d *decoder) string() (string, bool) {
	start := d.i
	escaped, ok := d.str()
	if !ok {
		return "", false
	}
	body := d.src[start+1 : d.i-1]
	if !escaped {
		return string(body), true
	}
	return string(unquote(make([]byte, 0, len(body)), body)), true
}

// unquote appends the text of a string's body whose escapes str has
// checked, decoding them as encoding/json does: a \u surrogate that is not
// half of a pair becomes U+FFFD.
func unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch e := s[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != unicode.ReplacementChar {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst
}
