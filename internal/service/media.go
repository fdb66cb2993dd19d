package service

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
)

// megabyte is a megabyte as DingTalk counts upload limits.
const megabyte = 1 << 20

// MaxMediaSize is the largest file any media type accepts; surfaces bound
// upload bodies a little above it.
const MaxMediaSize = 20 * megabyte

// mediaRule is what media/upload accepts for one type (the current
// limits of DingTalk's upload page; the 2016 ones were smaller).
type mediaRule struct {
	limit int64
	exts  map[string]string // extension → the Content-Type files are served with
}

var mediaRules = map[string]mediaRule{
	ding.MediaImage: {20 * megabyte, map[string]string{
		"jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "png": "image/png", "bmp": "image/bmp",
	}},
	ding.MediaVoice: {2 * megabyte, map[string]string{
		"amr": "audio/amr", "mp3": "audio/mpeg", "wav": "audio/wav",
	}},
	ding.MediaVideo: {20 * megabyte, map[string]string{
		"mp4": "video/mp4",
	}},
	ding.MediaFile: {20 * megabyte, map[string]string{
		"doc":  "application/msword",
		"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"xls":  "application/vnd.ms-excel",
		"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"ppt":  "application/vnd.ms-powerpoint",
		"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"zip":  "application/zip",
		"pdf":  "application/pdf",
		"rar":  "application/vnd.rar",
	}},
}

// UploadInput is one media/upload call.
type UploadInput struct {
	Type     string    // image, voice, video or file
	FileName string    // as the client named the file; its extension decides the format
	Size     int64     // the file's length when known before reading it, else -1
	Body     io.Reader // the file; nil when the request carried none
}

// baseName drops the directories some clients leave in a file name, with
// Windows or Unix separators, and bytes that are not UTF-8.
func baseName(name string) string {
	if name == "" {
		return ""
	}
	return path.Base(strings.ReplaceAll(strings.ToValidUTF8(name, "_"), `\`, "/"))
}

// active reports content that browsers render as a document with scripts
// (HTML, XML such as SVG), which no accepted type may be. Dummy bytes, as
// test suites upload, pass: only what contradicts the declared type fails.
func active(head []byte) bool {
	ct := http.DetectContentType(head)
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "text/xml")
}

// fileExt is the lower-cased extension of a file name.
func fileExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}

// UploadMedia stores a file for the caller's corp under a new media id.
// Every rule is checked before anything is stored, so a refused upload
// leaves nothing behind.
func (s *Service) UploadMedia(ctx context.Context, c *Caller, in UploadInput) (*ding.Media, error) {
	if s.blobs == nil {
		return nil, ding.Errorf(ding.Unavailable, ding.ReasonNone, "no blob store configured")
	}
	rule, ok := mediaRules[in.Type]
	if !ok {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaType, "type must be image, voice, video or file, got %q", in.Type)
	}
	if in.Body == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaMissing, "no media file in the request")
	}
	name := baseName(in.FileName)
	ext := fileExt(name)
	contentType, ok := rule.exts[ext]
	if !ok {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonFileType, "a %s may not be a .%s file", in.Type, ext)
	}
	body := in.Body
	switch {
	case in.Size == 0:
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaEmpty, "the media file is empty")
	case in.Size > rule.limit:
		return nil, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "a %s may be at most %d bytes, got %d", in.Type, rule.limit, in.Size)
	}
	// look before storing: an empty file of unknown length, and content a
	// browser would run whatever type was declared
	br := bufio.NewReaderSize(body, 512)
	head, err := br.Peek(512)
	if len(head) == 0 && err == io.EOF {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaEmpty, "the media file is empty")
	}
	if active(head) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonFileType, "the content of this .%s file is a web page", ext)
	}
	body = br
	limit := rule.limit
	if s.mediaQuota > 0 {
		used, err := s.store.MediaBytes(ctx, c.CorpID())
		if err != nil {
			return nil, err
		}
		left := s.mediaQuota - used
		if left < 1 || (in.Size > 0 && in.Size > left) {
			return nil, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "the corp's media quota of %d bytes is used up (%d bytes)", s.mediaQuota, used)
		}
		limit = min(limit, left)
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return nil, ding.Errorf(ding.Unavailable, ding.ReasonNone, "every upload slot stayed busy: %v", ctx.Err())
	}
	digest, size, err := s.blobs.Put(ctx, body, limit)
	if err != nil {
		if ding.IsKind(err, ding.TooLarge) && limit < rule.limit {
			return nil, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "the corp's media quota of %d bytes would be exceeded", s.mediaQuota)
		}
		if ding.IsKind(err, ding.TooLarge) {
			return nil, ding.Errorf(ding.TooLarge, ding.ReasonFileSize, "a %s may be at most %d bytes", in.Type, rule.limit)
		}
		return nil, err
	}
	if size == 0 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMediaEmpty, "the media file is empty")
	}
	m := &ding.Media{
		ID:          s.ids.MediaID(),
		CorpID:      c.CorpID(),
		Type:        in.Type,
		Digest:      digest,
		Size:        size,
		FileName:    name,
		ContentType: contentType,
		CreatedAt:   s.nowMs(),
	}
	if err := s.store.CreateMedia(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// media returns the corp's media record; ReasonMediaID when it has none.
func (s *Service) media(ctx context.Context, c *Caller, mediaID string) (*ding.Media, error) {
	if mediaID == "" {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonMediaID, "missing media_id")
	}
	m, err := s.store.Media(ctx, c.CorpID(), mediaID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonMediaID, "unknown media_id %q", mediaID)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// OpenMedia returns one of the caller's corp's media and its content; the
// caller closes the content. ReasonMediaID when the corp has no such id.
func (s *Service) OpenMedia(ctx context.Context, c *Caller, mediaID string) (*ding.Media, io.ReadSeekCloser, error) {
	if s.blobs == nil {
		return nil, nil, ding.Errorf(ding.Unavailable, ding.ReasonNone, "no blob store configured")
	}
	m, err := s.media(ctx, c, mediaID)
	if err != nil {
		return nil, nil, err
	}
	body, err := s.blobs.Open(ctx, m.Digest)
	if ding.IsKind(err, ding.NotFound) {
		// The record outlived its file: the blob directory lost data.
		return nil, nil, ding.Wrap(ding.Internal, err, "media "+m.ID+" has no blob")
	}
	if err != nil {
		return nil, nil, err
	}
	return m, body, nil
}

// CheckMedia reports whether mediaID names media of the caller's corp of
// wantType ("" = any type); ReasonMediaID when it does not. Messages that
// carry a media id check it with this.
func (s *Service) CheckMedia(ctx context.Context, c *Caller, mediaID, wantType string) error {
	m, err := s.media(ctx, c, mediaID)
	if err != nil {
		return err
	}
	if wantType != "" && m.Type != wantType {
		return ding.Errorf(ding.Invalid, ding.ReasonMediaID, "media %s is a %s, not a %s", mediaID, m.Type, wantType)
	}
	return nil
}
