package jsonx

import "unicode/utf8"

// EachField calls fn with each member of the JSON object src, in order: its
// key, unescaped, and its value's bytes as sent. key is valid only during
// the call. It reports whether src is one JSON object in UTF-8 with only
// blanks around it, every value checked as encoding/json checks it; fn may
// have been called before a later part of src is found wrong.
func EachField(src []byte, fn func(key, value []byte)) bool {
	if !utf8.Valid(src) {
		return false
	}
	w := walker{reader: reader{src: src}}
	w.skipSpace()
	if w.next() != '{' {
		return false
	}
	var buf []byte
	for more := !w.open('}'); more; {
		if w.next() != '"' {
			return false
		}
		start := w.i
		escaped, ok := w.str()
		if !ok {
			return false
		}
		key := src[start+1 : w.i-1]
		if escaped {
			buf = unquote(buf[:0], key)
			key = buf
		}
		w.skipSpace()
		if w.next() != ':' {
			return false
		}
		w.i++
		w.skipSpace()
		vstart := w.i
		if !w.value(2) {
			return false
		}
		fn(key, src[vstart:w.i])
		if more, ok = w.after('}'); !ok {
			return false
		}
	}
	w.skipSpace()
	return w.i == len(src)
}
