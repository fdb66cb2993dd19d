package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dingchat/dingchat/internal/httpx"
)

// countingListener counts the writes made to its connections.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

type bigAppender struct{ n int }

func (a bigAppender) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"v":"`...)
	dst = append(dst, strings.Repeat("y", a.n)...)
	return append(dst, `"}`...), nil
}

// An answer written whole leaves in one write, headers and body, whatever
// its size up to holdMax; answers written in parts, and connections that
// go on after one, are served as before.
func TestWholeAnswersLeaveInOneWrite(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.HandleFunc("/encoded/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeV1, map[string]string{"v": strings.Repeat("x", n)})
	})
	mux.HandleFunc("/appended/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		httpx.WriteJSON(w, http.StatusBadRequest, httpx.ContentTypeLegacy, bigAppender{n})
	})
	mux.HandleFunc("/parts", func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			w.Write([]byte(strings.Repeat("z", 5000)))
		}
	})
	srv := serverOn(limitListener(countingListener{raw, &writes}, 8), httpx.Middleware(log, func() string { return "rid" }, mux), log)
	go srv.Serve()
	defer srv.Shutdown(context.Background())

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var reused atomic.Int64
	do := func(method, path string) (*http.Response, []byte, int64) {
		t.Helper()
		before := writes.Load()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused.Add(1)
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, "http://"+raw.Addr().String()+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return resp, body, writes.Load() - before
	}
	for _, c := range []struct {
		path      string
		status, n int
		oneWrite  bool
	}{
		{"/encoded/10", 200, 10, true},
		{"/encoded/2500", 200, 2500, true}, // past net/http's body buffer: a declared length, not chunks
		{"/encoded/5000", 200, 5000, true},
		{"/appended/5000", 400, 5000, true},
		{"/encoded/60000", 200, 60000, true},
		{"/encoded/200000", 200, 200000, false}, // past holdMax
	} {
		resp, body, n := do("GET", c.path)
		var v map[string]string
		if err := json.Unmarshal(body, &v); err != nil || len(v["v"]) != c.n {
			t.Fatalf("%s: body of %d bytes, %v", c.path, len(body), err)
		}
		if resp.StatusCode != c.status || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("%s: status %d, length %d, transfer %v; want %d, %d, none", c.path, resp.StatusCode, resp.ContentLength, resp.TransferEncoding, c.status, len(body))
		}
		if c.oneWrite && n != 1 {
			t.Errorf("%s: %d writes, want 1", c.path, n)
		}
	}
	resp, body, n := do("HEAD", "/encoded/5000")
	if len(body) != 0 || resp.ContentLength < 5000 || n != 1 {
		t.Errorf("HEAD: %d bytes of body, length %d, %d writes", len(body), resp.ContentLength, n)
	}
	_, body, _ = do("GET", "/parts")
	if string(body) != strings.Repeat("z", 15000) {
		t.Errorf("an answer in parts came back as %d bytes", len(body))
	}
	if _, body, n = do("GET", "/encoded/5000"); len(body) < 5000 || n != 1 {
		t.Errorf("after an answer in parts: %d bytes in %d writes", len(body), n)
	}
	if got := reused.Load(); got != 8 {
		t.Errorf("%d of 9 requests reused the connection, want 8", got)
	}
}

type failingConn struct {
	net.Conn
	writes int
}

func (c *failingConn) Write(p []byte) (int, error) {
	c.writes++
	return 0, errors.New("connection reset")
}

// A held write that fails fails every write after it, so the answer's
// writer and net/http both learn the connection is gone.
func TestReleaseFailureSticks(t *testing.T) {
	inner := &failingConn{}
	c := &limitedConn{Conn: inner, release: func() {}}
	c.Hold()
	if n, err := c.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("held write: %d, %v", n, err)
	}
	if inner.writes != 0 {
		t.Fatal("a held write reached the connection")
	}
	if err := c.Release(); err == nil {
		t.Fatal("Release hid the failed write")
	}
	if _, err := c.Write([]byte("d")); err == nil || inner.writes != 1 {
		t.Fatalf("after the failure: %v, %d writes to the connection", err, inner.writes)
	}
	if err := c.Release(); err == nil {
		t.Fatal("a second Release forgot the failure")
	}
}

// Whole answers on many connections at once, beside a hijacked connection
// written from another goroutine, under the race detector: each
// connection's held writes are its serving goroutine's alone.
func TestHeldWritesOnManyConnections(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	big := strings.Repeat("x", 6000)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, httpx.ContentTypeV1, map[string]string{"v": big})
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.Flush()
		go func() {
			defer c.Close()
			body := strings.Repeat("h", 5000)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
		}()
	})
	srv := serverOn(limitListener(raw, 64), httpx.Middleware(log, func() string { return "rid" }, mux), log)
	go srv.Serve()
	defer srv.Shutdown(context.Background())

	base := "http://" + raw.Addr().String()
	errs := make(chan error, 64)
	for i := range 8 {
		go func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for j := range 20 {
				path, want := "/big", len(big)+8
				if (i+j)%5 == 0 {
					path, want = "/hijack", 5000
				}
				resp, err := client.Get(base + path)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || len(body) != want {
					errs <- fmt.Errorf("%s: %d bytes, want %d (%v)", path, len(body), want, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
