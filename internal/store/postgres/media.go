package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.MediaStore = (*Store)(nil)

// CreateMedia stores a media record.
func (s *Store) CreateMedia(ctx context.Context, m *ding.Media) error {
	return s.batch(ctx, "media", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO media (id, corp_id, type, digest, size, file_name, content_type, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			m.ID, m.CorpID, m.Type, m.Digest, m.Size, m.FileName, m.ContentType, m.CreatedAt)
	})
}

// Media returns NotFound when the corp has no media id.
func (s *Store) Media(ctx context.Context, corpID, id string) (*ding.Media, error) {
	var m ding.Media
	err := s.q().QueryRow(ctx, `SELECT id, corp_id, type, digest, size, file_name, content_type, created_at FROM media WHERE id = $1 AND corp_id = $2`, id, corpID).
		Scan(&m.ID, &m.CorpID, &m.Type, &m.Digest, &m.Size, &m.FileName, &m.ContentType, &m.CreatedAt)
	if err != nil {
		return nil, translate(err, "media")
	}
	return &m, nil
}

// MediaBytes is the total size of the corp's media.
func (s *Store) MediaBytes(ctx context.Context, corpID string) (int64, error) {
	var n int64
	err := s.q().QueryRow(ctx, `SELECT COALESCE(SUM(size), 0)::BIGINT FROM media WHERE corp_id = $1`, corpID).Scan(&n)
	return n, translate(err, "media")
}
