package oapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
)

// FuzzMediaUpload sends arbitrary bodies, content types and type values
// through the whole HTTP stack. Whatever arrives, the answer is HTTP 200
// with a legacy JSON body and one of media/upload's codes, and an accepted
// file comes back from media/get byte for byte.
func FuzzMediaUpload(f *testing.F) {
	s := newMediaSrv(f)
	png := []byte("\x89PNG\r\n\x1a\n")
	for _, seed := range []struct {
		contentType, typ string
		body             []byte
	}{
		{mpContentType, "", mpBody(mpField("type", "image"), mpFile("media", "a.png", png))},
		{mpContentType, "image", mpBody(mpFile("media", "a.png", png))},
		{mpContentType, "voice", mpBody(mpField("type", "file"), mpFile("media", "报告.PDF", []byte("%PDF")))},
		{mpContentType, "image", mpBody(mpFile("media", "a.png", nil))},
		{mpContentType, "thumb", mpBody(mpFile("media", "a.png", png))},
		{mpContentType, "file", mpBody(mpField("media", "no file name"))},
		{mpContentType, "image", []byte{}},
		{mpContentType, "image", []byte("--" + mpBoundary + "\r\n\r\n--" + mpBoundary + "--")},
		{"multipart/form-data; boundary=\"a b\"", "video", []byte("--a b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"x.mp4\"\r\n\r\nmp4\r\n--a b--\r\n")},
		{"multipart/form-data; boundary=x", "file", []byte("--x\r\nContent-Disposition: form-data; name=\"media\"; filename*=UTF-8''%E6%96%87.zip\r\n\r\nPK\r\n--x--\r\n")},
		{"multipart/form-data", "image", mpBody(mpFile("media", "a.png", png))},
		{"application/json", "image", []byte(`{"media":"x"}`)},
		{"", "", nil},
	} {
		f.Add(seed.contentType, seed.typ, seed.body)
	}
	allowed := map[string]bool{"0": true, "40004": true, "40005": true, "40006": true, "41005": true, "43008": true, "44001": true}

	f.Fuzz(func(t *testing.T, contentType, typ string, body []byte) {
		path := s.prefix
		if typ != "" {
			path += "&type=" + url.QueryEscape(typ)
		}
		rec := s.do(mediaReq{path: path, contentType: contentType, body: body})
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d; body %q", rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q", ct)
		}
		var out struct {
			Errcode *json.Number `json:"errcode"`
			Type    string       `json:"type"`
			MediaID string       `json:"media_id"`
		}
		d := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		d.UseNumber()
		if err := d.Decode(&out); err != nil || out.Errcode == nil {
			t.Fatalf("not a legacy JSON answer (%v): %q", err, rec.Body)
		}
		if !allowed[out.Errcode.String()] {
			t.Fatalf("errcode %s is not one of media/upload's: %s", out.Errcode, rec.Body)
		}
		if out.Errcode.String() != "0" {
			return
		}

		// Accepted: the media part, as any multipart reader sees it, must
		// come back from media/get.
		_, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("accepted a body whose content type does not parse: %v", err)
		}
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(64 << 20)
		if err != nil {
			t.Fatalf("accepted a body that does not parse: %v", err)
		}
		defer form.RemoveAll()
		fhs := form.File["media"]
		if len(fhs) == 0 {
			t.Fatalf("accepted a body without a media file")
		}
		mf, err := fhs[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(mf)
		mf.Close()
		wantType := typ
		if vs := form.Value["type"]; len(vs) > 0 && vs[0] != "" {
			wantType = vs[0]
		}
		if out.Type != wantType {
			t.Fatalf("type = %q, want %q", out.Type, wantType)
		}
		got := s.get(s.token, url.QueryEscape(out.MediaID))
		if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), want) {
			t.Fatalf("media/get %s = %d %q, want the %d bytes uploaded", out.MediaID, got.Code, got.Body, len(want))
		}
	})
}
