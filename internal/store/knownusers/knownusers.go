// Package knownusers remembers which user ids a create's check found to be
// users of their corp, so that the next creates naming them can skip the
// check's read: with 40 members a create, that read was a tenth of the
// work of a create on either store.
//
// Users only ever arrive (an org file upserts them); they leave with their
// corp, a reset, or a write the node did not make (another process on the
// SQLite file, another node on PostgreSQL). What was remembered belongs to
// a generation, and is trusted only while the generation holds: each store
// moves it when users may have left, and drops a check's answer that was
// read in a generation that is gone by the time it is remembered.
package knownusers

import "sync"

// Max bounds the ids kept; past it the memory starts again.
const Max = 1 << 16

// Set is the memory of one store. Its zero value is empty, in generation 0.
type Set struct {
	mu  sync.RWMutex
	gen uint64
	n   int
	m   map[string]map[string]struct{} // corp → userid
}

// All reports whether every id is remembered as a user of corp, and the
// generation the answer belongs to.
func (k *Set) All(corp string, ids []string) (bool, uint64) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	users := k.m[corp]
	for _, id := range ids {
		if _, ok := users[id]; !ok {
			return false, k.gen
		}
	}
	return true, k.gen
}

// Add remembers ids, found in generation gen, unless the generation is no
// longer gen.
func (k *Set) Add(gen uint64, corp string, ids []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.m == nil || k.n+len(ids) > Max {
		k.m, k.n = make(map[string]map[string]struct{}), 0
	}
	users := k.m[corp]
	if users == nil {
		users = make(map[string]struct{}, len(ids))
		k.m[corp] = users
	}
	for _, id := range ids {
		if _, ok := users[id]; !ok {
			users[id] = struct{}{}
			k.n++
		}
	}
}

// Forget drops everything and moves the generation on by one.
func (k *Set) Forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.m, k.n = nil, 0
}

// Advance moves to generation gen when it is later than the current one,
// dropping everything; an earlier or equal gen changes nothing.
func (k *Set) Advance(gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen > k.gen {
		k.gen = gen
		k.m, k.n = nil, 0
	}
}

// Generation is the current generation.
func (k *Set) Generation() uint64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.gen
}
