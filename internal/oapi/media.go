package oapi

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

const (
	// maxUploadBody bounds a media/upload body: the largest file plus room
	// for the multipart framing and the type field.
	maxUploadBody = service.MaxMediaSize + 1<<20
	// uploadMemory is how much of an upload is held in memory; the rest of
	// the file waits in a temp file until the rules have passed.
	uploadMemory = 1 << 20
)

type uploadResponse struct {
	ok
	Type      string `json:"type"`
	MediaID   string `json:"media_id"`
	CreatedAt int64  `json:"created_at"`
}

// mediaUpload is media/upload: multipart/form-data with the file as part
// "media" and "type" as a form field (the Java and Python SDKs) or on the
// query (old docs, godingtalk); the form field wins when both are set.
func (a *API) mediaUpload(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	notMultipart := ding.Errorf(ding.Invalid, ding.ReasonNotMultipart, "the body must be multipart/form-data")
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" || r.Body == nil {
		return nil, notMultipart
	}
	body := &countingReader{r: http.MaxBytesReader(nil, r.Body, maxUploadBody)}
	form, err := multipart.NewReader(body, params["boundary"]).ReadForm(uploadMemory)
	if err != nil {
		var tooBig *http.MaxBytesError
		var pathErr *fs.PathError
		switch {
		case body.n == 0 && errors.Is(err, io.EOF):
			// An empty body (godingtalk sends one): a form without parts.
			form = &multipart.Form{}
		case errors.As(err, &tooBig), errors.Is(err, multipart.ErrMessageTooLarge):
			return nil, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "the body exceeds %d bytes", maxUploadBody)
		case errors.As(err, &pathErr): // spooling to a temp file failed
			return nil, ding.Wrap(ding.Internal, err, "spool upload")
		default:
			return nil, notMultipart
		}
	}
	defer form.RemoveAll()

	typ, err := p.String("type")
	if err != nil {
		return nil, err
	}
	if vs := form.Value["type"]; len(vs) > 0 && vs[0] != "" {
		typ = vs[0]
	}
	in := service.UploadInput{Type: typ, Size: -1}
	if fhs := form.File["media"]; len(fhs) > 0 {
		f, err := fhs[0].Open()
		if err != nil {
			return nil, ding.Wrap(ding.Internal, err, "open spooled upload")
		}
		defer f.Close()
		in.FileName, in.Size, in.Body = fhs[0].Filename, fhs[0].Size, f
	} else if vs := form.Value["media"]; len(vs) > 0 {
		// A media part without a file name: its content is there, but
		// nothing says what format it is.
		in.Size, in.Body = int64(len(vs[0])), strings.NewReader(vs[0])
	}
	m, err := a.svc.UploadMedia(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return uploadResponse{ok: okBody, Type: m.Type, MediaID: m.ID, CreatedAt: m.CreatedAt}, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// mediaGet is media/get: the file itself, or a JSON error.
func (a *API) mediaGet(r *http.Request, p *httpx.Params, c *service.Caller) (*ding.Media, io.ReadSeekCloser, error) {
	id, err := p.String("media_id")
	if err != nil {
		return nil, nil, err
	}
	return a.svc.OpenMedia(r.Context(), c, id)
}

// fileHandler answers a call with a file.
type fileHandler func(r *http.Request, p *httpx.Params, c *service.Caller) (*ding.Media, io.ReadSeekCloser, error)

// download adapts a fileHandler to serve: serve reads the parameters and
// the token and answers errors as on every legacy route; a found file is
// written as it is, and serve's JSON answer after it is dropped.
func (a *API) download(rt route, h fileHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := &fileWriter{ResponseWriter: w}
		a.serve(rt, func(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
			m, body, err := h(r, p, c)
			if err != nil {
				return nil, err
			}
			defer body.Close()
			writeFile(w, r, m, body)
			fw.sent = true
			return nil, nil
		}).ServeHTTP(fw, r)
		if fw.sent {
			httpx.Succeeded(r, "") // a file carries no errcode
		}
	})
}

// fileWriter passes writes through until the file has been sent.
type fileWriter struct {
	http.ResponseWriter
	sent bool
}

func (f *fileWriter) Header() http.Header {
	if f.sent {
		return http.Header{}
	}
	return f.ResponseWriter.Header()
}

func (f *fileWriter) WriteHeader(code int) {
	if !f.sent {
		f.ResponseWriter.WriteHeader(code)
	}
}

func (f *fileWriter) Write(b []byte) (int, error) {
	if f.sent {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// writeFile sends a media file with its type and name; ranges and
// conditional requests are answered by http.ServeContent.
func writeFile(w http.ResponseWriter, r *http.Request, m *ding.Media, body io.ReadSeeker) {
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-Disposition", contentDisposition(m.FileName))
	h.Set("ETag", `"`+m.Digest+`"`)
	// a file is data, never a page of this origin, even if a browser is shown it
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Server", "DingTalk/1.0.0")
	http.ServeContent(w, r, "", time.UnixMilli(m.CreatedAt), body)
}

// contentDisposition names an attachment: a quoted ASCII filename every
// client reads, plus RFC 5987's filename* with the UTF-8 name when it is
// not plain ASCII.
func contentDisposition(name string) string {
	var ascii strings.Builder
	plain := true
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r == 0x7f:
			ascii.WriteByte('_')
			plain = false
		case r > 0x7e:
			ascii.WriteByte('_')
			plain = false
		default:
			ascii.WriteRune(r)
		}
	}
	v := `attachment; filename="` + ascii.String() + `"`
	if !plain {
		v += "; filename*=UTF-8''" + rfc5987(name)
	}
	return v
}

// rfc5987 percent-encodes s as an RFC 5987 ext-value: attr-chars stay,
// every other byte of the UTF-8 becomes %XX.
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
