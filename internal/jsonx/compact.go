package jsonx

import "errors"

// ErrNotJSON is AppendCompact's refusal.
var ErrNotJSON = errors.New("not one JSON value")

// AppendCompact appends src without its insignificant whitespace, as
// json.Compact does, or returns dst unchanged and ErrNotJSON when src is not
// one JSON value.
func AppendCompact(dst, src []byte) ([]byte, error) {
	w := walker{reader: reader{src: src}, dst: dst, keep: true}
	w.space()
	if w.i == len(src) || !w.value(1) {
		return dst, ErrNotJSON
	}
	w.space()
	if w.i != len(src) {
		return dst, ErrNotJSON
	}
	return append(w.dst, src[w.start:w.i]...), nil
}

// walker checks a value's grammar; with keep it also copies src[start:i] to
// dst in runs, cut where whitespace is left out.
type walker struct {
	reader
	start int
	dst   []byte
	keep  bool
}

func (w *walker) space() {
	i := w.i
	w.skipSpace()
	if w.keep && w.i > i {
		w.dst = append(w.dst, w.src[w.start:i]...)
		w.start = w.i
	}
}

// value reads one value at i, at nesting depth depth.
func (w *walker) value(depth int) bool {
	switch b := w.next(); {
	case b == '{' || b == '[':
		if depth > MaxDepth {
			return false
		}
		end := b + 2 // '}' and ']'
		w.i++
		w.space()
		if w.next() == end {
			w.i++
			return true
		}
		for {
			if b == '{' {
				if w.next() != '"' {
					return false
				}
				if _, ok := w.str(); !ok {
					return false
				}
				w.space()
				if w.next() != ':' {
					return false
				}
				w.i++
				w.space()
			}
			if !w.value(depth + 1) {
				return false
			}
			w.space()
			switch w.next() {
			case ',':
				w.i++
				w.space()
			case end:
				w.i++
				return true
			default:
				return false
			}
		}
	case b == '"':
		_, ok := w.str()
		return ok
	case b == '-' || b >= '0' && b <= '9':
		return w.num()
	case b == 't':
		return w.lit("true")
	case b == 'f':
		return w.lit("false")
	case b == 'n':
		return w.lit("null")
	}
	return false
}
