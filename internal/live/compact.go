package live

import "errors"

var errNotJSON = errors.New("message body is not one JSON value")

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// appendCompactJSON appends src without its insignificant whitespace, as
// json.Compact does, or returns dst unchanged and an error when src is not
// one JSON value. It is one pass over the bytes: json.Compact's scanner
// makes a call per byte, which was most of a history page's encoding.
func appendCompactJSON(dst, src []byte) ([]byte, error) {
	c := compactor{src: src, dst: dst}
	c.space()
	if c.i == len(src) || !c.value(1) {
		return dst, errNotJSON
	}
	c.space()
	if c.i != len(src) {
		return dst, errNotJSON
	}
	return append(c.dst, src[c.start:c.i]...), nil
}

// compactor copies src[start:i] to dst in runs, cut where whitespace is
// left out.
type compactor struct {
	src      []byte
	i, start int
	dst      []byte
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (c *compactor) space() {
	i := c.i
	for i < len(c.src) && isSpace(c.src[i]) {
		i++
	}
	if i > c.i {
		c.dst = append(c.dst, c.src[c.start:c.i]...)
		c.i, c.start = i, i
	}
}

// next is the byte at i, or 0 at the end (never valid there).
func (c *compactor) next() byte {
	if c.i < len(c.src) {
		return c.src[c.i]
	}
	return 0
}

func (c *compactor) value(depth int) bool {
	switch b := c.next(); {
	case b == '{' || b == '[':
		if depth > maxDepth {
			return false
		}
		end := b + 2 // '}' and ']'
		c.i++
		c.space()
		if c.next() == end {
			c.i++
			return true
		}
		for {
			if b == '{' {
				if c.next() != '"' || !c.str() {
					return false
				}
				c.space()
				if c.next() != ':' {
					return false
				}
				c.i++
				c.space()
			}
			if !c.value(depth + 1) {
				return false
			}
			c.space()
			switch c.next() {
			case ',':
				c.i++
				c.space()
			case end:
				c.i++
				return true
			default:
				return false
			}
		}
	case b == '"':
		return c.str()
	case b == '-' || b >= '0' && b <= '9':
		return c.num()
	case b == 't':
		return c.lit("true")
	case b == 'f':
		return c.lit("false")
	case b == 'n':
		return c.lit("null")
	}
	return false
}

func (c *compactor) lit(s string) bool {
	if len(c.src)-c.i < len(s) || string(c.src[c.i:c.i+len(s)]) != s {
		return false
	}
	c.i += len(s)
	return true
}

// str reads a string from its opening quote; bytes that are not UTF-8 pass
// as json.Compact passes them.
func (c *compactor) str() bool {
	s := c.src
	for i := c.i + 1; i < len(s); i++ {
		switch b := s[i]; {
		case b == '"':
			c.i = i + 1
			return true
		case b < 0x20:
			return false
		case b == '\\':
			i++
			if i == len(s) {
				return false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i <= 4 {
					return false
				}
				for _, h := range s[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

func (c *compactor) digits() int {
	n := 0
	for c.i < len(c.src) && c.src[c.i] >= '0' && c.src[c.i] <= '9' {
		c.i++
		n++
	}
	return n
}

// num reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *compactor) num() bool {
	if c.next() == '-' {
		c.i++
	}
	switch b := c.next(); {
	case b == '0':
		c.i++
	case b >= '1' && b <= '9':
		c.digits()
	default:
		return false
	}
	if c.next() == '.' {
		c.i++
		if c.digits() == 0 {
			return false
		}
	}
	if b := c.next(); b == 'e' || b == 'E' {
		c.i++
		if b := c.next(); b == '+' || b == '-' {
			c.i++
		}
		if c.digits() == 0 {
			return false
		}
	}
	return true
}
