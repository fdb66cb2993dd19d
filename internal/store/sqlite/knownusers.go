package sqlite

import (
	"sync"
	"sync/atomic"
)

// knownUsers remembers which user ids a create's check found in the file,
// so that the next creates naming them skip the check's read: with 40
// members a create, that read was a tenth of the process's CPU per create.
// Users only ever arrive (ApplyOrg upserts them); they leave with their
// corp or a reset, or through another process writing the file. Each of
// those forgets everything and moves the generation:
//   - DeleteCorp and Reset inside their transaction (movedAll) and again
//     once it committed, so that a check that read the file before the
//     commit cannot put back what was deleted;
//   - a batch that finds the file changed behind the writer (kept.check).
//
// A create that skipped the read checks again inside its own transaction
// when the generation moved after it looked: a removal that committed, or
// was found, before its write is always seen.
type knownUsers struct {
	mu  sync.RWMutex
	gen uint64
	n   int
	m   map[string]map[string]struct{} // corp → userid

	reads atomic.Int64 // checks that read the file (tests)
}

const maxKnownUsers = 1 << 16

// all reports whether every id is known as a user of corp, and the
// generation the answer belongs to.
func (k *knownUsers) all(corp string, ids []string) (bool, uint64) {
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

// add remembers ids, read from the file in generation gen, unless the
// generation moved since.
func (k *knownUsers) add(gen uint64, corp string, ids []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.m == nil || k.n+len(ids) > maxKnownUsers {
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

// forget drops everything and moves the generation.
func (k *knownUsers) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.m, k.n = nil, 0
}

func (k *knownUsers) generation() uint64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.gen
}
