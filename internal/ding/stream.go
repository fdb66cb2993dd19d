package ding

import (
	"context"
	"time"
)

// Stream mode limits.
const (
	// StreamTicketTTL is how long a ticket from connections/open stays good
	// for its one connection.
	StreamTicketTTL = 90 * time.Second
	// SessionWebhookTTL is how long a robot message's sessionWebhook
	// accepts replies (unconfirmed: DingTalk's observed expiry is about 90 min).
	SessionWebhookTTL = 90 * time.Minute
)

// Stream topics and frame types.
const (
	StreamEvent       = "EVENT"
	StreamCallback    = "CALLBACK"
	StreamSystem      = "SYSTEM"
	TopicBotMessage   = "/v1.0/im/bot/messages/get"
	TopicCardCallback = "/v1.0/card/instances/callback"
	TopicGraphInvoke  = "/v1.0/graph/api/invoke"
)

// EventBotMessage is DingChat's own event for a member's message that
// @-mentions a robot: it carries the robot callback's fields to the node
// holding the robot's app's Stream connection (or to its HTTP URL).
const EventBotMessage = "chat_bot_message"

// StreamTicket lets one WebSocket connection in for ClientID.
type StreamTicket struct {
	Ticket    string
	ClientID  string // the app key, or the suite key
	CorpID    string // "" for a suite
	Info      []byte // JSON of what the client declared
	ExpiresAt int64
}

// StreamStore keeps Stream tickets.
type StreamStore interface {
	// SaveStreamTicket stores t.
	SaveStreamTicket(ctx context.Context, t *StreamTicket) error
	// TakeStreamTicket deletes and returns the ticket; NotFound when it is
	// unknown or used. Expiry is the caller's to check.
	TakeStreamTicket(ctx context.Context, ticket string) (*StreamTicket, error)
}

// StreamFrame is one server-to-client frame of the Stream protocol.
type StreamFrame struct {
	Type    string            // StreamEvent, StreamCallback or StreamSystem
	Headers map[string]string // topic, messageId, contentType, time, event* …
	Data    string            // a JSON document, sent as a string
}

// StreamAck is a client's answer to a frame.
type StreamAck struct {
	Code    int
	Message string
	Data    string
}

// StreamHub is this node's open Stream connections.
type StreamHub interface {
	// Clients lists the client ids (app or suite keys) with a connection here.
	Clients() []string
	// BaseURL is how one of clientID's connections reached this node
	// (http(s)://host), for links handed to it; "" when none is open.
	BaseURL(clientID string) string
	// Send writes f to one of clientID's connections that subscribed to its
	// type and topic; with wait it returns the connection's ACK, waiting at
	// most until ctx ends. ok is false when no such connection is open.
	Send(ctx context.Context, clientID string, f StreamFrame, wait bool) (ack StreamAck, ok bool, err error)
	// Drop closes one of clientID's connections, as a network failure would.
	Drop(clientID string)
}
