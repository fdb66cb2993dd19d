// Package logx holds slog plumbing: a handler that keeps a failing disk or
// database from writing one error line per request.
package logx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RateLimit passes records below min as they are. Records at min or above
// that repeat (same message and same "err" attribute) pass at most burst
// times per interval; the rest are dropped and counted, and the count is
// logged as "suppressed" once the interval ends (and on the next record of
// that kind that passes).
func RateLimit(h slog.Handler, min slog.Level, burst int, interval time.Duration) slog.Handler {
	return &limiter{h: h, st: &limitState{min: min, burst: burst, interval: interval, keys: map[string]*window{}}}
}

type limitState struct {
	min      slog.Level
	burst    int
	interval time.Duration
	mu       sync.Mutex
	keys     map[string]*window
}

type window struct {
	start      time.Time
	passed     int
	suppressed int
	timer      *time.Timer
	last       slog.Record // the last suppressed record, for the summary
	h          slog.Handler
}

type limiter struct {
	h  slog.Handler
	st *limitState
}

func (l *limiter) Enabled(ctx context.Context, lv slog.Level) bool { return l.h.Enabled(ctx, lv) }

func (l *limiter) WithAttrs(as []slog.Attr) slog.Handler {
	return &limiter{h: l.h.WithAttrs(as), st: l.st}
}

func (l *limiter) WithGroup(name string) slog.Handler {
	return &limiter{h: l.h.WithGroup(name), st: l.st}
}

// key is what makes two records "the same": the message and the error.
func key(r slog.Record) string {
	k := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			s := a.Value.String()
			if len(s) > 300 {
				s = s[:300]
			}
			k += "\x00" + s
			return false
		}
		return true
	})
	return k
}

func (l *limiter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < l.st.min {
		return l.h.Handle(ctx, r)
	}
	k := key(r)
	st := l.st
	st.mu.Lock()
	now := time.Now()
	w := st.keys[k]
	if w == nil || now.Sub(w.start) >= st.interval {
		var carried int
		if w != nil {
			carried = w.suppressed
			w.suppressed = 0 // reported here, not by the timer
			if w.timer != nil {
				w.timer.Stop()
			}
		}
		w = &window{start: now}
		st.keys[k] = w
		if carried > 0 {
			r = r.Clone()
			r.AddAttrs(slog.Int("suppressed", carried))
		}
		st.prune(now)
	}
	if w.passed < st.burst {
		w.passed++
		st.mu.Unlock()
		return l.h.Handle(ctx, r)
	}
	w.suppressed++
	w.last = r.Clone()
	w.h = l.h
	if w.timer == nil {
		w.timer = time.AfterFunc(st.interval-now.Sub(w.start), func() { st.summarize(k, w) })
	}
	st.mu.Unlock()
	return nil
}

// summarize logs how many records of a kind an ended window dropped.
func (st *limitState) summarize(k string, w *window) {
	st.mu.Lock()
	n, last, h := w.suppressed, w.last, w.h
	w.suppressed = 0
	if st.keys[k] == w {
		delete(st.keys, k)
	}
	st.mu.Unlock()
	if n == 0 || h == nil {
		return
	}
	r := slog.NewRecord(time.Now(), last.Level, last.Message, 0)
	last.Attrs(func(a slog.Attr) bool { r.AddAttrs(a); return true })
	r.AddAttrs(slog.Int("suppressed", n), slog.String("note", fmt.Sprintf("%d more like this in %v not logged", n, st.interval)))
	h.Handle(context.Background(), r)
}

// prune forgets windows that ended with nothing to report.
func (st *limitState) prune(now time.Time) {
	if len(st.keys) < 1024 {
		return
	}
	for k, w := range st.keys {
		if now.Sub(w.start) >= st.interval && w.suppressed == 0 {
			delete(st.keys, k)
		}
	}
}
