package service

import (
	"context"
	"crypto/subtle"

	"github.com/dingchat/dingchat/internal/ding"
)

func secretEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// IssueToken exchanges an app key and secret for an access token. Within the
// token's validity the same token comes back with its lifetime renewed.
func (s *Service) IssueToken(ctx context.Context, appKey, appSecret string) (*ding.Token, error) {
	if appKey == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppKeyMissing, "missing appkey")
	}
	if appSecret == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppSecretMissing, "missing appsecret")
	}
	app, err := s.store.App(ctx, appKey)
	if ding.IsKind(err, ding.NotFound) || (err == nil && !secretEqual(app.Secret, appSecret)) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonBadAppCredentials, "bad appkey or appsecret")
	}
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, app)
}

// IssueTokenForCorp serves the pre-2018 corpid/corpsecret form. Clients send
// either an app key as corpid, or a corp id with one of its apps' secrets.
func (s *Service) IssueTokenForCorp(ctx context.Context, corpID, corpSecret string) (*ding.Token, error) {
	if corpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppKeyMissing, "missing corpid")
	}
	if corpSecret == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppSecretMissing, "missing corpsecret")
	}
	bad := ding.Errorf(ding.Unauthenticated, ding.ReasonBadCorpCredentials, "bad corpid or corpsecret")
	app, err := s.store.App(ctx, corpID)
	switch {
	case err == nil:
		if !secretEqual(app.Secret, corpSecret) {
			return nil, bad
		}
		return s.issue(ctx, app)
	case !ding.IsKind(err, ding.NotFound):
		return nil, err
	}
	apps, err := s.store.AppsByCorp(ctx, corpID)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		if secretEqual(apps[i].Secret, corpSecret) {
			return s.issue(ctx, &apps[i])
		}
	}
	return nil, bad
}

func (s *Service) issue(ctx context.Context, app *ding.App) (*ding.Token, error) {
	now := s.nowMs()
	fresh := ding.Token{Value: s.ids.Token(), AppKey: app.Key, CorpID: app.CorpID, CreatedAt: now, ExpiresAt: now + ding.TokenTTL*1000}
	t, err := s.store.IssueToken(ctx, fresh, now)
	if err == nil {
		s.cache.tokens.drop(t.Value) // its expiry moved
	}
	return t, err
}

// Authenticate resolves an access token to its app.
func (s *Service) Authenticate(ctx context.Context, token string) (*Caller, error) {
	if token == "" {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenMissing, "missing access_token")
	}
	t, err := s.cachedToken(ctx, token)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid access_token")
	}
	if err != nil {
		return nil, err
	}
	if t.ExpiresAt <= s.nowMs() {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenExpired, "access_token expired")
	}
	app, err := s.cachedApp(ctx, t.AppKey)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid access_token")
	}
	if err != nil {
		return nil, err
	}
	return &Caller{App: app, Token: t}, nil
}
