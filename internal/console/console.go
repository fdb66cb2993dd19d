// Package console serves the operator's and members' web console: static
// pages embedded in the binary (no build step, nothing fetched from
// elsewhere) that read DingChat's own API with a token held by the page
// and sent as a header, so no cookie can be ridden by another site.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// CSP allows the console's own scripts, styles and connections only: no
// inline script or style, no plugins, no framing, blobs for images read
// through the API.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console under /_dingchat/console/. The page names its
// script and style with their content's hash (app.js?v=…), and those are
// cached for good: a reload asks for the page alone. Anything else carries
// an ETag and no-cache, so a browser asks again and gets 304 while the
// binary is the same.
func Handler() http.Handler {
	type file struct {
		body []byte
		etag string // the content's hash, quoted
	}
	byPath := map[string]file{}
	fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		byPath[strings.TrimPrefix(p, "static/")] = file{b, `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	version := func(name string) string { return strings.Trim(byPath[name].etag, `"`) }
	index := byPath["index.html"]
	index.body = []byte(strings.NewReplacer(`href="app.css"`, `href="app.css?v=`+version("app.css")+`"`,
		`src="app.js"`, `src="app.js?v=`+version("app.js")+`"`).Replace(string(index.body)))
	sum := sha256.Sum256(index.body)
	index.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	byPath["index.html"] = index
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		p := strings.TrimPrefix(r.URL.Path, "/_dingchat/console/")
		if p == "" {
			p = "index.html"
		}
		f, ok := byPath[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == version(p) && p != "index.html" {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if p == "index.html" {
			h.Set("Content-Type", "text/html; charset=utf-8")
		}
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
	})
}
