package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/service"
)

// mediaEnv is a service with a blob directory over the two fixture corps
// (without their numbered users, which media never needs).
type mediaEnv struct {
	t     *testing.T
	svc   *service.Service
	blobs string
	clock *dingtest.Clock
}

func newMediaEnv(t *testing.T, opts ...service.Option) *mediaEnv {
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
	clock := dingtest.NewClock()
	return &mediaEnv{t: t, svc: service.New(st, clock, &service.SequentialIDs{}, append([]service.Option{service.WithBlobs(dir)}, opts...)...), blobs: root, clock: clock}
}

func (e *mediaEnv) signIn(key, secret string) *service.Caller {
	e.t.Helper()
	ctx := context.Background()
	tok, err := e.svc.IssueToken(ctx, key, secret)
	if err != nil {
		e.t.Fatalf("IssueToken(%s): %v", key, err)
	}
	c, err := e.svc.Authenticate(ctx, tok.Value)
	if err != nil {
		e.t.Fatalf("Authenticate(%s): %v", key, err)
	}
	return c
}

// storedBlobs counts the files under the blob directory's sha256/ tree and tmp/.
func (e *mediaEnv) storedBlobs() (blobs, temps int) {
	e.t.Helper()
	err := filepath.WalkDir(e.blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(e.blobs, p)
		if strings.HasPrefix(filepath.ToSlash(rel), "tmp/") {
			temps++
		} else {
			blobs++
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("walk blobs: %v", err)
	}
	return blobs, temps
}

func upload(typ, name string, data []byte) service.UploadInput {
	return service.UploadInput{Type: typ, FileName: name, Size: int64(len(data)), Body: bytes.NewReader(data)}
}

// unsized hides the length, as a chunked upload does.
func unsized(in service.UploadInput) service.UploadInput {
	in.Size = -1
	in.Body = io.MultiReader(in.Body)
	return in
}

func wantMediaErr(t *testing.T, err error, kind ding.Kind, reason ding.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v/%s", kind, reason)
	}
	if got := ding.ErrorKind(err); got != kind {
		t.Fatalf("kind = %v, want %v (err %v)", got, kind, err)
	}
	if got := ding.ErrorReason(err); got != reason {
		t.Fatalf("reason = %q, want %q (err %v)", got, reason, err)
	}
}

