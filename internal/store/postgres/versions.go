package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// versionTTL bounds how long a version read from the database is answered
// from memory: a change whose notice never arrived (a notification lost
// with the listening connection before the node noticed) is seen within it.
const versionTTL = time.Second

// versions answers GroupVersion from memory while this node is sure enough
// that the answer is current. Every change of a group's version, and its
// removal, sends a notification from the changing transaction's commit
// (migration 0009), which the node's listener hears and drops the entry
// for. An entry is answered only
//   - while the listening connection is up, and only if it was read after
//     that connection started listening (notices are lost while it is down);
//   - if no notice for its group arrived since its read began (a change
//     racing with the read);
//   - for at most ttl after its read began.
//
// So a change made on another node is seen here when its notice arrives
// (the next read after the commit, plus the notice's trip), and in any case
// within ttl; a change made through this node is seen by its next read
// (the store drops the entry once the change returns).
type versions struct {
	ttl time.Duration

	mu    sync.Mutex
	live  bool
	epoch uint64 // moves when the listener connects or drops
	gen   uint64 // moves with every drop
	floor uint64 // reads begun before it may not be kept
	m     map[string]versionEntry

	once  sync.Once
	stop  context.CancelFunc
	done  chan struct{}
	reads atomic.Int64 // versions read from the database, for tests
	pid   atomic.Uint32
}

type versionEntry struct {
	corp    string
	version int64
	at      time.Time
	ok      bool
	dropped uint64 // gen of the last drop of this group
}

// versionRead is what a read must remember to keep its answer.
type versionRead struct {
	epoch, gen uint64
	at         time.Time
}

func (v *versions) get(corpID, chatID string) (int64, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[chatID]
	if !v.live || !ok || !e.ok || e.corp != corpID || time.Since(e.at) >= v.ttl {
		return 0, false
	}
	return e.version, true
}

func (v *versions) begin() versionRead {
	v.mu.Lock()
	defer v.mu.Unlock()
	return versionRead{epoch: v.epoch, gen: v.gen, at: time.Now()}
}

func (v *versions) put(corpID, chatID string, version int64, r versionRead) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e := v.m[chatID]
	if !v.live || r.epoch != v.epoch || r.gen < v.floor || e.dropped > r.gen {
		return // the listener was down, or a change may have raced the read
	}
	if v.m == nil || len(v.m) >= maxHeaders {
		v.gen++ // the tombstones go too: reads begun before may not be kept
		v.m, v.floor, e = make(map[string]versionEntry), v.gen, versionEntry{}
	}
	v.m[chatID] = versionEntry{corp: corpID, version: version, at: r.at, ok: true, dropped: e.dropped}
}

// drop forgets chatID's version, and any read of it begun before now.
func (v *versions) drop(chatID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gen++
	if v.m == nil {
		v.m = make(map[string]versionEntry)
	}
	v.m[chatID] = versionEntry{dropped: v.gen}
}

// dropAll forgets every version and every read begun before now.
func (v *versions) dropAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gen++
	v.floor, v.m = v.gen, nil
}

func (v *versions) setLive(live bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.live, v.m = live, nil
	v.epoch++
	v.gen++
	v.floor = v.gen
}

// groupsChannel is the channel migration 0009's trigger notifies.
func groupsChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "dingchat_groups_" + hex.EncodeToString(sum[:12])
}

// listenVersions starts the listener on the first GroupVersion: a store
// that never answers one holds no connection for it.
func (s *Store) listenVersions() {
	s.versions.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.versions.stop, s.versions.done = cancel, make(chan struct{})
		go func() {
			defer close(s.versions.done)
			for wait := 10 * time.Millisecond; ctx.Err() == nil && !s.closed.Load(); {
				if s.listenVersionsOnce(ctx) {
					wait = 10 * time.Millisecond
				}
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
				wait = min(2*wait, time.Second)
			}
		}()
	})
}

// listenVersionsOnce listens until the connection fails; it reports
// whether it listened at all.
func (s *Store) listenVersionsOnce(ctx context.Context) bool {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{groupsChannel(schema)}.Sanitize()); err != nil {
		return false
	}
	s.versions.pid.Store(conn.PgConn().PID())
	s.versions.setLive(true)
	defer s.versions.setLive(false)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		if n.Payload == "*" {
			s.versions.dropAll()
		} else {
			s.versions.drop(n.Payload)
		}
	}
}

func (v *versions) close() {
	v.once.Do(func() {}) // no listener starts after this
	if v.stop != nil {
		v.stop()
		<-v.done
	}
}
