package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
)

func request(method, target, contentType, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func mustParams(t *testing.T, r *http.Request) *httpx.Params {
	t.Helper()
	p, err := httpx.ReadParams(r)
	if err != nil {
		t.Fatalf("ReadParams: %v", err)
	}
	return p
}

func wantReason(t *testing.T, err error, kind ding.Kind, reason ding.Reason) {
	t.Helper()
	if ding.ErrorKind(err) != kind || ding.ErrorReason(err) != reason {
		t.Fatalf("err = %v, want %v/%s", err, kind, reason)
	}
}

func TestReadParamsSources(t *testing.T) {
	for _, c := range []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		want        map[string]string // key → String()
	}{
		{"query only", "GET", "/x?a=1&b=two", "", "", map[string]string{"a": "1", "b": "two"}},
		{"first query value wins", "GET", "/x?a=1&a=2", "", "", map[string]string{"a": "1"}},
		{"GET body ignored", "GET", "/x?a=1", "application/json", `{"a":"2","b":"3"}`, map[string]string{"a": "1", "b": ""}},
		{"JSON body wins over query", "POST", "/x?a=1&c=q", "application/json", `{"a":"2","b":3}`, map[string]string{"a": "2", "b": "3", "c": "q"}},
		{"JSON labelled text/plain", "POST", "/x", "text/plain", `{"a":"t"}`, map[string]string{"a": "t"}},
		{"JSON without a type", "POST", "/x", "", `{"a":"n"}`, map[string]string{"a": "n"}},
		{"JSON with charset", "POST", "/x", "application/json; charset=utf-8", `{"a":"c"}`, map[string]string{"a": "c"}},
		{"empty body", "POST", "/x?a=1", "application/json", "", map[string]string{"a": "1"}},
		{"blank body", "POST", "/x?a=1", "application/json", " \n\t", map[string]string{"a": "1"}},
		{"form", "POST", "/x?a=1", "application/x-www-form-urlencoded", "a=2&b=%E7%BE%A4", map[string]string{"a": "2", "b": "群"}},
		{"form with charset", "POST", "/x", "application/x-www-form-urlencoded; charset=UTF-8", "access_token=tok", map[string]string{"access_token": "tok"}},
		{"JSON labelled as a form (curl -d)", "POST", "/x?a=1", "application/x-www-form-urlencoded", `{"name":"群","b":2}`, map[string]string{"a": "1", "name": "群", "b": "2"}},
		{"JSON after blank lines labelled as a form", "POST", "/x", "application/x-www-form-urlencoded", "\n  {\"name\":\"n\"}", map[string]string{"name": "n"}},
		{"form whose value holds JSON", "POST", "/x", "application/x-www-form-urlencoded", `msg={"a":1}&name=n`, map[string]string{"name": "n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustParams(t, request(c.method, c.target, c.contentType, c.body))
			for k, want := range c.want {
				got, err := p.String(k)
				if err != nil || got != want {
					t.Errorf("%s = %q, %v; want %q", k, got, err, want)
				}
			}
		})
	}
}

func TestReadParamsMultipart(t *testing.T) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("type", "image")
	w.WriteField("useridlist", `["a","b"]`)
	w.Close()
	p := mustParams(t, request("POST", "/x", w.FormDataContentType(), buf.String()))
	if s, _ := p.String("type"); s != "image" {
		t.Errorf("type = %q", s)
	}
	if l, err := p.Strings("useridlist"); err != nil || !slices.Equal(l, []string{"a", "b"}) {
		t.Errorf("useridlist = %v, %v", l, err)
	}
}

