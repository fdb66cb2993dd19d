package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/media"
)

var ctx = context.Background()

func newDir(t *testing.T) (*media.Dir, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := media.NewDir(root)
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d, root
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// files lists the regular files under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func readAll(t *testing.T, d *media.Dir, digest string) []byte {
	t.Helper()
	f, err := d.Open(ctx, digest)
	if err != nil {
		t.Fatalf("Open(%s): %v", digest, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", digest, err)
	}
	return b
}

func TestPutOpen(t *testing.T) {
	d, root := newDir(t)
	data := []byte("hello, blobs")
	digest, size, err := d.Put(ctx, bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, want := digest, sum(data); got != want {
		t.Fatalf("digest = %q, want %q", got, want)
	}
	if got, want := size, int64(len(data)); got != want {
		t.Fatalf("size = %d, want %d", got, want)
	}
	if got := readAll(t, d, digest); !bytes.Equal(got, data) {
		t.Fatalf("content = %q, want %q", got, data)
	}
	want := "sha256/" + digest[:2] + "/" + digest
	if got := files(t, root); len(got) != 1 || got[0] != want {
		t.Fatalf("files = %q, want [%q]", got, want)
	}
}

func TestPutSameContentStoredOnce(t *testing.T) {
	d, root := newDir(t)
	data := bytes.Repeat([]byte("x"), 4096)
	first, _, err := d.Put(ctx, bytes.NewReader(data), -1)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	second, _, err := d.Put(ctx, bytes.NewReader(data), -1)
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if first != second {
		t.Fatalf("digests differ: %s, %s", first, second)
	}
	if got := files(t, root); len(got) != 1 {
		t.Fatalf("files = %q, want one", got)
	}
}

func TestPutConcurrentSameContent(t *testing.T) {
	d, root := newDir(t)
	data := bytes.Repeat([]byte("concurrent"), 10000)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := d.Put(ctx, bytes.NewReader(data), -1); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Put: %v", err)
	}
	if got := files(t, root); len(got) != 1 {
		t.Fatalf("files = %q, want one", got)
	}
	if got := readAll(t, d, sum(data)); !bytes.Equal(got, data) {
		t.Fatalf("content differs after concurrent puts")
	}
}

func TestPutLimit(t *testing.T) {
	d, root := newDir(t)
	exact := bytes.Repeat([]byte{7}, 1000)
	if _, size, err := d.Put(ctx, bytes.NewReader(exact), 1000); err != nil || size != 1000 {
		t.Fatalf("Put at the limit = %d, %v; want 1000, nil", size, err)
	}
	over := bytes.Repeat([]byte{8}, 1001)
	_, _, err := d.Put(ctx, bytes.NewReader(over), 1000)
	if got, want := ding.ErrorKind(err), ding.TooLarge; got != want {
		t.Fatalf("kind = %v, want %v (err %v)", got, want, err)
	}
	if got, want := ding.ErrorReason(err), ding.ReasonFileSize; got != want {
		t.Fatalf("reason = %q, want %q", got, want)
	}
	if got := files(t, root); len(got) != 1 {
		t.Fatalf("files = %q, want only the first blob", got)
	}
}

func TestPutEmpty(t *testing.T) {
	d, _ := newDir(t)
	digest, size, err := d.Put(ctx, strings.NewReader(""), 0)
	if err != nil || size != 0 || digest != sum(nil) {
		t.Fatalf("Put(empty) = %s, %d, %v", digest, size, err)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestPutReadErrorLeavesNothing(t *testing.T) {
	d, root := newDir(t)
	_, _, err := d.Put(ctx, &failingReader{n: 100000}, -1)
	if err == nil {
		t.Fatal("Put succeeded over a failing reader")
	}
	if got := files(t, root); len(got) != 0 {
		t.Fatalf("files = %q, want none", got)
	}
}

func TestPutPassesDomainErrorsThrough(t *testing.T) {
	d, _ := newDir(t)
	want := ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "body too large")
	r := io.MultiReader(strings.NewReader("abc"), errReader{want})
	_, _, err := d.Put(ctx, r, -1)
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestPutCancelled(t *testing.T) {
	d, root := newDir(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := d.Put(c, strings.NewReader("data"), -1); err == nil {
		t.Fatal("Put succeeded with a cancelled context")
	}
	if got := files(t, root); len(got) != 0 {
		t.Fatalf("files = %q, want none", got)
	}
}

func TestOpenNotFound(t *testing.T) {
	d, _ := newDir(t)
	stored, _, err := d.Put(ctx, strings.NewReader("stored"), -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, digest := range []string{
		"",
		"abc",
		sum([]byte("never stored")),
		strings.ToUpper(stored),
		stored + "0",
		stored[:63],
		"../" + stored[3:],
		strings.Repeat("g", 64),
		"../../../../../../../../../../../../../../../../../../../../../../etc/passwd",
	} {
		f, err := d.Open(ctx, digest)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", digest)
			continue
		}
		if got, want := ding.ErrorKind(err), ding.NotFound; got != want {
			t.Errorf("Open(%q) kind = %v, want %v (err %v)", digest, got, want, err)
		}
	}
}

func TestNewDirRemovesStaleTemps(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	if _, err := media.NewDir(root); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(root, "tmp", "put-stale")
	fresh := filepath.Join(root, "tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := media.NewDir(root); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale temp survived: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh temp removed: %v", err)
	}
}

func TestNewDirKeepsBlobsAcrossReopen(t *testing.T) {
	d, root := newDir(t)
	digest, _, err := d.Put(ctx, strings.NewReader("durable"), -1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := media.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, again, digest); string(got) != "durable" {
		t.Fatalf("content = %q, want %q", got, "durable")
	}
}
