package sqlite

import (
	"context"
	"sync"

	"github.com/dingchat/dingchat/internal/ding"
)

// maxKeptVersions bounds the groups whose version is kept in memory; past
// it the map starts again empty and versions are read from the file.
const maxKeptVersions = 1 << 16

// versions keeps each group's chats.version in memory so GroupVersion, asked
// on every chat/get, costs no query. One process owns the file and every
// change of a version goes through its writer, which publishes the new value
// after the commit and before it answers. A version read from the file is
// kept only if no publish or clear came in between, so a slow read never
// hides a newer commit. Anything else writing the file is seen by the
// service's group cache within its CacheTTL, which re-reads the group itself.
type versions struct {
	mu  sync.RWMutex
	gen uint64 // counts clears: a read begun before one is not kept
	m   map[string]keptVersion
}

type keptVersion struct {
	corp    string
	version int64
}

// versionPub is a version change made by one write of a batch, published
// once the batch commits; clear drops every kept version.
type versionPub struct {
	chatID, corp string
	version      int64
	clear        bool
}

func (vs *versions) lookup(chatID string) (keptVersion, uint64, bool) {
	vs.mu.RLock()
	defer vs.mu.RUnlock()
	k, ok := vs.m[chatID]
	return k, vs.gen, ok
}

// keep stores a version read from the file unless something was published
// for the group, or everything cleared, since the read began.
func (vs *versions) keep(chatID string, k keptVersion, gen uint64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.gen != gen {
		return
	}
	if _, ok := vs.m[chatID]; ok {
		return
	}
	vs.put(chatID, k)
}

func (vs *versions) put(chatID string, k keptVersion) {
	if vs.m == nil || len(vs.m) >= maxKeptVersions {
		vs.m = make(map[string]keptVersion)
		vs.gen++
	}
	vs.m[chatID] = k
}

// publish applies a committed batch's changes, in commit order.
func (vs *versions) publish(pubs []versionPub) {
	if len(pubs) == 0 {
		return
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, p := range pubs {
		if p.clear {
			vs.m = nil
			vs.gen++
			continue
		}
		vs.put(p.chatID, keptVersion{corp: p.corp, version: p.version})
	}
}

func (vs *versions) clear() {
	vs.publish([]versionPub{{clear: true}})
}

// moved records, inside the writer, that this write changed the group's
// row and set its version: the version is published only if the write's
// savepoint is released and the batch commits; the writer's kept row is
// forgotten at once, so the batch's later writes read it again.
func (s *Store) moved(corpID, chatID string, version int64) {
	s.pending = append(s.pending, versionPub{chatID: chatID, corp: corpID, version: version})
	s.kept.forget(chatID)
}

// movedAll records, inside the writer, that this write removed groups.
func (s *Store) movedAll() {
	s.pending = append(s.pending, versionPub{clear: true})
	s.kept.clear()
	s.users.Forget()
	s.usersGone = true
}

// GroupVersion changes with every UpdateGroup and UpdateChatApps of the group.
func (s *Store) GroupVersion(ctx context.Context, corpID, chatID string) (int64, error) {
	k, gen, ok := s.versions.lookup(chatID)
	if ok {
		if k.corp != corpID {
			return 0, &ding.Error{Kind: ding.NotFound, Message: "group not found"}
		}
		return k.version, nil
	}
	var v int64
	var corp string
	if err := s.readRow(ctx, `SELECT version, corp_id FROM chats WHERE chat_id = ?`, chatID).Scan(&v, &corp); err != nil {
		return 0, translate(err, "group")
	}
	s.versions.keep(chatID, keptVersion{corp: corp, version: v}, gen)
	if corp != corpID {
		return 0, &ding.Error{Kind: ding.NotFound, Message: "group not found"}
	}
	return v, nil
}

// SoleWriter: one process owns the file (see versions), so live delivery
// hears of each commit from this process.
func (s *Store) SoleWriter() bool { return true }
