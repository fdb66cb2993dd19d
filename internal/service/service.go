// Package service holds every business rule of DingChat. Surfaces call it;
// it talks to storage only through ding's interfaces.
package service

import (
	"context"
	"github.com/dingchat/dingchat/internal/ding"
)

// Service is the use-case layer.
type Service struct {
	store ding.Store
	clock ding.Clock
	ids   ding.IDs
	blobs ding.Blobs

	pusher      ding.Pusher
	subsChanged func()

	limits limiter
	ctl    controls
	// uploads holds a slot per upload being spooled, bounding the temporary
	// space uploads take to MaxConcurrentUploads files
	uploads    chan struct{}
	mediaQuota int64
	cache      caches
	calls      ding.Calls
}

// WithMediaQuota sets how many bytes of media each corp may keep
// (default DefaultMediaQuota; 0 = no quota).
func WithMediaQuota(n int64) Option { return func(s *Service) { s.mediaQuota = n } }

// DefaultMediaQuota is each corp's media quota unless WithMediaQuota says
// otherwise. DingTalk's own quota is a paid plan's; this only keeps one corp
// from filling the disk.
const DefaultMediaQuota = 10 << 30

// MaxConcurrentUploads is how many media uploads are spooled at once; more
// wait for a slot as long as their request lasts.
const MaxConcurrentUploads = 8

// Option adjusts a Service at construction.
type Option func(*Service)

// WithBlobs gives the service where uploaded files live; without it
// uploads answer Unavailable.
func WithBlobs(b ding.Blobs) Option { return func(s *Service) { s.blobs = b } }

// New returns a Service; nil clock or ids mean the real ones.
func New(store ding.Store, clock ding.Clock, ids ding.IDs, opts ...Option) *Service {
	if clock == nil {
		clock = ding.SystemClock{}
	}
	if ids == nil {
		ids = RandomIDs{}
	}
	s := &Service{store: store, clock: clock, ids: ids, uploads: make(chan struct{}, MaxConcurrentUploads), mediaQuota: DefaultMediaQuota}
	s.ctl.faults = NewFaults()
	for _, o := range opts {
		o(s)
	}
	return s
}

// IDs exposes the id generator so surfaces mint request ids the same way.
func (s *Service) IDs() ding.IDs { return s.ids }

// Ping reports whether the store answers; the health check asks it.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) nowMs() int64 { return s.clock.Now().UnixMilli() }

// Caller is an authenticated app acting through one of its tokens.
type Caller struct {
	App   *ding.App
	Token *ding.Token
}

// CorpID is the corp whose data the caller may reach.
func (c *Caller) CorpID() string { return c.App.CorpID }

func (s *Service) require(c *Caller, scope string) error {
	if !c.App.HasScope(scope) {
		e := ding.Errorf(ding.Forbidden, ding.ReasonPermissionDenied, "app lacks scope %s", scope)
		e.RequiredScopes = []string{scope}
		return e
	}
	return nil
}
