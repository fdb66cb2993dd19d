package oapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type uploadCase struct {
	name   string
	golden string // testdata/media_upload/<golden>.json; "" checks the errcode only
	req    func(s *mediaSrv) mediaReq
	code   string // the wanted errcode
	file   []byte // on success, what media/get must give back
}

// multipartReq posts parts to media/upload with query appended to the token.
func multipartReq(query string, parts ...mpart) func(s *mediaSrv) mediaReq {
	return func(s *mediaSrv) mediaReq {
		return mediaReq{path: s.prefix + query, contentType: mpContentType, body: mpBody(parts...)}
	}
}

func runUploadCases(t *testing.T, cases []uploadCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newMediaSrv(t)
			rec := s.do(c.req(s))
			if c.golden != "" {
				mediaGolden(t, "media_upload/"+c.golden, rec)
			}
			out := wantMediaCode(t, rec, c.code)
			if c.code != "0" {
				if n := s.storedFiles(); n != 0 {
					t.Fatalf("a refused upload left %d files in the blob directory", n)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q, want application/json", ct)
			}
			got := s.get(s.token, out.MediaID)
			if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), c.file) {
				t.Fatalf("media/get = %d, %d bytes; want 200 and the %d bytes uploaded", got.Code, got.Body.Len(), len(c.file))
			}
		})
	}
}

func TestMediaUploadGolden(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	runUploadCases(t, []uploadCase{
		{name: "type as a form field (Java and Python SDKs)", golden: "image_form_type", code: "0", file: png,
			req: multipartReq("", mpField("type", "image"), mpFile("media", "photo.png", png))},
		{name: "type on the query (godingtalk, old docs)", golden: "image_query_type", code: "0", file: png,
			req: multipartReq("&type=image", mpFile("media", "photo.png", png))},
		{name: "form field wins over the query", golden: "form_type_wins", code: "0", file: []byte("#!AMR\n"),
			req: multipartReq("&type=image", mpField("type", "voice"), mpFile("media", "hello.amr", []byte("#!AMR\n")))},
		{name: "an empty form field leaves the query's type", golden: "empty_form_type", code: "0", file: []byte("mp4"),
			req: multipartReq("&type=video", mpField("type", ""), mpFile("media", "clip.MP4", []byte("mp4")))},
		{name: "type after the file", golden: "type_after_file", code: "0", file: []byte("%PDF-1.7"),
			req: multipartReq("", mpFile("media", "报告.pdf", []byte("%PDF-1.7")), mpField("type", "file"))},
		{name: "part content type is ignored", golden: "part_content_type", code: "0", file: png,
			req: multipartReq("", mpField("type", "image"), mpart{name: "media", filename: "a.jpeg", contentType: "text/plain", data: png, file: true})},
		{name: "Windows path in the file name", golden: "windows_path", code: "0", file: png,
			req: multipartReq("&type=image", mpFile("media", `C:\Users\zhangsan\Desktop\a.bmp`, png))},
		{name: "chunked body", golden: "chunked", code: "0", file: png,
			req: func(s *mediaSrv) mediaReq {
				r := multipartReq("&type=image", mpFile("media", "a.gif", png))(s)
				r.chunked = true
				return r
			}},
		{name: "other fields are ignored", golden: "extra_fields", code: "0", file: png,
			req: multipartReq("", mpField("type", "image"), mpField("access_token", "ignored"), mpFile("other", "x.exe", []byte("MZ")), mpFile("media", "a.png", png))},

		{name: "JSON body", golden: "not_multipart_json", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix, contentType: "application/json", body: []byte(`{"type":"image","media":"abc"}`)}
			}},
		{name: "form-urlencoded body", golden: "not_multipart_form", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix, contentType: "application/x-www-form-urlencoded", body: []byte(`type=image&media=abc`)}
			}},
		{name: "no content type", golden: "not_multipart_none", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix + "&type=image", body: mpBody(mpFile("media", "a.png", png))}
			}},
		{name: "multipart without a boundary", golden: "no_boundary", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix + "&type=image", contentType: "multipart/form-data", body: mpBody(mpFile("media", "a.png", png))}
			}},
		{name: "multipart/mixed", golden: "multipart_mixed", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix + "&type=image", contentType: "multipart/mixed; boundary=" + mpBoundary, body: mpBody(mpFile("media", "a.png", png))}
			}},
		{name: "GET", golden: "get", code: "43008",
			req: func(s *mediaSrv) mediaReq { return mediaReq{method: http.MethodGet, path: s.prefix + "&type=image"} }},
		{name: "broken multipart", golden: "broken_multipart", code: "43008",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix + "&type=image", contentType: mpContentType, body: []byte("--" + mpBoundary + "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\n\r\nno closing boundary")}
			}},
		{name: "empty multipart body (godingtalk's upload)", golden: "empty_body", code: "41005",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: s.prefix + "&type=image", contentType: mpContentType}
			}},
		{name: "no media part", golden: "no_media", code: "41005",
			req: multipartReq("", mpField("type", "image"))},
		{name: "file under another name", golden: "wrong_part_name", code: "41005",
			req: multipartReq("", mpField("type", "image"), mpFile("file", "a.png", png))},
		{name: "no type", golden: "no_type", code: "40004",
			req: multipartReq("", mpFile("media", "a.png", png))},
		{name: "unknown type", golden: "unknown_type", code: "40004",
			req: multipartReq("", mpField("type", "thumb"), mpFile("media", "a.png", png))},
		{name: "extension of another type", golden: "wrong_extension", code: "40005",
			req: multipartReq("", mpField("type", "image"), mpFile("media", "a.mp3", png))},
		{name: "no extension", golden: "no_extension", code: "40005",
			req: multipartReq("", mpField("type", "file"), mpFile("media", "README", png))},
		{name: "media part without a file name", golden: "no_file_name", code: "40005",
			req: multipartReq("", mpField("type", "image"), mpField("media", string(png)))},
		{name: "empty file", golden: "empty_file", code: "44001",
			req: multipartReq("", mpField("type", "image"), mpFile("media", "a.png", nil))},
		{name: "voice over 2 MB", golden: "voice_too_large", code: "40006",
			req: multipartReq("", mpField("type", "voice"), mpFile("media", "a.mp3", mpFilled(2<<20+1)))},
		{name: "body over the upload bound", golden: "body_too_large", code: "40006",
			req: multipartReq("", mpField("type", "file"), mpFile("media", "a.zip", mpFilled(22<<20)))},
		{name: "missing token", golden: "missing_token", code: "41001",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: "/media/upload?type=image", contentType: mpContentType, body: mpBody(mpFile("media", "a.png", png))}
			}},
		{name: "bad token", golden: "bad_token", code: "40014",
			req: func(s *mediaSrv) mediaReq {
				return mediaReq{path: "/media/upload?access_token=nope&type=image", contentType: mpContentType, body: mpBody(mpFile("media", "a.png", png))}
			}},
	})
}

func TestMediaUploadLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads of 20 MB")
	}
	cases := []uploadCase{
		{name: "voice of exactly 2 MB", code: "0", req: multipartReq("", mpField("type", "voice"), mpFile("media", "a.wav", mpFilled(2<<20))), file: mpFilled(2 << 20)},
		{name: "voice of 2 MB + 1", code: "40006", req: multipartReq("", mpField("type", "voice"), mpFile("media", "a.wav", mpFilled(2<<20+1)))},
		{name: "image of exactly 20 MB", code: "0", req: multipartReq("", mpField("type", "image"), mpFile("media", "a.jpg", mpFilled(20<<20))), file: mpFilled(20 << 20)},
		{name: "image of 20 MB + 1", code: "40006", req: multipartReq("", mpField("type", "image"), mpFile("media", "a.jpg", mpFilled(20<<20+1)))},
		{name: "file of 20 MB + 1, chunked", code: "40006", req: func(s *mediaSrv) mediaReq {
			r := multipartReq("", mpField("type", "file"), mpFile("media", "a.zip", mpFilled(20<<20+1)))(s)
			r.chunked = true
			return r
		}},
	}
	runUploadCases(t, cases)
}

// The multipart spool lives in the system temp directory; nothing of an
// upload may stay there, accepted or refused.
func TestMediaUploadLeavesNoTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newMediaSrv(t)
	wantMediaCode(t, s.upload("", mpField("type", "file"), mpFile("media", "a.zip", mpFilled(3<<20))), "0")
	wantMediaCode(t, s.upload("", mpField("type", "voice"), mpFile("media", "a.amr", mpFilled(3<<20))), "40006")
	wantMediaCode(t, s.upload("", mpField("type", "nope"), mpFile("media", "a.amr", mpFilled(3<<20))), "40004")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the temp directory: %s", e.Name())
	}
}

