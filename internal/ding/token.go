package ding

import "context"

// TokenTTL is DingTalk's access-token lifetime in seconds.
const TokenTTL = 7200

// Token is an access token minted for an app.
type Token struct {
	Value     string
	AppKey    string
	CorpID    string
	CreatedAt int64 // Unix ms
	ExpiresAt int64 // Unix ms
}

// TokenStore keeps access tokens so they survive restarts.
type TokenStore interface {
	// IssueToken returns the app's token that is still valid at now, with its
	// expiry moved to expiresAt; when none is valid it stores fresh and returns it.
	IssueToken(ctx context.Context, fresh Token, now int64) (*Token, error)
	// Token returns NotFound when value was never issued.
	Token(ctx context.Context, value string) (*Token, error)
}
