package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
)

// An ISV suite reaches a corp in three steps: its key, secret and current
// suite ticket buy a suite access token (get_suite_token); that token, or a
// signature over the ticket, buys a corp token for a corp that authorised
// the suite (get_corp_token); the corp token acts as the suite's app in that
// corp, and is the only kind of token chat/bind accepts.

// SuiteCredentials are what the suite-token calls and v1.0's corpAccessToken send.
type SuiteCredentials struct {
	Key    string
	Secret string
	Ticket string
}

func (s *Service) suite(ctx context.Context, key, secret string) (*ding.Suite, error) {
	if err := s.credentialsThrottled("suite:" + key); err != nil {
		return nil, err
	}
	st, err := s.store.Suite(ctx, key)
	if ding.IsKind(err, ding.NotFound) {
		return nil, s.credentialsFailed("suite:"+key, ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteKeyUnknown, "no suite %s", key))
	}
	if err != nil {
		return nil, err
	}
	if !secretEqual(st.Secret, secret) {
		return nil, s.credentialsFailed("suite:"+key, ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteSecretWrong, "bad suite secret"))
	}
	return st, nil
}

// checkTicket accepts the suite's current ticket, or any for a custom app.
func checkTicket(st *ding.Suite, ticket string) error {
	if st.Custom || (st.Ticket != "" && secretEqual(st.Ticket, ticket)) {
		return nil
	}
	return ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteTicketInvalid, "suiteTicket is not the suite's current ticket")
}

func (c SuiteCredentials) missing() error {
	switch {
	case c.Key == "":
		return ding.Errorf(ding.Invalid, ding.ReasonSuiteKeyMissing, "missing suite key")
	case c.Secret == "":
		return ding.Errorf(ding.Invalid, ding.ReasonSuiteSecretMissing, "missing suite secret")
	case c.Ticket == "":
		return ding.Errorf(ding.Invalid, ding.ReasonSuiteTicketMissing, "missing suite ticket")
	}
	return nil
}

// IssueSuiteToken exchanges a suite's key, secret and current ticket for a
// suite access token. Within its validity the same token comes back with
// its lifetime renewed, as for internal apps (unconfirmed for suites).
func (s *Service) IssueSuiteToken(ctx context.Context, in SuiteCredentials) (*ding.SuiteToken, error) {
	if err := in.missing(); err != nil {
		return nil, err
	}
	st, err := s.suite(ctx, in.Key, in.Secret)
	if err != nil {
		return nil, err
	}
	if err := checkTicket(st, in.Ticket); err != nil {
		return nil, err
	}
	now := s.nowMs()
	salt := s.ids.Token()
	fresh := ding.SuiteToken{Hash: ding.SecretHash(s.tokenValue(st.Secret, st.Key, salt)), Salt: salt, KeyID: tokenKeyID(st.Secret),
		SuiteKey: st.Key, CreatedAt: now, ExpiresAt: now + ding.TokenTTL*1000}
	t, err := s.store.IssueSuiteToken(ctx, fresh, now)
	if err != nil {
		return nil, err
	}
	t.Value = s.tokenValue(st.Secret, st.Key, t.Salt)
	if ding.SecretHash(t.Value) != t.Hash {
		return nil, ding.Errorf(ding.Internal, ding.ReasonNone, "the stored token of suite %s does not derive from its secret", st.Key)
	}
	return t, nil
}

// suiteAuth is corpID's authorisation of the suite.
func (s *Service) suiteAuth(ctx context.Context, suiteKey, corpID string) (*ding.SuiteAuth, error) {
	a, err := s.store.SuiteAuth(ctx, suiteKey, corpID)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonSuiteNotAuthorized, "corp %s has not authorised suite %s", corpID, suiteKey)
	}
	return a, err
}

// issueCorpToken mints a fresh token for the suite's app in the corp; the
// ones issued before stay valid until they expire.
func (s *Service) issueCorpToken(ctx context.Context, a *ding.SuiteAuth) (*ding.Token, error) {
	now := s.nowMs()
	v := s.ids.Token()
	t := ding.Token{Value: v, Hash: ding.SecretHash(v), AppKey: ding.SuiteAppKey(a.SuiteKey, a.CorpID), CorpID: a.CorpID,
		CreatedAt: now, ExpiresAt: now + ding.TokenTTL*1000}
	if err := s.store.AddToken(ctx, t, now); err != nil {
		return nil, err
	}
	return &t, nil
}

