package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"github.com/dingchat/dingchat/internal/ding"
)

func secretEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// tokenKeyID names the secret a token derives from: a token minted under
// another secret is not handed out again once the secret changes.
func tokenKeyID(secret string) string {
	return ding.SecretHash("dingchat token key\x00" + secret)[:16]
}

// tokenDeriver lets an id generator choose how tokens derive from their
// salt (SequentialIDs keeps them predictable for golden files).
type tokenDeriver interface {
	DeriveToken(secret, subject, salt string) string
}

// tokenValue derives a token from its issuer's secret and a random salt, so
// the store keeps only the salt and the value's hash yet a renewal within
// the token's validity returns the same value, as DingTalk does. 32 hex
// characters, the shape of DingTalk's tokens.
func (s *Service) tokenValue(secret, subject, salt string) string {
	if d, ok := s.ids.(tokenDeriver); ok {
		return d.DeriveToken(secret, subject, salt)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(subject + "\x00" + salt))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// IssueToken exchanges an app key and secret for an access token. Within the
// token's validity the same token comes back with its lifetime renewed.
func (s *Service) IssueToken(ctx context.Context, appKey, appSecret string) (*ding.Token, error) {
	if appKey == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppKeyMissing, "missing appkey")
	}
	if appSecret == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAppSecretMissing, "missing appsecret")
	}
	if err := s.credentialsThrottled("app:" + appKey); err != nil {
		return nil, err
	}
	app, err := s.store.App(ctx, appKey)
	if ding.IsKind(err, ding.NotFound) || (err == nil && !secretEqual(app.Secret, appSecret)) {
		return nil, s.credentialsFailed("app:"+appKey, ding.Errorf(ding.Unauthenticated, ding.ReasonBadAppCredentials, "bad appkey or appsecret"))
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
	if err := s.credentialsThrottled("app:" + corpID); err != nil {
		return nil, err
	}
	bad := func() error {
		return s.credentialsFailed("app:"+corpID, ding.Errorf(ding.Unauthenticated, ding.ReasonBadCorpCredentials, "bad corpid or corpsecret"))
	}
	app, err := s.store.App(ctx, corpID)
	switch {
	case err == nil:
		if !secretEqual(app.Secret, corpSecret) {
			return nil, bad()
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
	return nil, bad()
}

func (s *Service) issue(ctx context.Context, app *ding.App) (*ding.Token, error) {
	return s.issueDerived(ctx, app.Key, app.CorpID, app.Secret)
}

// issueDerived renews the app's live token derived from secret, or stores a
// fresh one.
func (s *Service) issueDerived(ctx context.Context, appKey, corpID, secret string) (*ding.Token, error) {
	ding.NoteApp(ctx, appKey)
	now := s.nowMs()
	salt := s.ids.Token()
	value := s.tokenValue(secret, appKey, salt)
	fresh := ding.Token{Hash: ding.SecretHash(value), Salt: salt, KeyID: tokenKeyID(secret),
		AppKey: appKey, CorpID: corpID, CreatedAt: now, ExpiresAt: now + ding.TokenTTL*1000}
	t, err := s.store.IssueToken(ctx, fresh, now)
	if err != nil {
		return nil, err
	}
	t.Value = s.tokenValue(secret, appKey, t.Salt)
	s.cache.tokens.drop(t.Value) // its expiry moved
	if ding.SecretHash(t.Value) != t.Hash {
		return nil, ding.Errorf(ding.Internal, ding.ReasonNone, "the stored token of %s does not derive from its secret", appKey)
	}
	return t, nil
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
	own := *t // the cached one is shared
	own.Value = token
	t = &own
	ding.NoteApp(ctx, t.AppKey)
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
