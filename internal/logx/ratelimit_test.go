package logx_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/logx"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A failing disk fails every request the same way: a burst is logged, the
// rest are counted and the count is logged when the window ends. Other
// errors and lower levels pass untouched.
func TestRateLimitCountsWhatItDrops(t *testing.T) {
	var buf syncBuf
	log := slog.New(logx.RateLimit(slog.NewTextHandler(&buf, nil), slog.LevelWarn, 5, 200*time.Millisecond))
	disk := errors.New("disk I/O error")
	for i := range 1000 {
		log.Error("request failed", "request_id", i, "err", disk)
	}
	log.Error("request failed", "err", errors.New("something else"))
	for range 10 {
		log.Info("request")
	}
	lines := func(sub string) int { return strings.Count(buf.String(), sub) }
	if n := lines("disk I/O error"); n != 5 {
		t.Fatalf("disk errors logged = %d, want the burst of 5:\n%s", n, buf.String())
	}
	if n := lines("something else"); n != 1 {
		t.Fatalf("a different error logged %d times, want 1", n)
	}
	if n := lines("msg=request\n"); n != 10 {
		t.Fatalf("info records = %d, want all 10", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "suppressed=995") {
		if time.Now().After(deadline) {
			t.Fatalf("no count of the 995 dropped records:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// a new window passes records again
	log.Error("request failed", "err", disk)
	if n := lines("disk I/O error"); n != 5+1+1 {
		t.Fatalf("disk errors logged after the window = %d, want 7 (burst, summary, new)", n)
	}
}
