package postgres

import "context"

// ShowSetting reads a run-time setting on one of the pool's connections.
func ShowSetting(s *Store, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}
