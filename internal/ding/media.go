package ding

import (
	"context"
	"io"
)

// Media types of media/upload.
const (
	MediaImage = "image"
	MediaVoice = "voice"
	MediaVideo = "video"
	MediaFile  = "file"
)

// Media is an uploaded file, known to its corp by its media id.
type Media struct {
	ID          string // "@" + base64url
	CorpID      string
	Type        string
	Digest      string // sha256 hex of the content: the blob's key
	Size        int64
	FileName    string
	ContentType string
	CreatedAt   int64
}

// MediaStore keeps media records.
type MediaStore interface {
	// CreateMedia stores m. Conflict when the id is taken.
	CreateMedia(ctx context.Context, m *Media) error
	// Media returns NotFound when the corp has no media id.
	Media(ctx context.Context, corpID, id string) (*Media, error)
	// MediaBytes is the total size of the corp's media.
	MediaBytes(ctx context.Context, corpID string) (int64, error)
}

// Blobs keeps file contents by their sha256, so one file is stored once.
type Blobs interface {
	// Put stores r durably and returns its sha256 hex and size. It reads at
	// most limit bytes and returns TooLarge beyond that.
	Put(ctx context.Context, r io.Reader, limit int64) (digest string, size int64, err error)
	// Open returns NotFound when no blob has the digest.
	Open(ctx context.Context, digest string) (io.ReadSeekCloser, error)
}
