// Package stream is DingTalk's Stream mode gateway: clients open a
// connection with their key and secret, connect a WebSocket with the
// ticket, and receive EVENT and CALLBACK frames that they acknowledge. The
// event log's dispatcher decides what to send; this package holds the
// connections, speaks the frames and matches ACKs.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// Path is where clients connect: the endpoint connections/open answers.
const Path = "/connect"

// Options tune a Gateway; zero values take the defaults.
type Options struct {
	PingEvery    time.Duration // SYSTEM ping to each connection (30 s)
	QueueFrames  int           // frames waiting to be written to one connection before it is closed as too slow (256)
	MaxFrame     int64         // largest frame a client may send (64 KiB)
	DisconnectIn time.Duration // how long clients have to leave after a SYSTEM disconnect (2 s)
	// OnConnect is told of each new connection, so delivery to it starts
	// at once rather than at the dispatcher's next look.
	OnConnect func(clientID string)
}

// Gateway holds this node's Stream connections.
type Gateway struct {
	svc  *service.Service
	log  *slog.Logger
	opts Options

	mu      sync.Mutex
	conns   map[string][]*conn // by client id
	closing bool
	seq     atomic.Int64
	wg      sync.WaitGroup
}

var _ ding.StreamHub = (*Gateway)(nil)

// New returns a Gateway.
func New(svc *service.Service, log *slog.Logger, opts Options) *Gateway {
	if opts.PingEvery <= 0 {
		opts.PingEvery = 30 * time.Second
	}
	if opts.QueueFrames <= 0 {
		opts.QueueFrames = 256
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = 64 << 10
	}
	if opts.DisconnectIn <= 0 {
		opts.DisconnectIn = 2 * time.Second
	}
	return &Gateway{svc: svc, log: log, opts: opts, conns: map[string][]*conn{}}
}

// SetPingEvery changes how often connections opened from now on get a
// SYSTEM ping.
func (g *Gateway) SetPingEvery(d time.Duration) {
	g.mu.Lock()
	g.opts.PingEvery = d
	g.mu.Unlock()
}

// Register mounts the WebSocket endpoint.
func (g *Gateway) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, g.connect)
}

// conn is one client connection.
type conn struct {
	g       *Gateway
	ws      *websocket.Conn
	client  *service.StreamClient
	base    string // http(s)://host the client reached us at
	out     chan []byte
	done    chan struct{}
	once    sync.Once
	pending sync.Map // messageId → chan ding.StreamAck
	subs    map[string]bool
}

func (c *conn) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		go c.ws.Close(code, reason)
	})
}

// subscribed reports whether the client asked for frames of this type and topic.
func (c *conn) subscribed(typ, topic string) bool {
	if typ == ding.StreamEvent {
		return c.subs[typ+" *"]
	}
	return c.subs[typ+" "+topic]
}

// streamError answers a failed connect with a JSON body the SDKs show.
func streamError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func (g *Gateway) connect(w http.ResponseWriter, r *http.Request) {
	httpx.SetSurface(r, "stream")
	g.mu.Lock()
	closing := g.closing
	g.mu.Unlock()
	if closing {
		streamError(w, http.StatusServiceUnavailable, "serviceUnavailable", "the server is shutting down")
		return
	}
	// a browser page of another site must not spend a ticket: SDKs send no
	// Origin; a browser always does
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, r.Host) {
			streamError(w, http.StatusForbidden, "forbidden", "a WebSocket from another origin is refused")
			return
		}
	}
	client, err := g.svc.ConnectStream(r.Context(), r.URL.Query().Get("ticket"))
	if err != nil {
		if ding.IsKind(err, ding.Unauthenticated) {
			httpx.Explain(w, r, "authFailed", err)
			streamError(w, http.StatusUnauthorized, "authFailed", "鉴权失败: "+ding.ErrorMessage(err))
		} else {
			httpx.Explain(w, r, "system.error", err)
			g.log.Error("stream connect", "err", err)
			streamError(w, http.StatusServiceUnavailable, "system.error", "系统繁忙")
		}
		return
	}
	// the server's read and write timeouts are for requests, not for a
	// connection that lives for hours
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept answered the client
	}
	ws.SetReadLimit(g.opts.MaxFrame)
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	c := &conn{g: g, ws: ws, client: client, base: scheme + "://" + r.Host, out: make(chan []byte, g.opts.QueueFrames),
		done: make(chan struct{}), subs: map[string]bool{}}
	for _, s := range client.Subscriptions {
		c.subs[s.Type+" "+s.Topic] = true
	}
	if !g.add(c) {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer g.remove(c)
	g.log.Info("stream connected", "client", client.ClientID, "ua", client.UA)
	if g.opts.OnConnect != nil {
		g.opts.OnConnect(client.ClientID)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	go c.writeLoop(ctx)
	c.readLoop(ctx)
	c.close(websocket.StatusNormalClosure, "")
}

func (g *Gateway) add(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.conns[c.client.ClientID] = append(g.conns[c.client.ClientID], c)
	g.wg.Add(1)
	return true
}

func (g *Gateway) remove(c *conn) {
	g.mu.Lock()
	list := g.conns[c.client.ClientID]
	for i, x := range list {
		if x == c {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(g.conns, c.client.ClientID)
	} else {
		g.conns[c.client.ClientID] = list
	}
	g.mu.Unlock()
	g.wg.Done()
	g.log.Info("stream disconnected", "client", c.client.ClientID)
}

// ack is a client's answer to a frame.
type ack struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return // closed, too large (1009) or a protocol error: the library answered it
		}
		if typ != websocket.MessageText {
			c.close(websocket.StatusUnsupportedData, "frames are JSON text")
			return
		}
		var a ack
		if err := json.Unmarshal(b, &a); err != nil || a.Headers == nil {
			c.close(websocket.StatusInvalidFramePayloadData, "a frame is not a JSON ACK with headers")
			return
		}
		id := a.Headers["messageId"]
		if ch, ok := c.pending.LoadAndDelete(id); ok {
			ch.(chan ding.StreamAck) <- ding.StreamAck{Code: a.Code, Message: a.Message, Data: a.Data}
		}
		// ACKs of pings, of fire-and-forget frames and of frames already
		// given up on need nothing
	}
}

