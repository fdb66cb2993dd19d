package ding

import "context"

// TokenTTL is DingTalk's access-token lifetime in seconds.
const TokenTTL = 7200

// Token is an access token minted for an app.
type Token struct {
	// Value is the bearer value. Stores never keep it: they keep Hash
	// (SecretHash of Value) and find a token by it.
	Value string
	Hash  string
	// Salt and KeyID let the issuer derive Value again from the app's
	// secret, so a renewal hands out the same token without the store
	// holding it. KeyID names the secret; "" when Value cannot be derived
	// (a token kept before hashing, or a random one).
	Salt      string
	KeyID     string
	AppKey    string
	CorpID    string
	CreatedAt int64 // Unix ms
	ExpiresAt int64 // Unix ms
}

// TokenStore keeps access tokens so they survive restarts.
type TokenStore interface {
	// IssueToken returns the app's token with fresh.KeyID that is still
	// valid at now, with its expiry moved to fresh.ExpiresAt; when none is
	// valid it stores fresh and returns it. The result's Value is empty.
	IssueToken(ctx context.Context, fresh Token, now int64) (*Token, error)
	// Token returns NotFound when no token has hash; the result's Value is empty.
	Token(ctx context.Context, hash string) (*Token, error)
}
