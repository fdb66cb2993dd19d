package postgres

import (
	"sync"

	"github.com/dingchat/dingchat/internal/ding"
)

// maxHeaders bounds the group headers a node keeps for its sends.
const maxHeaders = 1 << 14

// header is a group's row as this node last read it, with the row's version.
type header struct {
	g       *ding.Group
	version int64
}

// headers keeps the rows of the groups this node sends to. An entry is
// never trusted alone: a send judged against it is written only if the
// row's version is still the entry's (every change of the row draws a new
// version from one sequence), so a change made by any node is seen by the
// next send. Entries of groups that changed are dropped and read again.
type headers struct {
	mu sync.Mutex
	m  map[string]header
}

func (h *headers) get(chatID string) (header, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[chatID]
	return e, ok
}

func (h *headers) put(e header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[string]header)
	}
	if _, ok := h.m[e.g.ChatID]; !ok && len(h.m) >= maxHeaders {
		for k := range h.m { // any one: a dropped entry costs one read
			delete(h.m, k)
			break
		}
	}
	h.m[e.g.ChatID] = e
}

// drop forgets chatID's entry if it still has version.
func (h *headers) drop(chatID string, version int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.m[chatID]; ok && e.version == version {
		delete(h.m, chatID)
	}
}
