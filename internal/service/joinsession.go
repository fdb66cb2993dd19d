package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// JoinSessionTTL is how long a sign-in on the join page lasts.
const JoinSessionTTL = 12 * time.Hour

// A join-page session is a signed cookie value naming the member token's
// hash and an expiry, never the token itself: a stolen cookie ends with the
// session, and revoking the token ends every session made from it.

func (s *Service) sessionKey(ctx context.Context) ([]byte, error) {
	k, err := s.store.Setting(ctx, "join_session_key", s.ids.Token()+s.ids.Token())
	if err != nil {
		return nil, err
	}
	return []byte(k), nil
}

func sessionMAC(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// NewJoinSession signs a member in on the join page: it checks token and
// returns the session cookie's value and when it expires.
func (s *Service) NewJoinSession(ctx context.Context, token string) (string, time.Time, *MemberCaller, error) {
	mc, err := s.AuthenticateMember(ctx, token)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	key, err := s.sessionKey(ctx)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	exp := s.clock.Now().Add(JoinSessionTTL)
	payload := ding.SecretHash(token) + "." + strconv.FormatInt(exp.UnixMilli(), 10)
	return payload + "." + sessionMAC(key, payload), exp, mc, nil
}

// JoinSession resolves a session cookie's value to its member; an expired,
// forged or revoked session is Unauthenticated.
func (s *Service) JoinSession(ctx context.Context, value string) (*MemberCaller, error) {
	bad := ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid session")
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return nil, bad
	}
	payload, mac := value[:i], value[i+1:]
	hash, expText, ok := strings.Cut(payload, ".")
	if !ok || len(hash) != 64 {
		return nil, bad
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return nil, bad
	}
	key, err := s.sessionKey(ctx)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(mac), []byte(sessionMAC(key, payload))) {
		return nil, bad
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || exp <= s.nowMs() {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenExpired, "session expired")
	}
	t, err := s.store.MemberToken(ctx, hash)
	if ding.IsKind(err, ding.NotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if t.ExpiresAt != 0 && t.ExpiresAt <= s.nowMs() {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenExpired, "member token expired")
	}
	return &MemberCaller{CorpID: t.CorpID, UserID: t.UserID}, nil
}
