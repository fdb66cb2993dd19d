package oapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
)

// mediaSrv is the whole HTTP surface with a blob directory, over a store
// holding the two fixture corps without their numbered users (media never
// needs them), a fixed clock and sequential ids.
type mediaSrv struct {
	t      testing.TB
	h      http.Handler
	blobs  string
	token  string // the fixture corp's default app
	other  string // an app of the other corp
	prefix string // "/media/upload?access_token=" + token
}

func newMediaSrv(t testing.TB) *mediaSrv {
	t.Helper()
	st := dingtest.OpenStore(t)
	for _, org := range []*ding.Org{dingtest.Org(), dingtest.OtherOrg()} {
		org.Users = org.Users[:min(len(org.Users), 2)]
		org.Externals = nil
		if err := st.ApplyOrg(context.Background(), org); err != nil {
			t.Fatalf("seed %s: %v", org.Corp.ID, err)
		}
	}
	root := filepath.Join(t.TempDir(), "blobs")
	dir, err := media.NewDir(root)
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	svc := service.New(st, dingtest.NewClock(), &service.SequentialIDs{}, service.WithBlobs(dir))
	s := &mediaSrv{t: t, h: server.Handler(svc, slog.New(slog.DiscardHandler)), blobs: root}
	for _, app := range []struct {
		key, secret string
		dst         *string
	}{{dingtest.AppKey, dingtest.AppSecret, &s.token}, {dingtest.OtherAppKey, dingtest.OtherAppSecret, &s.other}} {
		tok, err := svc.IssueToken(context.Background(), app.key, app.secret)
		if err != nil {
			t.Fatalf("IssueToken: %v", err)
		}
		*app.dst = tok.Value
	}
	s.prefix = "/media/upload?access_token=" + s.token
	return s
}

// mediaReq is one request to the surface.
type mediaReq struct {
	method      string // POST when empty
	path        string
	contentType string
	body        []byte
	chunked     bool // no Content-Length, as the Node clients send
}

// do may run inside a fuzz target, so it never touches s.t.
func (s *mediaSrv) do(r mediaReq) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodPost
	}
	req := httptest.NewRequest(r.method, r.path, bytes.NewReader(r.body))
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// upload posts a multipart body built from parts.
func (s *mediaSrv) upload(query string, parts ...mpart) *httptest.ResponseRecorder {
	return s.do(mediaReq{path: s.prefix + query, contentType: mpContentType, body: mpBody(parts...)})
}

func (s *mediaSrv) get(token, mediaID string) *httptest.ResponseRecorder {
	return s.do(mediaReq{method: http.MethodGet, path: "/media/get?access_token=" + token + "&media_id=" + mediaID})
}

// storedFiles counts the files in the blob directory (blobs and temps).
func (s *mediaSrv) storedFiles() int {
	s.t.Helper()
	n := 0
	err := filepath.WalkDir(s.blobs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		s.t.Fatalf("walk blobs: %v", err)
	}
	return n
}

// mediaResult is a legacy JSON answer of the media routes.
type mediaResult struct {
	Errcode   *json.Number `json:"errcode"`
	Errmsg    string       `json:"errmsg"`
	Type      string       `json:"type"`
	MediaID   string       `json:"media_id"`
	CreatedAt json.Number  `json:"created_at"`
}

func decodeMedia(t testing.TB, rec *httptest.ResponseRecorder) mediaResult {
	t.Helper()
	var out mediaResult
	d := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	d.UseNumber()
	if err := d.Decode(&out); err != nil || out.Errcode == nil {
		t.Fatalf("not a legacy JSON answer (%v): %q", err, rec.Body.String())
	}
	return out
}

func wantMediaCode(t testing.TB, rec *httptest.ResponseRecorder, want string) mediaResult {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	out := decodeMedia(t, rec)
	if got := out.Errcode.String(); got != want {
		t.Fatalf("errcode = %s, want %s; body %s", got, want, rec.Body)
	}
	return out
}

// Multipart bodies with a fixed boundary, so golden cases stay readable.
const (
	mpBoundary    = "dingchat-test-boundary"
	mpContentType = "multipart/form-data; boundary=" + mpBoundary
)

