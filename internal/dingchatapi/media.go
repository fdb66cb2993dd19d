package dingchatapi

import (
	"io"
	"net/http"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// sendMedia writes a stored file for the console: never run as a page
// whatever its type (sandboxed, not sniffed), images shown inline.
func sendMedia(w http.ResponseWriter, r *http.Request, m *ding.Media, body io.ReadSeekCloser) {
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=3600")
	if m.Type != "image" {
		h.Set("Content-Disposition", "attachment")
	}
	http.ServeContent(w, r, "", time.UnixMilli(m.CreatedAt), body)
}

// adminMedia is GET /_dingchat/admin/corps/{corpid}/media/{mediaid}.
func (a *API) adminMedia(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	if !a.adminOK(bearer(r)) {
		writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid admin token"))
		return
	}
	m, body, err := a.svc.OpenCorpMedia(r.Context(), r.PathValue("corpid"), r.PathValue("mediaid"))
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	sendMedia(w, r, m, body)
}

// memberMedia is GET /_dingchat/member/media/{mediaid}.
func (a *API) memberMedia(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, surface)
	mc, err := a.svc.AuthenticateMember(r.Context(), bearer(r))
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	m, body, err := a.svc.MemberOpenMedia(r.Context(), mc, r.PathValue("mediaid"))
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	sendMedia(w, r, m, body)
}

type uploadResponse struct {
	MediaID string `json:"mediaId"`
}

// memberUpload is POST /_dingchat/member/media: an image the member is
// about to send, as the part "media" of a multipart form.
func (a *API) memberUpload(r *http.Request, mc *service.MemberCaller) (any, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 21<<20)
	f, fh, err := r.FormFile("media")
	if err != nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaMissing, "send the image as the multipart part \"media\"")
	}
	defer f.Close()
	m, err := a.svc.MemberUploadImage(r.Context(), mc, service.UploadInput{FileName: fh.Filename, Size: fh.Size, Body: f})
	if err != nil {
		return nil, err
	}
	return uploadResponse{MediaID: m.ID}, nil
}
