package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// faultInjector is the SQLite store's test hook for a failing commit.
type faultInjector interface {
	InjectCommitFault(f func() error)
}

// After a commit fails as a failing fsync makes it fail (the WAL written,
// the fsync refused), the SQLite store acknowledges no further write: the
// failed commit's outcome is unknown, and a client told -1 must not find a
// later message of its own stored as well. Health says why.
func TestCommitFailureStopsWrites(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	inj, ok := e.Store.(faultInjector)
	if !ok {
		t.Skip("the store has no commit fault hook (PostgreSQL fails fast by itself)")
	}
	e.Group("故障群")
	send := func(text string) *servertest.Response {
		return e.Post("/chat/send?access_token={{token}}", `{"chatid":"{{chatid}}","msg":{"msgtype":"text","text":{"content":"`+text+`"}}}`)
	}
	if r := send("before"); r.Failed() {
		t.Fatalf("send before the fault: %s", r.Body)
	}
	if r := e.Get("/_dingchat/health"); r.Status != http.StatusOK || string(r.Body) != `{"status":"ok"}` {
		t.Fatalf("health before the fault: %d %s", r.Status, r.Body)
	}
	var faults atomic.Int32
	inj.InjectCommitFault(func() error {
		if faults.Add(1) == 1 {
			return fmt.Errorf("fsync: %w", syscall.EIO)
		}
		return nil
	})
	if r := send("at the fault"); string(r.Body) != `{"errcode":-1,"errmsg":"系统繁忙"}` {
		t.Fatalf("send at the fault = %s, want -1", r.Body)
	}
	// the disk would work again now; the store must not believe it
	for i := range 3 {
		if r := send(fmt.Sprintf("after %d", i)); string(r.Body) != `{"errcode":-1,"errmsg":"系统繁忙"}` {
			t.Fatalf("send %d after the fault = %s, want -1", i, r.Body)
		}
	}
	if r := e.Do(servertest.Request{Path: "/v1.0/im/group/create", Header: map[string]string{"x-acs-dingtalk-access-token": "{{token}}"},
		Body: `{"title":"新群","ownerUserId":"manager4220","userIds":["zhangsan"]}`}); !r.Failed() {
		t.Fatalf("group create after the fault succeeded: %s", r.Body)
	}
	r := e.Get("/_dingchat/health")
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), `"status":"unavailable"`) ||
		!strings.Contains(string(r.Body), "input/output error") || !strings.Contains(string(r.Body), "restart") {
		t.Fatalf("health after the fault = %d %s, want 503 naming the failed commit", r.Status, r.Body)
	}
	msgs, err := e.Store.Messages(context.Background(), e.Vars["chatid"], ding.MessageQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(string(m.Body), "after") {
			t.Errorf("a write after the failed commit was stored: %s", m.Body)
		}
	}
	if faults.Load() != 1 {
		t.Errorf("commits attempted after the failure: %d, want none", faults.Load()-1)
	}
}

// failingPing is a store whose commits fail: health must say so and why,
// and a burst of checks costs one probe.
type failingPing struct {
	ding.Store
	pings atomic.Int32
}

func (f *failingPing) Ping(ctx context.Context) error {
	f.pings.Add(1)
	return &ding.Error{Kind: ding.Unavailable, Message: "storage unavailable", Err: errors.New("database or disk is full")}
}

func TestHealthCachesTheProbe(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	for range 5 {
		if r := e.Get("/_dingchat/health"); r.Status != http.StatusOK || string(r.Body) != `{"status":"ok"}` {
			t.Fatalf("health = %d %s", r.Status, r.Body)
		}
	}
	st := &failingPing{Store: e.Store}
	srv := httptest.NewServer(server.Handler(service.New(st, nil, nil), slog.New(slog.DiscardHandler)))
	defer srv.Close()
	for range 20 {
		resp, err := http.Get(srv.URL + "/_dingchat/health")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "database or disk is full") {
			t.Fatalf("health over a full disk = %d %s, want 503 naming the cause", resp.StatusCode, b)
		}
	}
	if n := st.pings.Load(); n != 1 {
		t.Fatalf("20 health checks within %v probed the store %d times, want 1", time.Second, n)
	}
}

// A client that half-closes its socket right after sending still gets its
// write done and answered: the hang-up the server notices must not cancel a
// write that has begun.
func TestHalfClosedClientWriteCompletes(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	e.Group("半关闭群")
	host := strings.TrimPrefix(e.URL, "http://")
	tok := e.Expand("{{token}}")
	const n = 30
	for i := range n {
		body := fmt.Sprintf(`{"chatid":"%s","msg":{"msgtype":"text","text":{"content":"half-close %d"}}}`, e.Vars["chatid"], i)
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /chat/send?access_token=%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			tok, host, len(body), body)
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("send %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), `{"errcode":0,`) {
			t.Fatalf("send %d after half-close = %d %s, want success", i, resp.StatusCode, b)
		}
	}
	msgs, err := e.Store.Messages(context.Background(), e.Vars["chatid"], ding.MessageQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("timeline holds %d messages, want %d", len(msgs), n)
	}
}
