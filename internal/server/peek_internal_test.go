package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

// peek's head and what the handler reads afterwards, over real HTTP: a body
// of declared length is handed over whole once, a short one fails as it
// would without peek, and bodies of unknown length take the long way.
func TestPeekHandsBodyOver(t *testing.T) {
	type seen struct {
		head, body, again string
		whole             bool
		err               error
	}
	got := make(chan seen, 1)
	max := int64(64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		s.head = string(peek(r))
		_, s.whole = r.Body.(*httpx.WholeBody)
		b, err := httpx.ReadBodyOr(r, max, ding.ReasonMsgTooLong)
		s.body, s.err = string(b), err
		rest, _ := io.ReadAll(r.Body)
		s.again = string(rest)
		got <- s
	}))
	defer srv.Close()

	post := func(body io.Reader) seen {
		t.Helper()
		resp, err := http.Post(srv.URL, "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-got
	}

	const msg = `{"chatid":"chat1","msg":{}}`
	s := post(strings.NewReader(msg))
	if !s.whole || s.head != msg || s.body != msg || s.err != nil || s.again != "" {
		t.Errorf("declared length: %+v", s)
	}

	// unknown length (chunked): the head is put back in front of the rest
	s = post(io.MultiReader(strings.NewReader(msg[:5]), strings.NewReader(msg[5:])))
	if s.whole || s.head != msg || s.body != msg || s.err != nil {
		t.Errorf("chunked: %+v", s)
	}

	// over the endpoint's limit, whole or not
	long := strings.Repeat("x", int(max)+1)
	for _, body := range []io.Reader{strings.NewReader(long), io.MultiReader(strings.NewReader(long))} {
		s = post(body)
		var de *ding.Error
		if !errors.As(s.err, &de) || de.Kind != ding.TooLarge || de.Reason != ding.ReasonMsgTooLong {
			t.Errorf("over the limit: %+v", s)
		}
	}

	// a body shorter than declared: the handler's read fails, it is not
	// handed a cut body as if whole
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n%s", msg[:10])
	c.(*net.TCPConn).CloseWrite()
	s = <-got
	var de *ding.Error
	if s.whole || s.head != msg[:10] || !errors.As(s.err, &de) || de.Kind != ding.Invalid || de.Reason != ding.ReasonMalformedBody {
		t.Errorf("short body: %+v", s)
	}
	bufio.NewReader(c).ReadString('\n')
}

// Read after take, and take after Read: the body is consumed once.
func TestWholeBodyReadOnce(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("abc"))
	r.Body = httpx.NewWholeBody([]byte("abc"), r.Body)
	b, err := httpx.ReadBody(r, 10)
	if err != nil || string(b) != "abc" {
		t.Fatalf("first read: %q %v", b, err)
	}
	if cap(b) > len(b) {
		t.Fatal("the shared bytes can be appended to in place")
	}
	if b, err = httpx.ReadBody(r, 10); err != nil || len(b) != 0 {
		t.Fatalf("second read: %q %v", b, err)
	}

	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("abc"))
	r.Body = httpx.NewWholeBody([]byte("abc"), r.Body)
	one := make([]byte, 1)
	r.Body.Read(one)
	if b, err = httpx.ReadBody(r, 10); err != nil || string(b) != "bc" {
		t.Fatalf("after a partial read: %q %v", b, err)
	}
}
