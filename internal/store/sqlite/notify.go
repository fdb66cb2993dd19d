package sqlite

import "slices"

// OnEvents has f told, after each commit, which corps' event logs the
// commit appended to (ding.EventNotifier). Every write goes through this
// process's writer, so the live hub and the event dispatcher follow the
// logs from these calls instead of reading every corp's head every few
// milliseconds. f runs on the goroutine that committed: it must not block.
func (s *Store) OnEvents(f func(corps []string)) {
	for {
		old := s.onEvents.Load()
		var fs []func([]string)
		if old != nil {
			fs = slices.Clone(*old)
		}
		fs = append(fs, f)
		if s.onEvents.CompareAndSwap(old, &fs) {
			return
		}
	}
}

// tellEvents reports a committed batch's corps; batchMu is held.
func (s *Store) tellEvents() {
	fs := s.onEvents.Load()
	if fs == nil || len(s.evCorps) == 0 {
		return
	}
	slices.Sort(s.evCorps)
	corps := slices.Compact(s.evCorps)
	for _, f := range *fs {
		f(corps)
	}
}
