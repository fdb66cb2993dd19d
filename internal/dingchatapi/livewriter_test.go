package dingchatapi

import (
	"context"
	"net"
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

// The write deadline moves when asked for an earlier one, a cleared one or
// one at least a second later, and only then.
func TestLiveConnDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := &liveConn{Conn: a}
	defer c.Close()
	t0 := time.Now().Add(10 * time.Second)
	steps := []struct {
		ask, want time.Time
	}{
		{t0, t0},
		{t0.Add(500 * time.Millisecond), t0},       // within a second later: kept
		{t0.Add(time.Second), t0.Add(time.Second)}, // a second later: moved
		{t0.Add(200 * time.Millisecond), t0.Add(200 * time.Millisecond)}, // earlier: moved
		{time.Time{}, time.Time{}},                                       // cleared
		{t0, t0},
	}
	for i, s := range steps {
		if err := c.SetWriteDeadline(s.ask); err != nil {
			t.Fatal(err)
		}
		if !c.wdl.Equal(s.want) {
			t.Fatalf("step %d: deadline %v, want %v", i, c.wdl, s.want)
		}
	}
	// a deadline that was kept still ends a stuck write
	if err := c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond)) // kept: under a second later
	start := time.Now()
	if _, err := c.Write([]byte("nobody reads this")); err == nil {
		t.Fatal("a write nobody reads returned no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the stuck write took %v to fail", d)
	}
}
