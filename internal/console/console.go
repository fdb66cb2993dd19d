// Package console serves the operator's and members' web console: static
// pages embedded in the binary (no build step, nothing fetched from
// elsewhere) that read DingChat's own API with a token held by the page
// and sent as a header, so no cookie can be ridden by another site.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// CSP allows the console's own scripts, styles and connections only: no
// inline script or style, no plugins, no framing, blobs for images read
// through the API.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console under /_dingchat/console/.
func Handler() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fsrv := http.StripPrefix("/_dingchat/console/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		p := strings.TrimPrefix(r.URL.Path, "/_dingchat/console/")
		if p == "" || p == "index.html" {
			b, _ := files.ReadFile("static/index.html")
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b)
			return
		}
		fsrv.ServeHTTP(w, r)
	})
}
