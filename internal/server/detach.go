package server

import (
	"context"
	"net/http"
	"time"
)

// writeBound bounds a request whose client has gone away.
const writeBound = 30 * time.Second

// detachWrites runs every request on a context that the client's hang-up
// does not cancel, bounded by writeBound. A client that half-closes its
// socket after sending, or gives up waiting, has still asked for the write:
// doing half of it, or doing it and answering -1, would leave it guessing.
// GET counts too: DingTalk's legacy gateway takes writes such as
// /gettoken and chat/create on GET as well as POST.
func detachWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), writeBound)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
