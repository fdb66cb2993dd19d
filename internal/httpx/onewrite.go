package httpx

import (
	"context"
	"net/http"
	"strconv"
)

// Holder is a connection that can hold its writes and send them as one.
// net/http writes an answer's headers into a 4 KiB buffer and the body
// through it, so an answer past that size leaves in two system calls at
// least; held, it leaves in one.
type Holder interface {
	Hold()
	Release() error
}

const connKey ctxKey = 1

// WithConn keeps c in a connection's context (http.Server.ConnContext),
// where answers written whole find it.
func WithConn(ctx context.Context, c Holder) context.Context {
	return context.WithValue(ctx, connKey, c)
}

// Answers between these sizes are held and sent in one write: smaller ones
// fit net/http's buffer with their headers, and for larger ones a second
// system call is a small part of the cost.
const (
	holdMin = 3 << 10
	holdMax = 64 << 10
)

// whole reports whether b is the entire body the answer declared.
func (r *recorder) whole(b []byte) bool {
	if r.bytes != 0 || len(b) < holdMin || len(b) > holdMax {
		return false
	}
	v := r.ResponseWriter.Header()["Content-Length"]
	var n [20]byte
	return len(v) == 1 && v[0] == string(strconv.AppendInt(n[:0], int64(len(b)), 10))
}

// writeHeld writes a whole answer with its connection's writes held, then
// flushes it: headers and body leave in one write.
func (r *recorder) writeHeld(c Holder, b []byte) (int, error) {
	c.Hold()
	n, err := r.ResponseWriter.Write(b)
	if err == nil {
		err = http.NewResponseController(r.ResponseWriter).Flush()
	}
	if rerr := c.Release(); err == nil {
		err = rerr
	}
	return n, err
}

// setLength declares a body's length, for answers net/http would
// otherwise send chunked (past its 2 KiB buffer).
func setLength(h http.Header, n int) {
	if n > 2<<10 {
		h["Content-Length"] = []string{strconv.Itoa(n)}
	}
}
