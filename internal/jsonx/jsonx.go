// Package jsonx reads JSON in one pass over its bytes, with encoding/json's
// grammar, results and refusals. It serves the paths that read or write a
// message body on every call (chat/send, history pages, live frames), where
// encoding/json's scanner, which makes a call per byte, and its reflection
// were most of the JSON work.
package jsonx

// MaxDepth is encoding/json's nesting limit.
const MaxDepth = 10000

// reader walks src; i is the next byte to read.
type reader struct {
	src []byte
	i   int
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (r *reader) skipSpace() {
	for r.i < len(r.src) && isSpace(r.src[r.i]) {
		r.i++
	}
}

// open reads a list's or object's opening byte and reports whether end
// closes it at once.
func (r *reader) open(end byte) (empty bool) {
	r.i++
	r.skipSpace()
	if r.next() == end {
		r.i++
		return true
	}
	return false
}

// after reads what follows a member of a list or object: a comma, with
// more to come, or end.
func (r *reader) after(end byte) (more, ok bool) {
	r.skipSpace()
	switch r.next() {
	case ',':
		r.i++
		r.skipSpace()
		return true, true
	case end:
		r.i++
		return false, true
	}
	return false, false
}

// next is the byte at i, or 0 at the end (never valid there).
func (r *reader) next() byte {
	if r.i < len(r.src) {
		return r.src[r.i]
	}
	return 0
}

func (r *reader) lit(s string) bool {
	if len(r.src)-r.i < len(s) || string(r.src[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

// str reads a string from its opening quote and reports whether it holds
// escapes. Bytes that are not UTF-8 pass, as they pass encoding/json's
// scanner; callers that decode check UTF-8 first.
func (r *reader) str() (escaped, ok bool) {
	s := r.src
	for i := r.i + 1; i < len(s); i++ {
		switch b := s[i]; {
		case b == '"':
			r.i = i + 1
			return escaped, true
		case b < 0x20:
			return false, false
		case b == '\\':
			escaped = true
			i++
			if i == len(s) {
				return false, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i <= 4 || hex4(s[i+1:i+5]) < 0 {
					return false, false
				}
				i += 4
			default:
				return false, false
			}
		}
	}
	return false, false
}

// hex4 is the value of four hex digits, or -1.
func hex4(h []byte) rune {
	var v rune
	for _, c := range h[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		v = v<<4 | rune(c)
	}
	return v
}

func (r *reader) digits() int {
	n := 0
	for r.i < len(r.src) && r.src[r.i] >= '0' && r.src[r.i] <= '9' {
		r.i++
		n++
	}
	return n
}

// num reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) num() bool {
	if r.next() == '-' {
		r.i++
	}
	switch b := r.next(); {
	case b == '0':
		r.i++
	case b >= '1' && b <= '9':
		r.digits()
	default:
		return false
	}
	if r.next() == '.' {
		r.i++
		if r.digits() == 0 {
			return false
		}
	}
	if b := r.next(); b == 'e' || b == 'E' {
		r.i++
		if b := r.next(); b == '+' || b == '-' {
			r.i++
		}
		if r.digits() == 0 {
			return false
		}
	}
	return true
}