func TestReadParamsMalformed(t *testing.T) {
	for _, c := range []struct{ name, contentType, body string }{
		{"truncated JSON", "application/json", `{"a":`},
		{"JSON array", "application/json", `[1]`},
		{"JSON null", "application/json", `null`},
		{"JSON string", "text/plain", `"a"`},
		{"trailing data", "application/json", `{"a":1} {"b":2}`},
		{"not JSON at all", "", "hello"},
		{"form with a bad escape", "application/x-www-form-urlencoded", "a=%zz"},
		{"broken JSON labelled as a form", "application/x-www-form-urlencoded", `{"name":`},
		{"multipart without boundary", "multipart/form-data", "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := httpx.ReadParams(request("POST", "/x", c.contentType, c.body))
			wantReason(t, err, ding.Invalid, ding.ReasonMalformedBody)
		})
	}
	t.Run("too large", func(t *testing.T) {
		_, err := httpx.ReadParams(request("POST", "/x", "application/json", `{"a":"`+strings.Repeat("x", httpx.MaxBody)+`"}`))
		wantReason(t, err, ding.TooLarge, ding.ReasonMalformedBody)
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		body := `{"a":"` + strings.Repeat("x", httpx.MaxBody-8) + `"}`
		if len(body) != httpx.MaxBody {
			t.Fatalf("body is %d bytes", len(body))
		}
		if _, err := httpx.ReadParams(request("POST", "/x", "application/json", body)); err != nil {
			t.Fatalf("a body of MaxBody bytes: %v", err)
		}
	})
}

func TestReadJSON(t *testing.T) {
	p, err := httpx.ReadJSON(request("POST", "/x?a=q", "text/plain", `{"b":{"c":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := p.String("a"); s != "" {
		t.Errorf("ReadJSON read the query: a = %q", s)
	}
	o, err := p.Object("b")
	if err != nil || o == nil {
		t.Fatalf("b: %v", err)
	}
	if i, err := o.Int("c"); err != nil || i == nil || *i != 1 {
		t.Errorf("b.c = %v, %v", i, err)
	}
	for _, body := range []string{`[]`, `{`, `"a"`, `{}x`} {
		_, err := httpx.ReadJSON(request("POST", "/x", "application/json", body))
		wantReason(t, err, ding.Invalid, ding.ReasonMalformedBody)
	}
	for _, body := range []string{"", " ", "null"} { // an absent body, as some clients send it
		if p, err := httpx.ReadJSON(request("POST", "/x", "", body)); err != nil || p.Has("a") {
			t.Errorf("body %q: %v", body, err)
		}
	}
}

// TestChunkedBodies reads bodies sent with Transfer-Encoding: chunked and no
// Content-Length, as the Node clients send them, through a real server.
func TestChunkedBodies(t *testing.T) {
	type seen struct {
		length int64
		te     []string
		a      string
		list   []string
		err    error
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{length: r.ContentLength, te: r.TransferEncoding}
		read := httpx.ReadParams
		if strings.HasPrefix(r.URL.Path, "/v1") {
			read = httpx.ReadJSON
		}
		p, err := read(r)
		if s.err = err; err == nil {
			s.a, _ = p.String("a")
			s.list, s.err = p.Strings("l")
		}
		got <- s
	}))
	defer srv.Close()
	for _, c := range []struct{ name, path, contentType, body string }{
		{"JSON", "/legacy", "application/json", `{"a":"甲","l":["x","y"]}`},
		{"form", "/legacy", "application/x-www-form-urlencoded", `a=%E7%94%B2&l=%5B%22x%22%2C%22y%22%5D`},
		{"v1.0 JSON", "/v1", "application/json; charset=utf-8", `{"a":"甲","l":["x","y"]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				// several writes, so the body spans several chunks
				for _, part := range []string{c.body[:len(c.body)/2], c.body[len(c.body)/2:]} {
					pw.Write([]byte(part))
				}
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", srv.URL+c.path, pr)
			req.Header.Set("Content-Type", c.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := <-got
			if s.length != -1 || !slices.Equal(s.te, []string{"chunked"}) {
				t.Fatalf("request arrived with length %d, transfer encoding %v; want chunked", s.length, s.te)
			}
			if s.err != nil || s.a != "甲" || !slices.Equal(s.list, []string{"x", "y"}) {
				t.Fatalf("read a=%q l=%v err=%v", s.a, s.list, s.err)
			}
		})
	}
}

func params(t *testing.T, body string) *httpx.Params {
	t.Helper()
	return mustParams(t, request("POST", "/x", "application/json", body))
}

func TestInt(t *testing.T) {
	for _, c := range []struct {
		body string
		want *int
		ok   bool
	}{
		{`{"v":1}`, intp(1), true},
		{`{"v":"1"}`, intp(1), true}, // the Java SDK
		{`{"v":" 2 "}`, intp(2), true},
		{`{"v":"-3"}`, intp(-3), true},
		{`{"v":1.0}`, intp(1), true},
		{`{"v":"1e1"}`, intp(10), true},
		{`{"v":""}`, nil, true}, // the Java SDK's unset number
		{`{"v":null}`, nil, true},
		{`{}`, nil, true},
		{`{"v":2147483647}`, intp(2147483647), true},
		{`{"v":2147483648}`, nil, false},
		{`{"v":-2147483649}`, nil, false},
		{`{"v":1e999}`, nil, false},
		{`{"v":1.5}`, nil, false},
		{`{"v":"1.5"}`, nil, false},
		{`{"v":"one"}`, nil, false},
		{`{"v":true}`, nil, false},
		{`{"v":[1]}`, nil, false},
		{`{"v":{"x":1}}`, nil, false},
	} {
		got, err := params(t, c.body).Int("v")
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.body, err)
			continue
		}
		if err != nil {
			wantReason(t, err, ding.Invalid, ding.ReasonInvalidParam)
		}
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%s: Int = %v, want %v", c.body, deref(got), deref(c.want))
		}
	}
}

