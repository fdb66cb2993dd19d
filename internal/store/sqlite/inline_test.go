package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// committedBy answers which goroutine ran a write: "writer" for the writer
// goroutine's loop, "caller" for the goroutine that asked.
func committedBy(t *testing.T, s *Store, write func(func(*sql.Tx) error) error) string {
	t.Helper()
	var stack string
	if err := write(func(*sql.Tx) error {
		buf := make([]byte, 16<<10)
		stack = string(buf[:runtime.Stack(buf, false)])
		return nil
	}); err != nil {
		t.Fatalf("write: %v", err)
	}
	switch {
	case strings.Contains(stack, ".(*Store).loop("):
		return "writer"
	case strings.Contains(stack, ".(*Store).queue("):
		return "caller"
	}
	t.Fatalf("write ran on neither goroutine:\n%s", stack)
	return ""
}

func openInline(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "dingchat.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitIdle waits until the writer goroutine waits for work.
func waitIdle(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !s.idle.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the writer never went idle")
		}
		time.Sleep(time.Millisecond)
	}
}

// A write that finds the writer idle and nothing queued commits on its
// caller's goroutine; one that finds the writer busy queues for it.
func TestIdleWriterCommitsOnCaller(t *testing.T) {
	ctx := context.Background()
	s := openInline(t)
	do := func(fn func(*sql.Tx) error) error { return s.do(ctx, fn) }
	waitIdle(t, s)
	if got := committedBy(t, s, do); got != "caller" {
		t.Errorf("a write to an idle writer ran on the %s goroutine, want the caller's", got)
	}

	release, blocked := s.holdWriter()
	got := make(chan string, 1)
	go func() { got <- committedBy(t, s, do) }()
	for len(s.reqs) < 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "writer" {
		t.Errorf("a write queued behind a busy writer ran on the %s goroutine, want the writer's", g)
	}
}

// Writes from many goroutines, some on their callers and some batched by
// the writer, each get their own answer and every one that succeeded is
// in the file; one that fails rolls back alone.
func TestInlineAndBatchedWritesMix(t *testing.T) {
	ctx := context.Background()
	s := openInline(t)
	if err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE mix (id INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := w*each + i
				err := s.do(ctx, func(tx *sql.Tx) error {
					if _, err := tx.Exec(`INSERT INTO mix (id) VALUES (?)`, id); err != nil {
						return err
					}
					if id%7 == 0 {
						return errors.New("refused")
					}
					return nil
				})
				if (err != nil) != (id%7 == 0) {
					errs <- fmt.Errorf("write %d: %v", id, err)
				}
				if i%10 == 0 {
					time.Sleep(time.Duration(id%3) * time.Millisecond) // lets the writer go idle now and then
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n, refused int
	if err := s.read.QueryRow(`SELECT count(*), count(CASE WHEN id % 7 = 0 THEN 1 END) FROM mix`).Scan(&n, &refused); err != nil {
		t.Fatal(err)
	}
	want := 0
	for id := range writers * each {
		if id%7 != 0 {
			want++
		}
	}
	if n != want || refused != 0 {
		t.Errorf("%d rows, %d of refused writes; want %d and 0", n, refused, want)
	}
}

// Close waits for a write committing on its caller's goroutine; a write
// after Close is refused and touches nothing.
func TestCloseWaitsForInlineCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dingchat.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE closing (id INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	inside, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.do(ctx, func(tx *sql.Tx) error {
			close(inside)
			<-finish
			_, err := tx.Exec(`INSERT INTO closing (id) VALUES (1)`)
			return err
		})
	}()
	<-inside
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned while a write was committing: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatalf("the write Close waited for: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.do(ctx, func(*sql.Tx) error { return nil }); !ding.IsKind(err, ding.Unavailable) {
		t.Errorf("a write after Close: %v, want Unavailable", err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n int
	if err := s2.read.QueryRow(`SELECT count(*) FROM closing`).Scan(&n); err != nil || n != 1 {
		t.Errorf("after reopening: %d rows, %v; want the write Close waited for", n, err)
	}
}
