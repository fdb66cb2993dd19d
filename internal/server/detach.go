package server

import (
	"context"
	"net/http"
	"time"
)

// writeBound bounds a write whose client has gone away.
const writeBound = 30 * time.Second

// detachWrites runs requests that may write (any method but GET, HEAD and
// OPTIONS) on a context that the client's hang-up does not cancel, bounded
// by writeBound. A client that half-closes its socket after sending, or
// gives up waiting, has still asked for the write: doing half of it, or
// doing it and answering -1, would leave it guessing.
func detachWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), writeBound)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
