package dingchatapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A client that stops reading is let go once a write has been stuck for
// the writer's timeout, instead of holding its goroutine forever.
func TestLiveWriterGivesUpOnAStuckClient(t *testing.T) {
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := liveUpgrader.Upgrade(hijacker{w}, r, nil)
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		frame := []byte(strings.Repeat("x", 1<<20))
		for {
			if err := writeLive(conn, frame, 200*time.Millisecond); err != nil {
				done <- err
				return
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() // never reads: the server's writes fill the socket's buffers, then block
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the writer stopped without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write to a client that stopped reading was still stuck after 10 s; want the socket closed after 200 ms")
	}
}
