package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/console"
)

// TestHandler: every file carries the CSP and an ETag of its content, a
// request naming that ETag gets 304 and no body, the page names its script
// and style by their hash and those are cached for good, and nothing else
// is served.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(console.Handler())
	defer srv.Close()
	var page string
	get := func(path, etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.HasSuffix(path, "/") {
			page = string(b)
		}
		return resp
	}
	for _, c := range []struct{ path, typ string }{
		{"/_dingchat/console/", "text/html"}, {"/_dingchat/console/index.html", "text/html"},
		{"/_dingchat/console/app.js", "javascript"}, {"/_dingchat/console/app.css", "text/css"},
	} {
		r := get(c.path, "")
		etag := r.Header.Get("ETag")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), c.typ) || etag == "" {
			t.Fatalf("GET %s: %d %q ETag %q", c.path, r.StatusCode, r.Header.Get("Content-Type"), etag)
		}
		if csp := r.Header.Get("Content-Security-Policy"); csp != console.CSP || r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s: CSP %q, Cache-Control %q", c.path, csp, r.Header.Get("Cache-Control"))
		}
		if r := get(c.path, etag); r.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s with its ETag: %d, want 304", c.path, r.StatusCode)
		}
		if r := get(c.path, `"stale"`); r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s with another ETag: %d, want 200", c.path, r.StatusCode)
		}
	}
	if a, b := get("/_dingchat/console/app.js", "").Header.Get("ETag"), get("/_dingchat/console/app.css", "").Header.Get("ETag"); a == b {
		t.Fatalf("app.js and app.css share the ETag %s", a)
	}
	get("/_dingchat/console/", "")
	for _, name := range []string{"app.js", "app.css"} {
		v := strings.Trim(get("/_dingchat/console/"+name, "").Header.Get("ETag"), `"`)
		if !strings.Contains(page, name+"?v="+v+`"`) {
			t.Fatalf("the page does not name %s?v=%s:\n%s", name, v, page)
		}
		if r := get("/_dingchat/console/"+name+"?v="+v, ""); r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s?v=%s: %d, Cache-Control %q, want it cached for good", name, v, r.StatusCode, r.Header.Get("Cache-Control"))
		}
		if r := get("/_dingchat/console/"+name+"?v=stale", ""); r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s of another version: Cache-Control %q, want no-cache", name, r.Header.Get("Cache-Control"))
		}
	}
	for _, p := range []string{"/_dingchat/console/nosuch.js", "/_dingchat/console/static/app.js", "/_dingchat/console/../console.go"} {
		if r := get(p, ""); r.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
}
