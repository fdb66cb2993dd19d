package service

// WriteFailure is why the store cannot take writes right now, as far as it
// knows without trying (SQLite after a failed commit; PostgreSQL after a
// write that could not reach the database moments ago); nil otherwise or
// when the store cannot tell. Health checks ask it on every call.
func (s *Service) WriteFailure() error {
	if f, ok := s.store.(interface{ WriteFailure() error }); ok {
		return f.WriteFailure()
	}
	return nil
}