func TestUploadMediaAcceptsEachTypeAndFormat(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	for _, tc := range []struct{ typ, name, contentType string }{
		{"image", "a.jpg", "image/jpeg"},
		{"image", "a.JPEG", "image/jpeg"},
		{"image", "a.gif", "image/gif"},
		{"image", "a.Png", "image/png"},
		{"image", "a.bmp", "image/bmp"},
		{"voice", "a.amr", "audio/amr"},
		{"voice", "a.mp3", "audio/mpeg"},
		{"voice", "a.wav", "audio/wav"},
		{"video", "a.mp4", "video/mp4"},
		{"file", "a.doc", "application/msword"},
		{"file", "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"file", "a.xls", "application/vnd.ms-excel"},
		{"file", "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"file", "a.ppt", "application/vnd.ms-powerpoint"},
		{"file", "a.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"file", "a.zip", "application/zip"},
		{"file", "a.PDF", "application/pdf"},
		{"file", "a.rar", "application/vnd.rar"},
	} {
		data := []byte(tc.typ + "/" + tc.name)
		m, err := e.svc.UploadMedia(context.Background(), c, upload(tc.typ, tc.name, data))
		if err != nil {
			t.Errorf("%s %s: %v", tc.typ, tc.name, err)
			continue
		}
		if m.Type != tc.typ || m.FileName != tc.name || m.ContentType != tc.contentType || m.Size != int64(len(data)) || m.CorpID != dingtest.CorpID {
			t.Errorf("%s %s: media = %+v", tc.typ, tc.name, m)
		}
	}
}

func TestUploadMediaRecord(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	e.clock.Advance(1500 * time.Millisecond)
	m, err := e.svc.UploadMedia(context.Background(), c, upload("image", `C:\Users\张三\截图.png`, []byte("png bytes")))
	if err != nil {
		t.Fatalf("UploadMedia: %v", err)
	}
	want := ding.Media{
		ID:          "@MDAwMDAwMDAwMDAwMDAy", // the second sequential id: the token took the first
		CorpID:      dingtest.CorpID,
		Type:        "image",
		Digest:      fmt.Sprintf("%x", sha256.Sum256([]byte("png bytes"))),
		Size:        9,
		FileName:    "截图.png",
		ContentType: "image/png",
		CreatedAt:   1767225601500,
	}
	if *m != want {
		t.Fatalf("media = %+v\nwant    %+v", *m, want)
	}
	got, body, err := e.svc.OpenMedia(context.Background(), c, m.ID)
	if err != nil {
		t.Fatalf("OpenMedia: %v", err)
	}
	defer body.Close()
	b, _ := io.ReadAll(body)
	if string(b) != "png bytes" || *got != *m {
		t.Fatalf("OpenMedia = %+v %q, want %+v %q", *got, b, *m, "png bytes")
	}
}

func TestUploadMediaRefusals(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	big := func(n int) []byte { return bytes.Repeat([]byte{1}, n) }
	for _, tc := range []struct {
		name   string
		in     service.UploadInput
		kind   ding.Kind
		reason ding.Reason
	}{
		{"no type", upload("", "a.png", []byte("x")), ding.Invalid, ding.ReasonMediaType},
		{"unknown type", upload("thumb", "a.png", []byte("x")), ding.Invalid, ding.ReasonMediaType},
		{"type is case-sensitive", upload("IMAGE", "a.png", []byte("x")), ding.Invalid, ding.ReasonMediaType},
		{"no file", service.UploadInput{Type: "image", Size: -1}, ding.Invalid, ding.ReasonMediaMissing},
		{"bad type wins over no file", service.UploadInput{Type: "gif", Size: -1}, ding.Invalid, ding.ReasonMediaType},
		{"no extension", upload("file", "README", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"no file name", upload("file", "", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"extension of another type", upload("image", "a.mp3", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"jpeg is not a voice", upload("voice", "a.jpeg", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"exe file", upload("file", "setup.exe", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"extension in a directory only", upload("image", "pics.png/photo", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"trailing dot", upload("image", "a.png.", []byte("x")), ding.Invalid, ding.ReasonFileType},
		{"empty file", upload("image", "a.png", nil), ding.Invalid, ding.ReasonMediaEmpty},
		{"empty file of unknown size", unsized(upload("image", "a.png", nil)), ding.Invalid, ding.ReasonMediaEmpty},
		{"bad extension wins over empty", upload("image", "a.txt", nil), ding.Invalid, ding.ReasonFileType},
		{"a web page named .png", upload("image", "h.png", []byte("<!doctype html><script>alert(1)</script>")), ding.Invalid, ding.ReasonFileType},
		{"a web page of unknown size", unsized(upload("image", "h.png", []byte("<html><body>x</body></html>"))), ding.Invalid, ding.ReasonFileType},
		{"SVG named .pdf", upload("file", "x.pdf", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>`)), ding.Invalid, ding.ReasonFileType},
		{"voice over 2 MB", upload("voice", "a.amr", big(2<<20+1)), ding.TooLarge, ding.ReasonFileSize},
		{"voice over 2 MB of unknown size", unsized(upload("voice", "a.amr", big(2<<20+1))), ding.TooLarge, ding.ReasonFileSize},
		{"image over 20 MB", upload("image", "a.png", big(20<<20+1)), ding.TooLarge, ding.ReasonFileSize},
		{"file over 20 MB of unknown size", unsized(upload("file", "a.zip", big(20<<20+1))), ding.TooLarge, ding.ReasonFileSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.svc.UploadMedia(context.Background(), c, tc.in)
			if err == nil {
				t.Fatalf("UploadMedia = %+v, want an error", m)
			}
			wantMediaErr(t, err, tc.kind, tc.reason)
			if blobs, temps := e.storedBlobs(); blobs != 0 || temps != 0 {
				t.Fatalf("a refused upload left %d blobs and %d temp files", blobs, temps)
			}
		})
	}
}

func TestUploadMediaLimits(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	for _, tc := range []struct {
		typ, name string
		size      int
	}{
		{"voice", "a.mp3", 2 << 20},
		{"image", "a.jpg", 20 << 20},
		{"video", "a.mp4", 20 << 20},
		{"file", "a.pdf", 20 << 20},
	} {
		data := bytes.Repeat([]byte(tc.typ), tc.size/len(tc.typ)+1)[:tc.size]
		for _, in := range []service.UploadInput{upload(tc.typ, tc.name, data), unsized(upload(tc.typ, tc.name, data))} {
			m, err := e.svc.UploadMedia(context.Background(), c, in)
			if err != nil {
				t.Fatalf("%s of exactly %d bytes: %v", tc.typ, tc.size, err)
			}
			if m.Size != int64(tc.size) {
				t.Fatalf("%s size = %d, want %d", tc.typ, m.Size, tc.size)
			}
		}
	}
}

func TestUploadMediaSameFileTwice(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	other := e.signIn(dingtest.OtherAppKey, dingtest.OtherAppSecret)
	data := []byte("the same bytes")
	a, err := e.svc.UploadMedia(context.Background(), c, upload("file", "a.pdf", data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.UploadMedia(context.Background(), c, upload("image", "b.png", data))
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.UploadMedia(context.Background(), other, upload("file", "d.pdf", data))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.ID == d.ID || b.ID == d.ID {
		t.Fatalf("media ids repeat: %s %s %s", a.ID, b.ID, d.ID)
	}
	if a.Digest != b.Digest || a.Digest != d.Digest {
		t.Fatalf("digests differ: %s %s %s", a.Digest, b.Digest, d.Digest)
	}
	if blobs, temps := e.storedBlobs(); blobs != 1 || temps != 0 {
		t.Fatalf("stored %d blobs and %d temp files, want 1 and 0", blobs, temps)
	}
}

func TestOpenMediaBelongsToItsCorp(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	sibling := e.signIn(dingtest.ReadOnlyAppKey, dingtest.ReadOnlyAppSecret)
	other := e.signIn(dingtest.OtherAppKey, dingtest.OtherAppSecret)
	m, err := e.svc.UploadMedia(context.Background(), c, upload("voice", "a.amr", []byte("#!AMR\n")))
	if err != nil {
		t.Fatal(err)
	}
	// Any app of the corp reaches it.
	_, body, err := e.svc.OpenMedia(context.Background(), sibling, m.ID)
	if err != nil {
		t.Fatalf("OpenMedia by another app of the corp: %v", err)
	}
	body.Close()
	for _, id := range []string{m.ID, "", "@nope", m.ID + "x"} {
		_, _, err := e.svc.OpenMedia(context.Background(), other, id)
		wantMediaErr(t, err, ding.NotFound, ding.ReasonMediaID)
	}
	for _, id := range []string{"", "@nope"} {
		_, _, err := e.svc.OpenMedia(context.Background(), c, id)
		wantMediaErr(t, err, ding.NotFound, ding.ReasonMediaID)
	}
}

func TestCheckMedia(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	other := e.signIn(dingtest.OtherAppKey, dingtest.OtherAppSecret)
	img, err := e.svc.UploadMedia(context.Background(), c, upload("image", "a.gif", []byte("GIF89a")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"", "image"} {
		if err := e.svc.CheckMedia(context.Background(), c, img.ID, want); err != nil {
			t.Fatalf("CheckMedia(%q): %v", want, err)
		}
	}
	wantMediaErr(t, e.svc.CheckMedia(context.Background(), c, img.ID, "file"), ding.Invalid, ding.ReasonMediaID)
	wantMediaErr(t, e.svc.CheckMedia(context.Background(), c, "@unknown", ""), ding.NotFound, ding.ReasonMediaID)
	wantMediaErr(t, e.svc.CheckMedia(context.Background(), c, "", "image"), ding.NotFound, ding.ReasonMediaID)
	wantMediaErr(t, e.svc.CheckMedia(context.Background(), other, img.ID, "image"), ding.NotFound, ding.ReasonMediaID)
}

func TestMediaWithoutBlobStore(t *testing.T) {
	st := dingtest.OpenStore(t)
	org := dingtest.Org()
	org.Users, org.Externals = org.Users[:1], nil
	if err := st.ApplyOrg(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	svc := service.New(st, dingtest.NewClock(), &service.SequentialIDs{})
	tok, err := svc.IssueToken(context.Background(), dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Authenticate(context.Background(), tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.UploadMedia(context.Background(), c, upload("image", "a.png", []byte("x")))
	wantMediaErr(t, err, ding.Unavailable, ding.ReasonNone)
	_, _, err = svc.OpenMedia(context.Background(), c, "@x")
	wantMediaErr(t, err, ding.Unavailable, ding.ReasonNone)
}

// At most MaxConcurrentUploads uploads are spooled at once; another waits
// for a slot and gives up when its request ends.
func TestConcurrentUploadsBounded(t *testing.T) {
	e := newMediaEnv(t)
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	var writers []*io.PipeWriter
	done := make(chan error, service.MaxConcurrentUploads)
	for i := 0; i < service.MaxConcurrentUploads; i++ {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			_, err := e.svc.UploadMedia(context.Background(), c, service.UploadInput{Type: "file", FileName: "a.zip", Size: -1, Body: pr})
			done <- err
		}()
		// the upload has its slot once it reads past the first bytes
		if _, err := pw.Write(bytes.Repeat([]byte("x"), 600)); err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write([]byte("y")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := e.svc.UploadMedia(ctx, c, upload("file", "b.zip", []byte("zip bytes")))
	wantMediaErr(t, err, ding.Unavailable, ding.ReasonNone)
	for _, pw := range writers {
		pw.Close()
	}
	for range writers {
		if err := <-done; err != nil {
			t.Fatalf("a held upload failed: %v", err)
		}
	}
	if _, err := e.svc.UploadMedia(context.Background(), c, upload("file", "b.zip", []byte("zip bytes"))); err != nil {
		t.Fatalf("upload after the slots freed: %v", err)
	}
}

// Each corp keeps at most its media quota; an upload that would pass it is
// refused, whether its size is known first or not.
func TestMediaQuotaPerCorp(t *testing.T) {
	e := newMediaEnv(t, service.WithMediaQuota(20))
	c := e.signIn(dingtest.AppKey, dingtest.AppSecret)
	ctx := context.Background()
	if _, err := e.svc.UploadMedia(ctx, c, upload("file", "a.zip", bytes.Repeat([]byte("a"), 15))); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.UploadMedia(ctx, c, upload("file", "b.zip", bytes.Repeat([]byte("b"), 6)))
	wantMediaErr(t, err, ding.TooLarge, ding.ReasonFileSize)
	_, err = e.svc.UploadMedia(ctx, c, unsized(upload("file", "b.zip", bytes.Repeat([]byte("b"), 6))))
	wantMediaErr(t, err, ding.TooLarge, ding.ReasonFileSize)
	if _, err := e.svc.UploadMedia(ctx, c, upload("file", "c.zip", bytes.Repeat([]byte("c"), 5))); err != nil {
		t.Fatalf("the last 5 bytes of the quota: %v", err)
	}
	_, err = e.svc.UploadMedia(ctx, c, upload("file", "d.zip", []byte("d")))
	wantMediaErr(t, err, ding.TooLarge, ding.ReasonFileSize)
	other := e.signIn(dingtest.OtherAppKey, dingtest.OtherAppSecret)
	if _, err := e.svc.UploadMedia(ctx, other, upload("file", "a.zip", []byte("other corp"))); err != nil {
		t.Fatalf("another corp's quota is its own: %v", err)
	}
}