// IssueCorpTokenBySuiteToken is get_corp_token in its 2016 form: a suite
// access token, the authorising corp and its permanent code.
func (s *Service) IssueCorpTokenBySuiteToken(ctx context.Context, suiteToken, authCorpID, permanentCode string) (*ding.Token, error) {
	if suiteToken == "" {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteTokenMissing, "missing suite_access_token")
	}
	t, err := s.store.SuiteToken(ctx, ding.SecretHash(suiteToken))
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteTokenInvalid, "invalid suite_access_token")
	}
	if err != nil {
		return nil, err
	}
	if t.ExpiresAt <= s.nowMs() {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonSuiteTokenExpired, "suite_access_token expired")
	}
	if authCorpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAuthCorpMissing, "missing auth_corpid")
	}
	if permanentCode == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonPermanentCodeMissing, "missing permanent_code")
	}
	a, err := s.suiteAuth(ctx, t.SuiteKey, authCorpID)
	if err != nil {
		return nil, err
	}
	if !secretEqual(a.PermanentCode, permanentCode) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonPermanentCodeInvalid, "permanent_code does not match the authorisation")
	}
	return s.issueCorpToken(ctx, a)
}

// SignedQuery is the query of the signed get_corp_token.
type SignedQuery struct {
	AccessKey   string // the suite key (or a custom app's key)
	Timestamp   string // Unix ms, as signed
	SuiteTicket string
	Signature   string // Base64, already URL-decoded
}

// SuiteSignature signs a get_corp_token call:
// Base64(HmacSHA256(key=secret, msg=timestamp+"\n"+suiteTicket)). Callers
// URL-encode it on the query.
func SuiteSignature(secret, timestamp, suiteTicket string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + suiteTicket))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// IssueCorpTokenSigned is get_corp_token in its current form, checked in
// the order of its codes: timestamp format, timestamp within a minute of
// the clock, accessKey, signature; then the ticket, which must be the
// suite's current one unless the suite is a custom app.
func (s *Service) IssueCorpTokenSigned(ctx context.Context, q SignedQuery, authCorpID string) (*ding.Token, error) {
	ts, err := strconv.ParseInt(q.Timestamp, 10, 64)
	if err != nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonTimestampFormat, "timestamp %q is not Unix milliseconds", q.Timestamp)
	}
	if d := s.nowMs() - ts; d > ding.SignatureSkewMs || d < -ding.SignatureSkewMs {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonTimestampSkew, "timestamp is %d ms off", d)
	}
	st, err := s.store.Suite(ctx, q.AccessKey)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonAccessKeyInvalid, "no suite %s", q.AccessKey)
	}
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(SuiteSignature(st.Secret, q.Timestamp, q.SuiteTicket)), []byte(q.Signature)) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonSignatureInvalid, "signature does not match")
	}
	if err := checkTicket(st, q.SuiteTicket); err != nil {
		return nil, err
	}
	if authCorpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAuthCorpMissing, "missing auth_corpid")
	}
	a, err := s.suiteAuth(ctx, st.Key, authCorpID)
	if err != nil {
		return nil, err
	}
	return s.issueCorpToken(ctx, a)
}

// IssueCorpToken is v1.0's corpAccessToken: the suite's credentials and
// ticket, and the authorising corp.
func (s *Service) IssueCorpToken(ctx context.Context, in SuiteCredentials, authCorpID string) (*ding.Token, error) {
	// the body's order: suiteKey, suiteSecret, authCorpId, suiteTicket
	if in.Key != "" && in.Secret != "" && authCorpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonAuthCorpMissing, "missing authCorpId")
	}
	if err := in.missing(); err != nil {
		return nil, err
	}
	st, err := s.suite(ctx, in.Key, in.Secret)
	if err != nil {
		return nil, err
	}
	if err := checkTicket(st, in.Ticket); err != nil {
		return nil, err
	}
	a, err := s.suiteAuth(ctx, st.Key, authCorpID)
	if err != nil {
		return nil, err
	}
	return s.issueCorpToken(ctx, a)
}

// SuiteTicket is the suite's current ticket. DingTalk pushes tickets to the
// suite's callback; DingChat lets a tester read it instead, minting one the
// first time when the org file declared none.
func (s *Service) SuiteTicket(ctx context.Context, suiteKey string) (string, error) {
	if suiteKey == "" {
		return "", ding.Errorf(ding.Invalid, ding.ReasonSuiteKeyMissing, "missing suite key")
	}
	st, err := s.store.Suite(ctx, suiteKey)
	ticket := ""
	if err == nil {
		ticket = st.Ticket
		if ticket == "" { // mint only when needed: ids stay predictable in tests
			ticket, err = s.store.EnsureSuiteTicket(ctx, suiteKey, s.ids.Token())
		}
	}
	if ding.IsKind(err, ding.NotFound) {
		return "", ding.Errorf(ding.NotFound, ding.ReasonSuiteKeyUnknown, "no suite %s", suiteKey)
	}
	return ticket, err
}

