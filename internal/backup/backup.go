// Package backup copies a SQLite store and its media blobs into one archive
// while dingchat runs, and restores such an archive into an empty place.
//
// The archive is a gzip-compressed tar holding MANIFEST.json, dingchat.db (a
// consistent snapshot taken with VACUUM INTO, which reads inside one read
// transaction while writers go on) and blobs/sha256/<2 hex>/<64 hex>. The
// snapshot is taken before the blobs are copied: a blob is stored durably
// before the row naming it commits, so every blob the snapshot refers to is
// on disk by then (later uploads are copied too, and harmless).
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Manifest describes an archive.
type Manifest struct {
	Format    int    `json:"format"`
	CreatedAt string `json:"createdAt"`
	DBBytes   int64  `json:"dbBytes"`
	Blobs     int    `json:"blobs"`
	Messages  int64  `json:"messages"`
}

const (
	format       = 1
	manifestName = "MANIFEST.json"
	dbName       = "dingchat.db"
	blobPrefix   = "blobs/"
)

var blobName = regexp.MustCompile(`^blobs/sha256/[0-9a-f]{2}/[0-9a-f]{64}$`)

// Backup writes an archive of the database at dbPath and the blobs under
// blobRoot to the file to (written aside and renamed into place).
func Backup(ctx context.Context, dbPath, blobRoot, to string) (Manifest, error) {
	m := Manifest{Format: format, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	if _, err := os.Stat(dbPath); err != nil {
		return m, fmt.Errorf("database: %w", err)
	}
	work, err := os.MkdirTemp(filepath.Dir(to), ".dingchat-backup-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(work)
	snap := filepath.Join(work, dbName)
	if err := snapshot(ctx, dbPath, snap); err != nil {
		return m, err
	}
	if m.Messages, err = countMessages(ctx, snap); err != nil {
		return m, err
	}
	tmp := filepath.Join(work, "archive")
	f, err := os.Create(tmp)
	if err != nil {
		return m, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	st, err := os.Stat(snap)
	if err != nil {
		return m, err
	}
	m.DBBytes = st.Size()
	var blobs []string
	objects := filepath.Join(blobRoot, "sha256")
	err = filepath.WalkDir(objects, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == objects {
			return fs.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(blobRoot, p)
		if name := blobPrefix + filepath.ToSlash(rel); blobName.MatchString(name) {
			blobs = append(blobs, name)
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("blobs: %w", err)
	}
	m.Blobs = len(blobs)
	man, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes(tw, manifestName, man); err != nil {
		return m, err
	}
	if err := addFile(tw, dbName, snap); err != nil {
		return m, err
	}
	for _, name := range blobs {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		if err := addFile(tw, name, filepath.Join(blobRoot, filepath.FromSlash(strings.TrimPrefix(name, blobPrefix)))); err != nil {
			return m, err
		}
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	if err := zw.Close(); err != nil {
		return m, err
	}
	if err := f.Sync(); err != nil {
		return m, err
	}
	if err := f.Close(); err != nil {
		return m, err
	}
	if err := os.Rename(tmp, to); err != nil {
		return m, err
	}
	return m, syncDir(filepath.Dir(to))
}

// snapshot copies the live database at src into the new file dst.
func snapshot(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)&_pragma=query_only(0)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	return nil
}

func countMessages(ctx context.Context, dbPath string) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		return 0, fmt.Errorf("integrity check of %s: %q %v", dbPath, ok, err)
	}
	var n int64
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages`).Scan(&n)
	return n, err
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addFile(tw *tar.Writer, name, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// Restore unpacks the archive from into dbPath and blobRoot. It refuses to
// overwrite an existing database; blobs already present are kept (they are
// named by their content). Each blob's content is checked against its name
// and the database passes an integrity check before it is put in place.
func Restore(ctx context.Context, from, dbPath, blobRoot string) (Manifest, error) {
	var m Manifest
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return m, fmt.Errorf("%s exists: restore only into an empty place (move it away first)", p)
		}
	}
	f, err := os.Open(from)
	if err != nil {
		return m, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return m, fmt.Errorf("%s: not a dingchat backup: %w", from, err)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return m, err
	}
	tr := tar.NewReader(zr)
	tmpDB := dbPath + ".restoring"
	defer os.Remove(tmpDB)
	seenDB, blobs := false, 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Errorf("%s: %w", from, err)
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
		switch {
		case h.Name == manifestName:
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				return m, fmt.Errorf("manifest: %w", err)
			}
			if m.Format != format {
				return m, fmt.Errorf("backup format %d, this dingchat reads %d", m.Format, format)
			}
		case h.Name == dbName:
			if err := writeFile(tmpDB, tr, ""); err != nil {
				return m, err
			}
			seenDB = true
		case blobName.MatchString(h.Name):
			p := filepath.Join(blobRoot, filepath.FromSlash(strings.TrimPrefix(h.Name, blobPrefix)))
			if _, err := os.Stat(p); err == nil {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				return m, err
			}
			if err := writeFile(p, tr, path.Base(h.Name)); err != nil {
				return m, err
			}
			blobs++
		default:
			return m, fmt.Errorf("%s: unexpected entry %q", from, h.Name)
		}
	}
	if !seenDB || m.Format == 0 {
		return m, fmt.Errorf("%s: not a dingchat backup (no database or manifest)", from)
	}
	n, err := countMessages(ctx, tmpDB)
	if err != nil {
		return m, err
	}
	if n != m.Messages {
		return m, fmt.Errorf("restored database holds %d messages, the manifest says %d", n, m.Messages)
	}
	if err := os.Rename(tmpDB, dbPath); err != nil {
		return m, err
	}
	return m, syncDir(filepath.Dir(dbPath))
}

// writeFile writes r to p durably (aside, then renamed); with digest set the
// content's sha256 must equal it.
func writeFile(p string, r io.Reader, digest string) error {
	tmp := p + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		f.Close()
		return err
	}
	if digest != "" && hex.EncodeToString(h.Sum(nil)) != digest {
		f.Close()
		return fmt.Errorf("blob %s: content does not match its name", digest)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