func intp(i int) *int { return &i }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestBool(t *testing.T) {
	tr, fa := true, false
	for _, c := range []struct {
		body string
		want *bool
		ok   bool
	}{
		{`{"v":true}`, &tr, true},
		{`{"v":false}`, &fa, true},
		{`{"v":"true"}`, &tr, true}, // the Java SDK
		{`{"v":"TRUE"}`, &tr, true},
		{`{"v":"false"}`, &fa, true},
		{`{"v":"1"}`, &tr, true},
		{`{"v":0}`, &fa, true},
		{`{"v":""}`, nil, true},
		{`{}`, nil, true},
		{`{"v":2}`, nil, false},
		{`{"v":"yes"}`, nil, false},
		{`{"v":[true]}`, nil, false},
	} {
		got, err := params(t, c.body).Bool("v")
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.body, err)
			continue
		}
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%s: Bool = %v, want %v", c.body, deref(got), deref(c.want))
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		body, want string
		ok         bool
	}{
		{`{"v":"a"}`, "a", true},
		{`{"v":13800000000}`, "13800000000", true}, // a mobile sent as a number keeps its digits
		{`{"v":1.50}`, "1.50", true},
		{`{"v":true}`, "true", true},
		{`{"v":null}`, "", true},
		{`{}`, "", true},
		{`{"v":["a"]}`, "", false},
		{`{"v":{"a":1}}`, "", false},
	} {
		got, err := params(t, c.body).String("v")
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: String = %q, %v; want %q", c.body, got, err, c.want)
		}
	}
	p := params(t, `{"set":"","null":null}`)
	if s, err := p.OptString("set"); err != nil || s == nil || *s != "" {
		t.Errorf(`OptString("") = %v, %v; want a pointer to ""`, s, err)
	}
	for _, k := range []string{"null", "absent"} {
		if s, err := p.OptString(k); err != nil || s != nil {
			t.Errorf("OptString(%s) = %v, %v; want nil", k, s, err)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct {
		body string
		want []string
		ok   bool
	}{
		{`{"v":["a","b"]}`, []string{"a", "b"}, true},
		{`{"v":[1,"b"]}`, []string{"1", "b"}, true},
		{`{"v":"[\"a\",\"b\"]"}`, []string{"a", "b"}, true}, // JSON text, as forms carry it
		{`{"v":" [\"a\"] "}`, []string{"a"}, true},
		{`{"v":"a, b,,c"}`, []string{"a", "b", "c"}, true},
		{`{"v":"a"}`, []string{"a"}, true},
		{`{"v":""}`, []string{}, true},
		{`{"v":[]}`, []string{}, true},
		{`{"v":null}`, nil, true},
		{`{}`, nil, true},
		{`{"v":5}`, nil, false},
		{`{"v":true}`, nil, false},
		{`{"v":{"a":1}}`, nil, false},
		{`{"v":[null]}`, nil, false},
		{`{"v":[["a"]]}`, nil, false},
		{`{"v":"[1,{}]"}`, nil, false},
	} {
		got, err := params(t, c.body).Strings("v")
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.body, err)
			continue
		}
		if (got == nil) != (c.want == nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: Strings = %#v, want %#v", c.body, got, c.want)
		}
	}
	// form values are text: a list in a form is JSON text or comma-separated
	p := mustParams(t, request("POST", "/x", "application/x-www-form-urlencoded", `l=%5B%22a%22%2C%22b%22%5D&c=a%2Cb`))
	for _, k := range []string{"l", "c"} {
		if got, err := p.Strings(k); err != nil || !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("form %s = %v, %v", k, got, err)
		}
	}
}

