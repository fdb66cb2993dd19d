package callback

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// With private addresses refused, a loopback receiver is never reached,
// whatever name points at it.
func TestPushRefusesPrivate(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	sub := &ding.Subscription{Token: "token123", AESKey: "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", OwnerKey: "ding1", URL: srv.URL}
	res := NewPusher(nil, true).Push(context.Background(), sub, []byte(`{"EventType":"check_url"}`))
	if res.Failure != ding.PushRefused || reached {
		t.Fatalf("push to %s = %+v (reached %v), want refused", srv.URL, res, reached)
	}
	sub.URL = "http://localhost:" + srv.Listener.Addr().(*net.TCPAddr).String()[len("127.0.0.1:"):]
	if res := NewPusher(nil, true).Push(context.Background(), sub, []byte(`{}`)); res.Failure != ding.PushRefused || reached {
		t.Fatalf("push to %s = %+v, want refused", sub.URL, res)
	}
	// allowed by default
	if res := NewPusher(nil, false).Push(context.Background(), sub, []byte(`{}`)); res.Failure == ding.PushRefused || !reached {
		t.Fatalf("default push = %+v, want the receiver reached", res)
	}
}