// mpart is one part of a multipart body: a field, or a file when filename
// or contentType is set.
type mpart struct {
	name, filename, contentType string
	data                        []byte
	file                        bool
}

func mpField(name, value string) mpart { return mpart{name: name, data: []byte(value)} }

// mpFile is a file part as most clients send it: application/octet-stream.
func mpFile(name, filename string, data []byte) mpart {
	return mpart{name: name, filename: filename, contentType: "application/octet-stream", data: data, file: true}
}

func mpBody(parts ...mpart) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(mpBoundary); err != nil {
		panic(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name="%s"`, p.name)
		if p.file {
			cd += fmt.Sprintf(`; filename="%s"`, strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(p.filename))
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			panic(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return buf.Bytes()
}

// mpFilled is n bytes of a repeating pattern.
func mpFilled(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// updatingGolden reports whether golden files are to be rewritten: with
// the package's -update flag, or DINGCHAT_UPDATE_GOLDEN=1.
func updatingGolden() bool {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		return true
	}
	return os.Getenv("DINGCHAT_UPDATE_GOLDEN") == "1"
}

// mediaGoldenFile is the file form of a response: the body re-indented as
// sent when it is JSON, else as text, and the named headers.
type mediaGoldenFile struct {
	Status      int               `json:"status"`
	ContentType string            `json:"content_type"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        json.RawMessage   `json:"body,omitempty"`
	BodyText    *string           `json:"body_text,omitempty"`
}

func encodeMediaGolden(g mediaGoldenFile) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"status\": %d,\n  \"content_type\": ", g.Status)
	ct, _ := json.Marshal(g.ContentType)
	buf.Write(ct)
	if len(g.Headers) > 0 {
		buf.WriteString(",\n  \"headers\": ")
		h, _ := json.MarshalIndent(g.Headers, "  ", "  ")
		buf.Write(h)
	}
	if g.Body != nil {
		buf.WriteString(",\n  \"body\": ")
		json.Indent(&buf, g.Body, "  ", "  ")
	} else {
		buf.WriteString(",\n  \"body_text\": ")
		b, _ := json.Marshal(*g.BodyText)
		buf.Write(b)
	}
	buf.WriteString("\n}\n")
	return buf.Bytes()
}

// mediaGolden compares the whole response with testdata/<name>.json: status,
// Content-Type, the named headers, and the body byte for byte (JSON compared
// in compact form, so key order, escapes and number spelling count).
func mediaGolden(t testing.TB, name string, rec *httptest.ResponseRecorder, headers ...string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name)+".json")
	got := mediaGoldenFile{Status: rec.Code, ContentType: rec.Header().Get("Content-Type")}
	for _, h := range headers {
		if got.Headers == nil {
			got.Headers = map[string]string{}
		}
		got.Headers[h] = rec.Header().Get(h)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, rec.Body.Bytes()) == nil && got.ContentType == "application/json" {
		got.Body = compact.Bytes()
	} else {
		s := rec.Body.String()
		got.BodyText = &s
	}
	if updatingGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, encodeMediaGolden(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	var want mediaGoldenFile
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("golden file %s: %v", path, err)
	}
	if want.Body != nil {
		var c bytes.Buffer
		if err := json.Compact(&c, want.Body); err != nil {
			t.Fatalf("golden body %s: %v", path, err)
		}
		want.Body = c.Bytes()
	}
	if got.Status != want.Status || got.ContentType != want.ContentType || !reflect.DeepEqual(got.Headers, want.Headers) {
		t.Errorf("response head differs from %s\ngot:  %d %q %v\nwant: %d %q %v", path,
			got.Status, got.ContentType, got.Headers, want.Status, want.ContentType, want.Headers)
	}
	switch {
	case want.BodyText != nil || got.BodyText != nil:
		if want.BodyText == nil || got.BodyText == nil || *want.BodyText != *got.BodyText {
			t.Errorf("body = %q, want golden %s", rec.Body, path)
		}
	case !bytes.Equal(got.Body, want.Body):
		t.Errorf("body differs from %s\ngot:  %s\nwant: %s", path, got.Body, want.Body)
	}
}
