package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// StreamSubscription is one entry of connections/open's subscriptions.
type StreamSubscription struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
}

// StreamOpenInput is the body of /v1.0/gateway/connections/open.
type StreamOpenInput struct {
	ClientID      string
	ClientSecret  string
	Subscriptions []StreamSubscription
	UA            string
	LocalIP       string
	Extras        json.RawMessage
}

// StreamClient is who a ticket let in, and what it listens to.
type StreamClient struct {
	ClientID      string   // app or suite key
	Corps         []string // whose events it receives
	Subscriptions []StreamSubscription
	UA            string
}

type streamInfo struct {
	Subscriptions []StreamSubscription `json:"subscriptions"`
	UA            string               `json:"ua,omitempty"`
	LocalIP       string               `json:"localIp,omitempty"`
	Extras        json.RawMessage      `json:"extras,omitempty"`
}

func streamAuthFailed(format string, args ...any) error {
	return ding.Errorf(ding.Unauthenticated, ding.ReasonStreamAuth, format, args...)
}

// OpenStream is /v1.0/gateway/connections/open: an app's (or a suite's)
// key and secret buy a ticket for one WebSocket connection within 90 s.
func (s *Service) OpenStream(ctx context.Context, in StreamOpenInput) (*ding.StreamTicket, error) {
	if in.ClientID == "" || in.ClientSecret == "" {
		return nil, streamAuthFailed("clientId and clientSecret are required")
	}
	corp := ""
	if app, err := s.store.App(ctx, in.ClientID); err == nil && app.SuiteKey == "" {
		if !secretEqual(app.Secret, in.ClientSecret) {
			return nil, streamAuthFailed("clientSecret does not match")
		}
		corp = app.CorpID
	} else if suite, serr := s.store.Suite(ctx, in.ClientID); serr == nil {
		if !secretEqual(suite.Secret, in.ClientSecret) {
			return nil, streamAuthFailed("clientSecret does not match")
		}
	} else if err != nil && !ding.IsKind(err, ding.NotFound) {
		return nil, err
	} else {
		return nil, streamAuthFailed("no app or suite has clientId %s", in.ClientID)
	}
	for _, sub := range in.Subscriptions {
		switch sub.Type {
		case ding.StreamEvent, ding.StreamCallback, ding.StreamSystem:
		default:
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "subscription type %q is not EVENT, CALLBACK or SYSTEM", sub.Type)
		}
		if sub.Type == ding.StreamEvent && sub.Topic != "*" {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "an EVENT subscription's topic must be *")
		}
	}
	info, _ := json.Marshal(streamInfo{Subscriptions: in.Subscriptions, UA: in.UA, LocalIP: in.LocalIP, Extras: in.Extras})
	h := s.ids.Token()
	t := &ding.StreamTicket{Ticket: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], ClientID: in.ClientID,
		CorpID: corp, Info: info, ExpiresAt: s.clock.Now().Add(ding.StreamTicketTTL).UnixMilli()}
	if err := s.store.SaveStreamTicket(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// ConnectStream spends a ticket: it admits one connection, once, within
// its 90 s. The client's cursors are created at the newest event of each
// corp it hears from, the first time it connects; after that its place is
// kept, so events committed while it is away arrive when it is back.
func (s *Service) ConnectStream(ctx context.Context, ticket string) (*StreamClient, error) {
	if ticket == "" {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonStreamTicket, "ticket is required")
	}
	t, err := s.store.TakeStreamTicket(ctx, ticket)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonStreamTicket, "ticket is unknown or used")
	}
	if err != nil {
		return nil, err
	}
	if s.clock.Now().UnixMilli() > t.ExpiresAt {
		return nil, ding.Errorf(ding.Unauthenticated, ding.ReasonStreamTicket, "ticket expired %s ago", time.Duration(s.clock.Now().UnixMilli()-t.ExpiresAt)*time.Millisecond)
	}
	var info streamInfo
	json.Unmarshal(t.Info, &info)
	c := &StreamClient{ClientID: t.ClientID, Subscriptions: info.Subscriptions, UA: info.UA}
	if t.CorpID != "" {
		c.Corps = []string{t.CorpID}
	} else if c.Corps, err = s.store.SuiteCorps(ctx, t.ClientID); err != nil {
		return nil, err
	}
	for _, corp := range c.Corps {
		if err := s.store.EnsureCursor(ctx, StreamConsumer(t.ClientID), corp); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// StreamConsumer is the event-log consumer of a Stream client.
func StreamConsumer(clientID string) string { return "stream:" + clientID }
