package service

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// CacheTTL bounds how long a node serves an access token, member token, app
// or corp it read earlier: a change made through another node (or straight
// in the database) is seen here within CacheTTL. A change made through this
// node's service drops the entry at once. Groups are checked on every read
// (groupViews) and kept at most CacheTTL.
const CacheTTL = time.Second

// maxCacheEntries bounds each cache; past it the cache starts over.
const maxCacheEntries = 10000

// rowCache keeps rows that every call reads and few calls change. Only
// found rows are kept: an unknown token costs a store read every time, so
// a token issued on another node works here at once.
type rowCache[V any] struct {
	mu sync.RWMutex
	m  map[string]cached[V]
}

type cached[V any] struct {
	v  *V
	at time.Time // when read; monotonic
}

// get returns the row under key, read through load when missing or older
// than CacheTTL. The returned row is shared: callers must not change it.
func (c *rowCache[V]) get(ctx context.Context, key string, load func(context.Context, string) (*V, error)) (*V, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if ok && now.Sub(e.at) < CacheTTL {
		return e.v, nil
	}
	return c.reload(ctx, key, load)
}

// reload reads key through load whatever the cache holds.
func (c *rowCache[V]) reload(ctx context.Context, key string, load func(context.Context, string) (*V, error)) (*V, error) {
	now := time.Now()
	v, err := load(ctx, key)
	if err != nil {
		c.drop(key)
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCacheEntries {
		c.m = make(map[string]cached[V])
	}
	c.m[key] = cached[V]{v: v, at: now}
	c.mu.Unlock()
	return v, nil
}

func (c *rowCache[V]) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *rowCache[V]) dropAll() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// caches are the service's read-through caches, one per kind of row. They
// wrap the store's lookups and know nothing of how a row is stored.
type caches struct {
	tokens       rowCache[ding.Token]
	memberTokens rowCache[ding.MemberToken]
	apps         rowCache[ding.App]
	corps        rowCache[ding.Corp]
	groups       groupViews
}

// DropCaches forgets every cached token, app and corp, so the next call
// reads them from the store: for whoever changes the store behind the
// service's back (a reset, a restore).
func (s *Service) DropCaches() {
	s.cache.tokens.dropAll()
	s.cache.memberTokens.dropAll()
	s.cache.apps.dropAll()
	s.cache.corps.dropAll()
	s.cache.groups.dropAll()
}

// tokenByValue and memberTokenByValue are the store's lookups by a bearer
// value, whatever the store keys tokens by.
func (s *Service) tokenByValue(ctx context.Context, value string) (*ding.Token, error) {
	return s.store.Token(ctx, ding.SecretHash(value))
}

func (s *Service) memberTokenByValue(ctx context.Context, value string) (*ding.MemberToken, error) {
	return s.store.MemberToken(ctx, ding.SecretHash(value))
}

func (s *Service) cachedToken(ctx context.Context, value string) (*ding.Token, error) {
	t, err := s.cache.tokens.get(ctx, value, s.tokenByValue)
	if err == nil && t.ExpiresAt <= s.nowMs() {
		// another node may have renewed it since it was cached
		return s.cache.tokens.reload(ctx, value, s.tokenByValue)
	}
	return t, err
}

func (s *Service) cachedMemberToken(ctx context.Context, value string) (*ding.MemberToken, error) {
	return s.cache.memberTokens.get(ctx, value, s.memberTokenByValue)
}

func (s *Service) cachedApp(ctx context.Context, key string) (*ding.App, error) {
	return s.cache.apps.get(ctx, key, s.store.App)
}

func (s *Service) cachedCorp(ctx context.Context, id string) (*ding.Corp, error) {
	return s.cache.corps.get(ctx, id, s.store.Corp)
}

// groupViews keeps what chat/get shows of a group (its row, members and
// bound apps) with the group's version when it was read. Each read asks the
// store for the version, one indexed look-up, and reads the rest only when
// it moved, so a change through this node is seen at once and one through
// another node as soon as its store shows it (PostgreSQL answers versions
// from memory while it hears their notices: within 1 s). An entry also
// lives at most CacheTTL: a change that bypassed the version (an operator's
// SQL) is seen within that.
type groupViews struct {
	mu sync.RWMutex
	m  map[string]groupEntry
}

type groupEntry struct {
	v       *GroupView // never changed once kept
	version int64
	at      time.Time // when read; monotonic
}

func groupKey(corpID, chatID string) string { return corpID + "\x00" + chatID }

func (c *groupViews) get(key string, version int64) (*GroupView, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || e.version != version || time.Since(e.at) >= CacheTTL {
		return nil, false
	}
	return e.v, true
}

func (c *groupViews) put(key string, e groupEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok && old.version > e.version {
		return // a newer read landed first
	}
	if c.m == nil || len(c.m) >= maxCacheEntries {
		c.m = make(map[string]groupEntry)
	}
	c.m[key] = e
}

func (c *groupViews) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *groupViews) dropAll() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// cachedGroupView is the corp's group chatID as chat/get shows it. The
// version is read before the rest, so a view kept under a version is never
// older than it: a change racing with the read leaves a newer version in
// the store, and the next read reads again.
func (s *Service) cachedGroupView(ctx context.Context, corpID, chatID string) (*GroupView, error) {
	v, err := s.keptGroupView(ctx, corpID, chatID)
	if err != nil {
		return nil, err
	}
	return v.clone(), nil
}

// keptGroupView is cachedGroupView's view itself, shared: read it, never
// change it.
func (s *Service) keptGroupView(ctx context.Context, corpID, chatID string) (*GroupView, error) {
	key := groupKey(corpID, chatID)
	version, err := s.store.GroupVersion(ctx, corpID, chatID)
	if err != nil {
		s.cache.groups.drop(key)
		if ding.IsKind(err, ding.NotFound) {
			return nil, ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
		}
		return nil, err
	}
	if v, ok := s.cache.groups.get(key, version); ok {
		return v, nil
	}
	now := time.Now()
	g, err := s.resolve(ctx, &Caller{App: &ding.App{CorpID: corpID}}, GroupRef{ChatID: chatID})
	if err != nil {
		return nil, err
	}
	v, err := s.groupView(ctx, g)
	if err != nil {
		return nil, err
	}
	s.cache.groups.put(key, groupEntry{v: v, version: version, at: now})
	return v, nil
}

// clone is the caller's own copy: nothing it does reaches the kept view.
func (v *GroupView) clone() *GroupView {
	out := *v
	out.UserIDs, out.ExtIDs, out.Admins, out.AgentIDs = slices.Clone(v.UserIDs), slices.Clone(v.ExtIDs), slices.Clone(v.Admins), slices.Clone(v.AgentIDs)
	return &out
}