func (c *conn) writeLoop(ctx context.Context) {
	c.g.mu.Lock()
	every := c.g.opts.PingEvery
	c.g.mu.Unlock()
	ping := time.NewTicker(every)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				return
			}
		case <-ping.C:
			c.enqueue(c.g.systemFrame("ping", map[string]string{"opaque": strconv.FormatInt(rand.Int64(), 36)}))
		}
	}
}

// enqueue hands a frame to the writer; a client that does not read keeps
// at most QueueFrames frames here and is then closed.
func (c *conn) enqueue(b []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- b:
		return true
	default:
		c.g.log.Warn("stream client reads too slowly; closing", "client", c.client.ClientID)
		c.close(websocket.StatusPolicyViolation, "too many frames unread")
		return false
	}
}

type wireFrame struct {
	SpecVersion string            `json:"specVersion"`
	Type        string            `json:"type"`
	Time        int64             `json:"time"`
	Headers     map[string]string `json:"headers"`
	Data        string            `json:"data"`
}

func (g *Gateway) messageID() string {
	return "dc-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(g.seq.Add(1), 36)
}

func (g *Gateway) encode(typ string, headers map[string]string, data string) (string, []byte) {
	id := g.messageID()
	h := make(map[string]string, len(headers)+4)
	for k, v := range headers {
		h[k] = v
	}
	now := time.Now().UnixMilli()
	h["messageId"] = id
	h["contentType"] = "application/json"
	h["time"] = strconv.FormatInt(now, 10)
	b, _ := json.Marshal(wireFrame{SpecVersion: "1.0", Type: typ, Time: now, Headers: h, Data: data})
	return id, b
}

func (g *Gateway) systemFrame(topic string, data map[string]string) []byte {
	d, _ := json.Marshal(data)
	_, b := g.encode(ding.StreamSystem, map[string]string{"topic": topic}, string(d))
	return b
}

// Clients lists the client ids with a connection on this node.
func (g *Gateway) Clients() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.conns))
	for id := range g.conns {
		out = append(out, id)
	}
	return out
}

// BaseURL is how one of clientID's connections reached this node, for
// links such as a sessionWebhook; "" when none is open.
func (g *Gateway) BaseURL(clientID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if list := g.conns[clientID]; len(list) > 0 {
		return list[0].base
	}
	return ""
}

// errGone is a connection that closed before it answered.
var errGone = errors.New("the connection closed before it acknowledged")

// Send writes f to one of clientID's connections subscribed to it, chosen
// at random as DingTalk does, and with wait returns its ACK.
func (g *Gateway) Send(ctx context.Context, clientID string, f ding.StreamFrame, wait bool) (ding.StreamAck, bool, error) {
	g.mu.Lock()
	var cands []*conn
	for _, c := range g.conns[clientID] {
		if c.subscribed(f.Type, f.Headers["topic"]) {
			cands = append(cands, c)
		}
	}
	g.mu.Unlock()
	if len(cands) == 0 {
		return ding.StreamAck{}, false, nil
	}
	c := cands[rand.IntN(len(cands))]
	id, b := g.encode(f.Type, f.Headers, f.Data)
	var ch chan ding.StreamAck
	if wait {
		ch = make(chan ding.StreamAck, 1)
		c.pending.Store(id, ch)
		defer c.pending.Delete(id)
	}
	if !c.enqueue(b) {
		return ding.StreamAck{}, true, errGone
	}
	if !wait {
		return ding.StreamAck{Code: http.StatusOK}, true, nil
	}
	select {
	case a := <-ch:
		return a, true, nil
	case <-c.done:
		return ding.StreamAck{}, true, errGone
	case <-ctx.Done():
		return ding.StreamAck{}, true, ctx.Err()
	}
}

// Drop closes one of clientID's connections (a test control's fault).
func (g *Gateway) Drop(clientID string) {
	g.mu.Lock()
	list := g.conns[clientID]
	g.mu.Unlock()
	if len(list) > 0 {
		list[rand.IntN(len(list))].close(websocket.StatusGoingAway, "dropped by a fault rule")
	}
}

// Connections describes the open connections, for the admin API.
func (g *Gateway) Connections() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []map[string]any
	for id, list := range g.conns {
		for _, c := range list {
			subs := []string{}
			for s := range c.subs {
				subs = append(subs, s)
			}
			out = append(out, map[string]any{"clientId": id, "ua": c.client.UA, "subscriptions": subs, "queued": len(c.out)})
		}
	}
	return out
}

// Shutdown tells every client to go (SYSTEM disconnect), gives them
// DisconnectIn to reconnect elsewhere, then closes what is left.
func (g *Gateway) Shutdown(ctx context.Context) {
	g.mu.Lock()
	g.closing = true
	var all []*conn
	for _, list := range g.conns {
		all = append(all, list...)
	}
	g.mu.Unlock()
	for _, c := range all {
		c.enqueue(g.systemFrame("disconnect", map[string]string{"reason": "server shutting down"}))
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	t := time.NewTimer(g.opts.DisconnectIn)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	case <-ctx.Done():
	}
	for _, c := range all {
		c.close(websocket.StatusGoingAway, "server shutting down")
	}
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}