func TestMediaUploadSameFileTwice(t *testing.T) {
	s := newMediaSrv(t)
	data := mpFilled(1000)
	a := wantMediaCode(t, s.upload("&type=file", mpFile("media", "a.pdf", data)), "0")
	b := wantMediaCode(t, s.upload("&type=image", mpFile("media", "b.png", data)), "0")
	if a.MediaID == b.MediaID {
		t.Fatalf("both uploads got media id %s", a.MediaID)
	}
	if n := s.storedFiles(); n != 1 {
		t.Fatalf("blob directory holds %d files, want 1", n)
	}
	for _, id := range []string{a.MediaID, b.MediaID} {
		if got := s.get(s.token, id); !bytes.Equal(got.Body.Bytes(), data) {
			t.Fatalf("media/get %s = %q", id, got.Body)
		}
	}
}

func TestMediaGetGolden(t *testing.T) {
	s := newMediaSrv(t)
	txt := wantMediaCode(t, s.upload("&type=file", mpFile("media", "notes.pdf", []byte("%PDF-1.4 hello"))), "0")
	cjk := wantMediaCode(t, s.upload("&type=image", mpFile("media", `季度"报告" 1.png`, []byte("png"))), "0")
	head := []string{"Content-Disposition", "Content-Length", "ETag", "Last-Modified", "Server"}

	mediaGolden(t, "media_get/ok", s.get(s.token, url.QueryEscape(txt.MediaID)), head...)
	mediaGolden(t, "media_get/non_ascii_name", s.get(s.token, url.QueryEscape(cjk.MediaID)), head...)
	mediaGolden(t, "media_get/unknown_id", s.get(s.token, "@nosuchmedia"))
	mediaGolden(t, "media_get/missing_id", s.do(mediaReq{method: http.MethodGet, path: "/media/get?access_token=" + s.token}))
	mediaGolden(t, "media_get/other_corp", s.get(s.other, url.QueryEscape(txt.MediaID)))
	mediaGolden(t, "media_get/bad_token", s.get("nope", url.QueryEscape(txt.MediaID)))
	mediaGolden(t, "media_get/missing_token", s.do(mediaReq{method: http.MethodGet, path: "/media/get?media_id=" + url.QueryEscape(txt.MediaID)}))
}

func TestMediaGetRange(t *testing.T) {
	s := newMediaSrv(t)
	up := wantMediaCode(t, s.upload("&type=file", mpFile("media", "a.zip", []byte("0123456789"))), "0")
	req, _ := http.NewRequest(http.MethodGet, "/media/get?access_token="+s.token+"&media_id="+url.QueryEscape(up.MediaID), nil)
	req.Header.Set("Range", "bytes=2-4")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "234" {
		t.Fatalf("range = %d %q, want 206 %q", rec.Code, rec.Body, "234")
	}
}

// A downloaded file is never a page of this origin: browsers neither sniff
// it nor run it.
func TestMediaGetIsInert(t *testing.T) {
	s := newMediaSrv(t)
	up := wantMediaCode(t, s.upload("&type=image", mpFile("media", "a.png", []byte("png"))), "0")
	req, _ := http.NewRequest(http.MethodGet, "/media/get?access_token="+s.token+"&media_id="+url.QueryEscape(up.MediaID), nil)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("media/get = %d", rec.Code)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(got, "sandbox") {
		t.Errorf("Content-Security-Policy = %q, want sandbox", got)
	}
}

func TestMediaIDsAreOpaqueToOtherCorps(t *testing.T) {
	s := newMediaSrv(t)
	up := wantMediaCode(t, s.upload("&type=image", mpFile("media", "a.png", []byte("png"))), "0")
	wantMediaCode(t, s.get(s.other, url.QueryEscape(up.MediaID)), "40007")
	// The other corp uploading the same bytes gets its own id.
	other := s.do(mediaReq{path: "/media/upload?type=image&access_token=" + s.other, contentType: mpContentType, body: mpBody(mpFile("media", "b.png", []byte("png")))})
	theirs := wantMediaCode(t, other, "0")
	if theirs.MediaID == up.MediaID {
		t.Fatalf("two corps share media id %s", up.MediaID)
	}
	wantMediaCode(t, s.get(s.token, url.QueryEscape(theirs.MediaID)), "40007")
	if !strings.HasPrefix(up.MediaID, "@") {
		t.Fatalf("media id %q does not start with @", up.MediaID)
	}
	if n := s.storedFiles(); n != 1 {
		t.Fatalf("blob directory holds %d files, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(s.blobs, "tmp")); err != nil {
		t.Fatal(err)
	}
}
