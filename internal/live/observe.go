package live

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// observed is a store that tells the hub what this node committed, so
// local clients hear of it at once rather than at the next poll. It adds
// one map lookup after a commit and nothing inside one.
type observed struct {
	ding.Store
	hub *Hub
}

// Observe returns st reporting its commits to h.
func Observe(st ding.Store, h *Hub) ding.Store { return &observed{Store: st, hub: h} }

func (o *observed) AppendMessage(ctx context.Context, m *ding.Message, events []ding.Event, check func(*ding.Group) error) error {
	err := o.Store.AppendMessage(ctx, m, events, check)
	if err == nil {
		o.hub.committed(m)
		if len(events) > 0 {
			o.hub.Poke()
		}
	}
	return err
}

func (o *observed) RecallMessage(ctx context.Context, corpID, id string, at int64, events []ding.Event) error {
	err := o.Store.RecallMessage(ctx, corpID, id, at, events)
	if err == nil {
		o.hub.Poke()
	}
	return err
}

func (o *observed) MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error) {
	before, _ := o.Store.ReadMark(ctx, chatID, userID)
	now, err := o.Store.MarkRead(ctx, chatID, userID, seq)
	if err == nil && now > before {
		o.hub.read(chatID, userID, now)
	}
	return now, err
}

func (o *observed) CreateGroup(ctx context.Context, g *ding.Group, members []ding.Member, events []ding.Event) error {
	err := o.Store.CreateGroup(ctx, g, members, events)
	if err == nil {
		o.hub.Poke()
	}
	return err
}

func (o *observed) UpdateGroup(ctx context.Context, corpID, chatID string, decide func(*ding.GroupState) (*ding.GroupChange, error)) (*ding.Group, error) {
	g, err := o.Store.UpdateGroup(ctx, corpID, chatID, decide)
	if err == nil {
		o.hub.Poke()
	}
	return g, err
}

// WriteFailure passes the store's health report through.
func (o *observed) WriteFailure() error {
	if f, ok := o.Store.(interface{ WriteFailure() error }); ok {
		return f.WriteFailure()
	}
	return nil
}
