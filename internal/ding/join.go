package ding

import "context"

// JoinCode is behind a group's join link (topapi/chat/qrcode/get).
type JoinCode struct {
	Code string // never stored: stores keep and find Hash
	Hash string
	// Salt and KeyID let the issuer derive Code again from the server's
	// join-link key, so the same link is handed out while it lasts. KeyID
	// names the key; both are "" for a code that cannot be derived (one
	// kept before links were reused).
	Salt      string
	KeyID     string
	CorpID    string
	ChatID    string
	Sharer    string // the member who shared the link
	CreatedAt int64
	ExpiresAt int64 // Unix ms; 0 = never (codes kept before links expired)
}

// JoinRequest waits for an owner or admin when a group validates joins.
type JoinRequest struct {
	ChatID    string
	UserID    string
	Code      string // the hash of the join code used
	CreatedAt int64
}

// JoinStore keeps join links and pending join requests.
type JoinStore interface {
	// IssueJoinCode returns the code of (fresh.CorpID, fresh.ChatID,
	// fresh.Sharer) with fresh.KeyID that is still valid after validUntil,
	// the one that lasts longest; when there is none it stores fresh by its
	// Hash and returns it. Either way it forgets the codes that expired
	// before fresh.CreatedAt. The result's Code is empty.
	IssueJoinCode(ctx context.Context, fresh JoinCode, validUntil int64) (*JoinCode, error)
	// JoinCode returns NotFound for an unknown hash.
	JoinCode(ctx context.Context, hash string) (*JoinCode, error)
	// SaveJoinRequest records (or refreshes) a pending request.
	SaveJoinRequest(ctx context.Context, r JoinRequest) error
	// JoinRequests lists a group's pending requests, oldest first.
	JoinRequests(ctx context.Context, chatID string) ([]JoinRequest, error)
	// DeleteJoinRequest returns NotFound when no such request is pending.
	DeleteJoinRequest(ctx context.Context, chatID, userID string) error
}
