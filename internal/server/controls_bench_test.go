package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// BenchmarkReset measures one reset of a SQLite store holding the demo
// organisation plus 100 groups of 3 members (created between resets, not
// timed), back to the demo alone:
//
//	go test ./internal/server -run '^$' -bench BenchmarkReset -benchtime 30x
func BenchmarkReset(b *testing.B) {
	dir := b.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "dingchat.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	blobs, err := media.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	svc := service.New(st, ding.NewControlClock(nil), nil, service.WithBlobs(blobs), service.WithTestControls())
	svc.Declare(nil, true)
	if _, err := svc.ApplyDeclared(ctx); err != nil {
		b.Fatal(err)
	}
	fill := func() {
		sums, err := svc.Summarize(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		app := sums[0].Apps[0]
		tok, err := svc.IssueToken(ctx, app.Key, app.Secret)
		if err != nil {
			b.Fatal(err)
		}
		c, err := svc.Authenticate(ctx, tok.Value)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			if _, err := svc.CreateGroup(ctx, c, service.CreateGroupInput{Name: fmt.Sprintf("群%d", i), Owner: "manager4220",
				UserIDs: []string{"manager4220", "zhangsan", "lisi"}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fill()
		b.StartTimer()
		if _, err := svc.Reset(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestLog is the cost the request log adds to one call that
// never reaches the store (an unknown legacy path with a small JSON body),
// served in process: compare the on and off sub-benchmarks.
func BenchmarkRequestLog(b *testing.B) {
	st := servertest.OpenStore(b)
	svc := service.New(st, nil, nil)
	body := []byte(`{"chatid":"chat00000000000000000000000000000001","msg":{"msgtype":"text","text":{"content":"基准"}}}`)
	for _, c := range []struct {
		name string
		size int
	}{{"off", 0}, {"on", server.DefaultRequestLog}} {
		h := server.Handler(svc, slog.New(slog.DiscardHandler), server.WithRequestLog(c.size))
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/chat/nosuch?access_token=0123456789abcdef", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
