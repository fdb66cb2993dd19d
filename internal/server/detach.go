package server

import (
	"context"
	"time"
)

// writeBound bounds a request whose client has gone away.
const writeBound = 30 * time.Second

// detach is the context every request is served on (controls): one that
// the client's hang-up does not cancel, bounded by writeBound. A client
// that half-closes its socket after sending, or gives up waiting, has
// still asked for the write:
// doing half of it, or doing it and answering -1, would leave it guessing.
// GET counts too: DingTalk's legacy gateway takes writes such as
// /gettoken and chat/create on GET as well as POST.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeBound)
}
