package service

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// limiter counts calls in fixed windows. Counters live in this process: on
// several nodes each node counts its own calls (the emulation is for
// testing clients' backoff, not for metering).
type limiter struct {
	mu      sync.Mutex
	windows map[limitKey]*window
}

type limitKey struct {
	scope string // "qps", "qpm" or "month"
	who   string // app key or corp id
	api   string
}

type window struct {
	start int64 // window start, Unix ms (or month number)
	n     int
}

// take counts one call in the window starting at start; it refuses (and
// does not count) a call beyond max.
func (l *limiter) take(k limitKey, start int64, max int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[limitKey]*window{}
	}
	w := l.windows[k]
	if w == nil || w.start != start {
		if len(l.windows) > 100000 {
			// drop windows of this kind that have ended; live ones keep counting
			for ok, ow := range l.windows {
				if ok.scope == k.scope && ow.start < start {
					delete(l.windows, ok)
				}
			}
		}
		w = &window{start: start}
		l.windows[k] = w
	}
	if w.n >= max {
		return false
	}
	w.n++
	return true
}

// reset forgets every window.
func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = nil
}

// quotaFree are the calls DingTalk's monthly quota does not count: tokens,
// sign-in and contacts.
func quotaFree(api string) bool {
	return strings.HasPrefix(api, "gettoken") || strings.HasPrefix(api, "oauth2/") || strings.HasPrefix(api, "service/") ||
		strings.HasPrefix(api, "user/") || strings.HasPrefix(api, "topapi/v2/user/") || strings.HasPrefix(api, "topapi/user/")
}

// DingTalk's month is China's.
var chinaTime = time.FixedZone("CST", 8*3600)

// Admit applies the caller's emulated platform limits to one call of api
// from ip: the IP allow-list, calls per second and per minute per API, and
// the corp's monthly quota.
func (s *Service) Admit(ctx context.Context, c *Caller, api, ip string) error {
	l := c.App.Limits
	if len(l.IPAllowList) > 0 && !ipAllowed(l.IPAllowList, ip) {
		e := ding.Errorf(ding.Forbidden, ding.ReasonIPNotAllowed, "ip %s is not in the app's allow-list", ip)
		e.Detail = ip
		return e
	}
	now := s.clock.Now()
	ms := now.UnixMilli()
	if l.QPS > 0 && !s.limits.take(limitKey{"qps", c.App.Key, api}, ms/1000, l.QPS) {
		return ding.Errorf(ding.RateLimited, ding.ReasonQPSLimit, "more than %d calls per second to %s", l.QPS, api)
	}
	if l.PerMinute > 0 && !s.limits.take(limitKey{"qpm", c.App.Key, api}, ms/60000, l.PerMinute) {
		return ding.Errorf(ding.RateLimited, ding.ReasonQPMLimit, "more than %d calls per minute to %s", l.PerMinute, api)
	}
	if quotaFree(api) {
		return nil
	}
	corp, err := s.cachedCorp(ctx, c.CorpID())
	if err != nil {
		return err
	}
	if corp.MonthlyQuota > 0 {
		t := now.In(chinaTime)
		month := int64(t.Year()*12 + int(t.Month()))
		if !s.limits.take(limitKey{"month", corp.ID, ""}, month, corp.MonthlyQuota) {
			return ding.Errorf(ding.RateLimited, ding.ReasonMonthlyQuota, "the corp used its %d calls this month", corp.MonthlyQuota)
		}
	}
	return nil
}

func ipAllowed(list []string, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, e := range list {
		if p, err := netip.ParsePrefix(e); err == nil {
			if p.Contains(addr) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Unmap() == addr {
			return true
		}
	}
	return false
}

// SetAppLimits switches an app's emulated limits (admin side).
func (s *Service) SetAppLimits(ctx context.Context, appKey string, l ding.Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	err := s.store.SetAppLimits(ctx, appKey, l)
	s.cache.apps.drop(appKey)
	if ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonNone, "no app %s", appKey)
	}
	return err
}

// SetMonthlyQuota switches a corp's emulated monthly quota (admin side).
func (s *Service) SetMonthlyQuota(ctx context.Context, corpID string, quota int) error {
	if err := ding.ValidateQuota(quota); err != nil {
		return err
	}
	err := s.store.SetMonthlyQuota(ctx, corpID, quota)
	s.cache.corps.drop(corpID)
	if ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonNone, "no corp %s", corpID)
	}
	return err
}

// MaxCredentialFailures is how many failed secret checks one key (an app
// key, a suite key) may have in a minute; beyond it every check of that key
// is refused with the per-minute limit (90006) until the minute ends, so a
// secret is guessed at this pace at most. Counted in this process, like
// the emulated limits.
const MaxCredentialFailures = 30

func minuteOf(ms int64) int64 { return ms / 60000 }

// credentialsThrottled refuses a credential check of key while it is over
// MaxCredentialFailures this minute.
func (s *Service) credentialsThrottled(key string) error {
	k := limitKey{"cred", key, ""}
	if s.limits.count(k, minuteOf(s.nowMs())) >= MaxCredentialFailures {
		return ding.Errorf(ding.RateLimited, ding.ReasonQPMLimit, "more than %d failed credential checks for %s this minute", MaxCredentialFailures, key)
	}
	return nil
}

// credentialsFailed counts a failed check of key; it returns err.
func (s *Service) credentialsFailed(key string, err error) error {
	if ding.IsKind(err, ding.Unauthenticated) {
		s.limits.take(limitKey{"cred", key, ""}, minuteOf(s.nowMs()), MaxCredentialFailures)
	}
	return err
}

// count is how many calls the window starting at start holds.
func (l *limiter) count(k limitKey, start int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.windows[k]; w != nil && w.start == start {
		return w.n
	}
	return 0
}
