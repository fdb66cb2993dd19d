package service

import (
	"context"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// CacheTTL bounds how long a node serves an access token, member token, app
// or corp it read earlier: a change made through another node (or straight
// in the database) is seen here within CacheTTL. A change made through this
// node's service drops the entry at once.
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
}

// DropCaches forgets every cached token, app and corp, so the next call
// reads them from the store: for whoever changes the store behind the
// service's back (a reset, a restore).
func (s *Service) DropCaches() {
	s.cache.tokens.dropAll()
	s.cache.memberTokens.dropAll()
	s.cache.apps.dropAll()
	s.cache.corps.dropAll()
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
