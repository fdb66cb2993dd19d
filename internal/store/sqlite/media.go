package sqlite

import (
	"context"
	"database/sql"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.MediaStore = (*Store)(nil)

// CreateMedia stores a media record.
func (s *Store) CreateMedia(ctx context.Context, m *ding.Media) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO media (id, corp_id, type, digest, size, file_name, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.CorpID, m.Type, m.Digest, m.Size, m.FileName, m.ContentType, m.CreatedAt)
		return translate(err, "media")
	})
}

// Media returns NotFound when the corp has no media id.
func (s *Store) Media(ctx context.Context, corpID, id string) (*ding.Media, error) {
	var m ding.Media
	err := s.readRow(ctx, `SELECT id, corp_id, type, digest, size, file_name, content_type, created_at FROM media WHERE id = ? AND corp_id = ?`, id, corpID).
		Scan(&m.ID, &m.CorpID, &m.Type, &m.Digest, &m.Size, &m.FileName, &m.ContentType, &m.CreatedAt)
	if err != nil {
		return nil, translate(err, "media")
	}
	return &m, nil
}

// MediaBytes is the total size of the corp's media.
func (s *Store) MediaBytes(ctx context.Context, corpID string) (int64, error) {
	var n int64
	err := s.readRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM media WHERE corp_id = ?`, corpID).Scan(&n)
	return n, translate(err, "media")
}