// chatAppCall checks what chat/bind and chat/unbind share: an ISV caller
// with the chat scope, a chatid, and the caller's own agentId.
func (s *Service) chatAppCall(c *Caller, chatID, agentID string) error {
	if c.App.SuiteKey == "" {
		return ding.Errorf(ding.Forbidden, ding.ReasonISVOnly, "only an ISV suite's app may bind micro-apps to groups")
	}
	if err := s.require(c, ding.ScopeChatManage); err != nil {
		return err
	}
	if chatID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	if agentID == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonAgentIDMissing, "missing agentid")
	}
	if n, err := strconv.ParseInt(agentID, 10, 64); err != nil || n != c.App.AgentID {
		return ding.Errorf(ding.Invalid, ding.ReasonAgentIDInvalid, "agentid %s is not the caller's micro-app", agentID)
	}
	return nil
}

func (s *Service) updateChatApps(ctx context.Context, corpID, chatID string, decide func(*ding.ChatAppState) (*ding.ChatAppChange, error)) error {
	err := s.store.UpdateChatApps(ctx, corpID, chatID, decide)
	if ding.IsKind(err, ding.NotFound) && ding.ErrorReason(err) == ding.ReasonNone {
		return ding.Errorf(ding.NotFound, ding.ReasonChatNotFound, "no group %s", chatID)
	}
	return err
}

func appEventData(b ding.ChatApp) map[string]any {
	return map[string]any{"agentId": b.AgentIDText(), "suiteKey": b.SuiteKey}
}

// BindApp binds the caller's micro-app to a group (chat/bind): at most
// ding.MaxChatApps apps per group, and one suite binds a group once.
func (s *Service) BindApp(ctx context.Context, c *Caller, chatID, agentID string) error {
	if err := s.chatAppCall(c, chatID, agentID); err != nil {
		return err
	}
	now := s.nowMs()
	return s.updateChatApps(ctx, c.CorpID(), chatID, func(st *ding.ChatAppState) (*ding.ChatAppChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		for _, b := range st.Apps {
			if b.SuiteKey == c.App.SuiteKey {
				return nil, ding.Errorf(ding.Conflict, ding.ReasonSuiteAlreadyBound, "suite %s already bound agent %d to the group", b.SuiteKey, b.AgentID)
			}
		}
		if len(st.Apps) >= ding.MaxChatApps {
			return nil, ding.Errorf(ding.Conflict, ding.ReasonChatAppLimit, "a group binds at most %d micro-apps", ding.MaxChatApps)
		}
		b := ding.ChatApp{ChatID: st.Group.ChatID, CorpID: st.Group.CorpID, AgentID: c.App.AgentID, SuiteKey: c.App.SuiteKey, BoundAt: now}
		return &ding.ChatAppChange{Bind: []ding.ChatApp{b},
			Events: []ding.Event{s.event(&st.Group, ding.EventChatBindMicroapp, now, appEventData(b))}}, nil
	})
}

// UnbindApp removes the caller's micro-app from a group (chat/unbind).
func (s *Service) UnbindApp(ctx context.Context, c *Caller, chatID, agentID string) error {
	if err := s.chatAppCall(c, chatID, agentID); err != nil {
		return err
	}
	now := s.nowMs()
	return s.updateChatApps(ctx, c.CorpID(), chatID, func(st *ding.ChatAppState) (*ding.ChatAppChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		for _, b := range st.Apps {
			if b.AgentID == c.App.AgentID && b.SuiteKey == c.App.SuiteKey {
				return &ding.ChatAppChange{Unbind: []ding.ChatApp{b},
					Events: []ding.Event{s.event(&st.Group, ding.EventChatUnbindMicroapp, now, appEventData(b))}}, nil
			}
		}
		return nil, ding.Errorf(ding.NotFound, ding.ReasonChatAppNotBound, "agent %d is not bound to the group", c.App.AgentID)
	})
}

// disbandAppEvents are the chat_disband_microapp events of a group being
// disbanded: one per bound app, carrying its agentId.
func (s *Service) disbandAppEvents(g *ding.Group, operator string, now int64, apps []ding.ChatApp) []ding.Event {
	out := make([]ding.Event, 0, len(apps))
	for _, b := range apps {
		out = append(out, s.eventBy(g, ding.EventChatDisbandMicroapp, operator, now, map[string]any{"agentId": b.AgentIDText(), "suiteKey": b.SuiteKey}))
	}
	return out
}
