package sqlite

import "slices"

// OnEvents has f told, after each commit, which corps' event logs the
// commit appended to (ding.EventNotifier). Every write goes through this
// process's writer, so the live hub and the event dispatcher follow the
// logs from these calls instead of reading every corp's head every few
// milliseconds. f runs on the goroutine that committed: it must not block.
func (s *Store) OnEvents(f func(corps []string)) { s.onEvents.Add(f) }

// tellEvents reports a committed batch's corps; batchMu is held.
func (s *Store) tellEvents() {
	if !s.onEvents.Any() || len(s.evCorps) == 0 {
		return
	}
	slices.Sort(s.evCorps)
	s.onEvents.Tell(slices.Compact(s.evCorps))
}
