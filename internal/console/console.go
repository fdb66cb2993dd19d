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

// Handler serves the console under /_dingchat/console/. Each file carries
// an ETag of its content: with no-cache the browser asks again on every
// load, gets 304 while the binary is the same, and keeps what it compiled.
func Handler() http.Handler {
	type file struct {
		body []byte
		etag string
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		p := strings.TrimPrefix(r.URL.Path, "/_dingchat/console/")
		if p == "" {
			p = "index.html"
		}
		f, ok := byPath[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if p == "index.html" {
			h.Set("Content-Type", "text/html; charset=utf-8")
		}
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
	})
}
