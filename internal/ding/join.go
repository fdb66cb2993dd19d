package ding

import "context"

// JoinCode is behind a group's join link (topapi/chat/qrcode/get).
type JoinCode struct {
	Code      string // never stored: stores keep and find Hash
	Hash      string
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
	// SaveJoinCode stores a join link's code by its Hash and forgets the
	// codes that expired before c.CreatedAt.
	SaveJoinCode(ctx context.Context, c JoinCode) error
	// JoinCode returns NotFound for an unknown hash.
	JoinCode(ctx context.Context, hash string) (*JoinCode, error)
	// SaveJoinRequest records (or refreshes) a pending request.
	SaveJoinRequest(ctx context.Context, r JoinRequest) error
	// JoinRequests lists a group's pending requests, oldest first.
	JoinRequests(ctx context.Context, chatID string) ([]JoinRequest, error)
	// DeleteJoinRequest returns NotFound when no such request is pending.
	DeleteJoinRequest(ctx context.Context, chatID, userID string) error
}
