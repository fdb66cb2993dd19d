// Package media keeps uploaded file contents in a local directory,
// addressed by their sha256 so one file is stored once.
//
// Layout under the root:
//
//	sha256/<first 2 hex>/<64 hex>   one file per distinct content
//	tmp/                            uploads in flight; never read
//
// A Put writes a temp file while hashing it, fsyncs it, renames it into
// place and fsyncs the directory, so an acknowledged blob survives a crash.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.Blobs = (*Dir)(nil)

// staleTemp is how old a leftover temp file must be before NewDir removes
// it: a crashed Put leaves one behind, a running one must not lose it.
const staleTemp = time.Hour

// Dir is ding.Blobs on a local directory.
type Dir struct {
	root string
}

// NewDir opens the blob directory at root, creating it when needed, and
// removes temp files a crash left behind.
func NewDir(root string) (*Dir, error) {
	d := &Dir{root: root}
	for _, p := range []string{d.objects(), d.tmp()} {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("blob directory: %w", err)
		}
	}
	if err := syncDir(root); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	entries, err := os.ReadDir(d.tmp())
	if err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(d.tmp(), e.Name()))
		}
	}
	return d, nil
}

// Root is the directory the blobs live under.
func (d *Dir) Root() string { return d.root }

func (d *Dir) objects() string { return filepath.Join(d.root, "sha256") }
func (d *Dir) tmp() string     { return filepath.Join(d.root, "tmp") }

func (d *Dir) path(digest string) string {
	return filepath.Join(d.objects(), digest[:2], digest)
}

// Put stores r's content and returns its sha256 hex and size. It reads at
// most limit bytes (no bound when limit < 0) and returns TooLarge with
// ReasonFileSize beyond that, leaving nothing behind.
func (d *Dir) Put(ctx context.Context, r io.Reader, limit int64) (digest string, size int64, err error) {
	f, err := os.CreateTemp(d.tmp(), "put-*")
	if err != nil {
		return "", 0, ding.Wrap(ding.Internal, err, "create temp blob")
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()

	in := &source{ctx: ctx, r: r}
	src := io.Reader(in)
	if limit >= 0 {
		src = io.LimitReader(src, limit+1)
	}
	h := sha256.New()
	size, err = io.Copy(f, io.TeeReader(src, h))
	if err != nil {
		if in.err == nil {
			return "", 0, ding.Wrap(ding.Internal, err, "write temp blob")
		}
		var de *ding.Error
		if errors.As(in.err, &de) {
			return "", 0, in.err
		}
		return "", 0, ding.Wrap(ding.Unavailable, in.err, "read upload")
	}
	if limit >= 0 && size > limit {
		return "", 0, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "blob exceeds %d bytes", limit)
	}
	if err = f.Sync(); err != nil {
		return "", 0, ding.Wrap(ding.Internal, err, "sync temp blob")
	}
	if err = f.Close(); err != nil {
		f = nil
		return "", 0, ding.Wrap(ding.Internal, err, "close temp blob")
	}
	f = nil

	digest = hex.EncodeToString(h.Sum(nil))
	final := d.path(digest)
	shard := filepath.Dir(final)
	if _, serr := os.Stat(shard); errors.Is(serr, fs.ErrNotExist) {
		if err = os.MkdirAll(shard, 0o750); err != nil {
			return "", 0, ding.Wrap(ding.Internal, err, "create blob shard")
		}
		if err = syncDir(d.objects()); err != nil {
			return "", 0, ding.Wrap(ding.Internal, err, "sync blob directory")
		}
	}
	if _, serr := os.Stat(final); serr == nil {
		// Same content already stored: keep the existing file. Its
		// directory entry may come from a Put that crashed before its
		// fsync, so make it durable before acknowledging this one.
		os.Remove(tmp)
	} else if err = os.Rename(tmp, final); err != nil {
		return "", 0, ding.Wrap(ding.Internal, err, "move blob into place")
	}
	if err = syncDir(shard); err != nil {
		return "", 0, ding.Wrap(ding.Internal, err, "sync blob shard")
	}
	return digest, size, nil
}

// Open returns the blob with the digest, NotFound when there is none or the
// digest is not 64 lowercase hex characters.
func (d *Dir) Open(ctx context.Context, digest string) (io.ReadSeekCloser, error) {
	if !validDigest(digest) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "no blob %q", digest)
	}
	f, err := os.Open(d.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "no blob %s", digest)
	}
	if err != nil {
		return nil, ding.Wrap(ding.Internal, err, "open blob")
	}
	return f, nil
}

func validDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// source reads the content being stored: it stops once ctx ends, so an
// abandoned upload stops writing to disk, and keeps its read error apart
// from the disk's.
type source struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// Clear removes every blob: the store's media records are gone after a
// reset, so nothing refers to them. The objects move aside in one rename,
// then are deleted, so a reader never sees half a tree.
func (d *Dir) Clear(ctx context.Context) error {
	old := filepath.Join(d.tmp(), fmt.Sprintf("cleared-%d", time.Now().UnixNano()))
	if err := os.Rename(d.objects(), old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear blobs: %w", err)
	}
	if err := os.MkdirAll(d.objects(), 0o750); err != nil {
		return fmt.Errorf("clear blobs: %w", err)
	}
	return os.RemoveAll(old)
}
