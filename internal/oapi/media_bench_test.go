package oapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
)

// BenchmarkMediaUpload1MB uploads a 1 MB image per operation through a real
// HTTP server (server.Handler over SQLite and a blob directory) with a
// keep-alive client. Each upload differs in its first bytes, so every one
// is hashed, fsynced, renamed into place and recorded.
func BenchmarkMediaUpload1MB(b *testing.B) {
	st := dingtest.OpenStore(b)
	org := dingtest.Org()
	org.Users, org.Externals = org.Users[:2], nil
	if err := st.ApplyOrg(context.Background(), org); err != nil {
		b.Fatal(err)
	}
	dir, err := media.NewDir(filepath.Join(b.TempDir(), "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	svc := service.New(st, nil, nil, service.WithBlobs(dir))
	tok, err := svc.IssueToken(context.Background(), dingtest.AppKey, dingtest.AppSecret)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(server.Handler(svc, slog.New(slog.DiscardHandler)))
	b.Cleanup(srv.Close)
	client := srv.Client()
	url := srv.URL + "/media/upload?type=image&access_token=" + tok.Value

	const size = 1 << 20
	data := mpFilled(size)
	body := mpBody(mpFile("media", "photo.jpg", data))
	at := bytes.Index(body, data) // where the file's bytes start in the body

	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint64(body[at:], uint64(i)+1<<40)
		resp, err := client.Post(url, mpContentType, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Errcode int    `json:"errcode"`
			MediaID string `json:"media_id"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(raw, &out); err != nil || out.Errcode != 0 || resp.StatusCode != http.StatusOK {
			b.Fatalf("upload %d: %d %s", i, resp.StatusCode, raw)
		}
	}
}
