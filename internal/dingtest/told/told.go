// Package told records what a store's event listeners are told (its
// OnEvents), for the notify tests of both stores. It imports no store, so
// a store's own in-package tests can use it.
package told

import (
	"strings"
	"sync"
)

// Recorder keeps one entry per commit: the corps it reported, joined by
// commas in the order given. Its Add is a listener.
type Recorder struct {
	mu   sync.Mutex
	seen []string
}

// Add records one commit's corps.
func (r *Recorder) Add(corps []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, strings.Join(corps, ","))
}

// Take returns what was recorded since the last Take, and forgets it.
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}
