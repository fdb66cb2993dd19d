package ding

import (
	"context"
	"strconv"
)

// ISV suites (第三方企业应用) and what corps grant them.
const (
	// SignatureSkewMs is how far a signed get_corp_token timestamp may be
	// from the server's clock: "相差超过1分钟" fails.
	SignatureSkewMs = 60 * 1000
	// MaxChatApps is how many micro-apps one group may have bound.
	MaxChatApps = 5
)

// Suite is an ISV suite: it mints suite access tokens from its key, secret
// and current suite ticket, and corp tokens for the corps that authorised it.
type Suite struct {
	Key    string // SuiteKey / Client ID
	Secret string
	// Ticket is the current suite ticket. DingTalk pushes one every few
	// hours; DingChat takes it from the org file or mints it on request.
	// "" until then.
	Ticket string
	// Custom marks a custom (定制) app: the signed get_corp_token accepts
	// any suiteTicket for it.
	Custom    bool
	Name      string
	CreatedAt int64
}

// SuiteAuth is a corp's authorisation of a suite: the suite's micro-app
// installed in that corp, with its own agentId and scopes there.
type SuiteAuth struct {
	SuiteKey      string
	CorpID        string
	PermanentCode string
	AgentID       int64
	Scopes        []string
	CreatedAt     int64
}

// SuiteAppKey is the key of the App that acts for suiteKey in corpID. It is
// DingChat's own: DingTalk shows ISV apps no app key.
func SuiteAppKey(suiteKey, corpID string) string { return suiteKey + "@" + corpID }

// App is the corp's app for this authorisation: its tokens authenticate as
// an app of the corp that sees the whole corp and carries the suite's key.
func (a *SuiteAuth) App(suiteName string) App {
	scopes := a.Scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	return App{Key: SuiteAppKey(a.SuiteKey, a.CorpID), CorpID: a.CorpID, AgentID: a.AgentID, Name: suiteName,
		Scopes: scopes, VisibleAll: true, SuiteKey: a.SuiteKey, CreatedAt: a.CreatedAt}
}

// SuiteToken is a suite access token: it serves only get_corp_token.
type SuiteToken struct {
	Value     string // never stored; see Token
	Hash      string
	Salt      string
	KeyID     string
	SuiteKey  string
	CreatedAt int64 // Unix ms
	ExpiresAt int64 // Unix ms
}

// ChatApp is a micro-app bound to a group through chat/bind.
type ChatApp struct {
	ChatID   string
	CorpID   string
	AgentID  int64
	SuiteKey string
	BoundAt  int64
}

// AgentIDText is the agentId as chat/get and events spell it.
func (b ChatApp) AgentIDText() string { return strconv.FormatInt(b.AgentID, 10) }

// ChatAppState is what a binding change sees: the group and its bound apps
// in binding order.
type ChatAppState struct {
	Group Group
	Apps  []ChatApp
}

// ChatAppChange is what a binding change decides; the store applies it
// atomically together with its events.
type ChatAppChange struct {
	Bind   []ChatApp
	Unbind []ChatApp // ChatID and AgentID matter
	// Status, when not zero, is the group's new status, written with
	// UpdatedAt: disbanding a bound group records its apps' events in the
	// same transaction.
	Status    int
	UpdatedAt int64
	Events    []Event
}

// SuiteStore keeps suites, their authorisations and tokens, and the apps
// bound to groups.
type SuiteStore interface {
	// Suite returns NotFound when key is unknown.
	Suite(ctx context.Context, key string) (*Suite, error)
	// EnsureSuiteTicket returns the suite's ticket, storing fresh first when
	// it has none. NotFound when key is unknown.
	EnsureSuiteTicket(ctx context.Context, key, fresh string) (string, error)
	// SuiteAuth returns NotFound when corpID has not authorised the suite.
	SuiteAuth(ctx context.Context, suiteKey, corpID string) (*SuiteAuth, error)
	// IssueSuiteToken returns the suite's token with fresh.KeyID that is
	// still valid at now, with its expiry moved to fresh.ExpiresAt; when
	// none is valid it stores fresh and returns it. Value is empty.
	IssueSuiteToken(ctx context.Context, fresh SuiteToken, now int64) (*SuiteToken, error)
	// SuiteToken returns NotFound when no suite token has hash.
	SuiteToken(ctx context.Context, hash string) (*SuiteToken, error)
	// AddToken stores t as one more token of its app: the app's other
	// tokens stay valid (ISV corp tokens). Conflict when the hash is taken.
	AddToken(ctx context.Context, t Token, now int64) error
	// ChatApps lists the apps bound to a group, in binding order.
	ChatApps(ctx context.Context, chatID string) ([]ChatApp, error)
	// UpdateChatApps runs decide on the group and its bound apps inside one
	// transaction and applies what it returns; an error from decide changes
	// nothing and is returned as is. NotFound when the corp has no group chatID.
	UpdateChatApps(ctx context.Context, corpID, chatID string, decide func(*ChatAppState) (*ChatAppChange, error)) error
}