func TestObject(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
		nil_ bool
	}{
		{`{"v":{"a":"1"}}`, true, false},
		{`{"v":"{\"a\":\"1\"}"}`, true, false},
		{`{"v":null}`, true, true},
		{`{}`, true, true},
		{`{"v":"x"}`, false, true},
		{`{"v":"[1]"}`, false, true},
		{`{"v":[1]}`, false, true},
		{`{"v":1}`, false, true},
	} {
		o, err := params(t, c.body).Object("v")
		if (err == nil) != c.ok || (o == nil) != c.nil_ {
			t.Errorf("%s: Object = %v, %v", c.body, o, err)
			continue
		}
		if o != nil {
			if s, _ := o.String("a"); s != "1" {
				t.Errorf("%s: a = %q", c.body, s)
			}
		}
	}
}

func TestWriteJSON(t *testing.T) {
	for _, ct := range []string{httpx.ContentTypeLegacy, httpx.ContentTypeTopAPI, httpx.ContentTypeV1} {
		w := httptest.NewRecorder()
		httpx.WriteJSON(w, 200, ct, map[string]any{"name": "A&B <群>"})
		if got := w.Header().Get("Content-Type"); got != ct {
			t.Errorf("Content-Type = %q, want %q", got, ct)
		}
		if got, want := w.Body.String(), `{"name":"A&B <群>"}`; got != want {
			t.Errorf("body = %q, want %q (no HTML escaping, no trailing newline)", got, want)
		}
	}
	if httpx.ContentTypeLegacy != "application/json" || httpx.ContentTypeTopAPI != "application/json;charset=UTF-8" || httpx.ContentTypeV1 != "application/json;charset=utf-8" {
		t.Errorf("content types changed: %q %q %q", httpx.ContentTypeLegacy, httpx.ContentTypeTopAPI, httpx.ContentTypeV1)
	}
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, 200, httpx.ContentTypeLegacy, map[string]any{"bad": func() {}})
	if w.Code != 500 || !json.Valid(w.Body.Bytes()) {
		t.Errorf("unencodable value: %d %s", w.Code, w.Body)
	}
}

func TestMiddleware(t *testing.T) {
	var ids []string
	newID := func() string { id := "ID-" + string(rune('A'+len(ids))); ids = append(ids, id); return id }
	var seen string
	h := httpx.Middleware(slog.New(slog.DiscardHandler), newID, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpx.RequestID(r.Context())
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.Write([]byte("{}"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/ok", nil))
	if seen != "ID-A" || w.Code != 200 {
		t.Errorf("request id = %q, status %d", seen, w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/panic", nil))
	// outside a surface no DingTalk shape applies: a plain 500 naming the request
	if w.Code != 500 || !strings.Contains(w.Body.String(), "ID-B") {
		t.Errorf("panic answered %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if httpx.RequestID(context.Background()) != "" {
		t.Errorf("request id outside a request")
	}
}
