package dingchatapi

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/service"
)

// Live delivery's timings: how long a client has to say where it resumes,
// and how long one frame may take to leave before the client counts as gone.
const (
	liveHelloTimeout = 10 * time.Second
	liveWriteTimeout = 10 * time.Second
	liveCloseWait    = 2 * time.Second // for the client's answer to our close frame
)

// liveStart is the client's first frame: where it resumes and, for
// browsers (which cannot set headers on a WebSocket), its member token.
type liveStart struct {
	Token string `json:"token"`
	live.Resume
	// an operator's socket names the corp and the groups to watch
	CorpID string   `json:"corpId"`
	Chats  []string `json:"chats"`
}

// Close codes beyond RFC 6455's, in the application range.
const (
	closeUnauthorized = 4001
	closeTooSlow      = 4008
)

// liveSocket is GET /_dingchat/member/live: a WebSocket that pushes every
// message, recall, group change and read mark of the member's groups.
func (a *API) liveSocket(w http.ResponseWriter, r *http.Request) {
	a.serveLive(w, r, false)
}

// adminLiveSocket is GET /_dingchat/admin/live: every event of one corp and
// the messages of the groups the operator has open.
func (a *API) adminLiveSocket(w http.ResponseWriter, r *http.Request) {
	a.serveLive(w, r, true)
}

func (a *API) adminOK(t string) bool {
	return t != "" && a.adminHash != "" && subtle.ConstantTimeCompare([]byte(ding.SecretHash(t)), []byte(a.adminHash)) == 1
}

func (a *API) serveLive(w http.ResponseWriter, r *http.Request, admin bool) {
	httpx.SetSurface(r, surface)
	if a.live == nil {
		writeError(w, r, a.log, ding.Errorf(ding.NotFound, ding.ReasonNone, "live delivery is off"))
		return
	}
	var mc *service.MemberCaller
	headerAdmin := false
	if t := bearer(r); t != "" && admin {
		if !a.adminOK(t) {
			writeError(w, r, a.log, ding.Errorf(ding.Unauthenticated, ding.ReasonTokenInvalid, "invalid admin token"))
			return
		}
		headerAdmin = true
	} else if t != "" {
		var err error
		if mc, err = a.svc.AuthenticateMember(r.Context(), t); err != nil {
			writeError(w, r, a.log, err)
			return
		}
		httpx.SetMember(r, mc.CorpID, mc.UserID)
	}
	// the default origin check refuses pages of other origins
	conn, err := liveUpgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	defer conn.Close()
	conn.SetReadLimit(64 << 10)
	ctx := context.WithoutCancel(r.Context())

	var start liveStart
	conn.SetReadDeadline(time.Now().Add(liveHelloTimeout))
	_, b, err := conn.ReadMessage()
	if err != nil {
		closeLive(conn, websocket.ClosePolicyViolation, "send {\"token\",\"events\",\"groups\"} first", nil)
		return
	}
	conn.SetReadDeadline(time.Time{})
	if err := json.Unmarshal(b, &start); err != nil {
		closeLive(conn, websocket.CloseInvalidFramePayloadData, "the first frame must be a JSON object", nil)
		return
	}
	var c *live.Client
	var hello []byte
	if admin {
		if !headerAdmin && !a.adminOK(start.Token) {
			closeLive(conn, closeUnauthorized, "invalid admin token", nil)
			return
		}
		c, hello, err = a.live.Watch(ctx, start.CorpID, start.Chats, start.Resume)
	} else {
		if mc == nil {
			if mc, err = a.svc.AuthenticateMember(ctx, start.Token); err != nil {
				closeLive(conn, closeUnauthorized, ding.ErrorMessage(err), nil)
				return
			}
		}
		c, hello, err = a.live.Connect(ctx, mc.CorpID, mc.UserID, start.Resume)
	}
	if err != nil {
		closeLive(conn, websocket.CloseInternalServerErr, "cannot read the member's groups", nil)
		return
	}
	defer c.Close()
	// the client sends nothing more: reading answers its pings and notices
	// its close; a data frame breaks the protocol
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		defer cancel()
		if _, _, err := conn.NextReader(); err == nil {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "unexpected data frame"), time.Now().Add(time.Second))
		}
	}()
	if err := writeLive(conn, hello, liveWriteTimeout); err != nil {
		return
	}
	for {
		frames, err := c.Next(ctx)
		switch {
		case errors.Is(err, live.ErrTooSlow):
			closeLive(conn, closeTooSlow, "too far behind: reconnect with your last sequence numbers", gone)
			return
		case errors.Is(err, live.ErrReset):
			closeLive(conn, websocket.CloseServiceRestart, "store reset: reconnect without sequence numbers", gone)
			return
		case errors.Is(err, live.ErrClosed):
			closeLive(conn, websocket.CloseGoingAway, "server stopping", gone)
			return
		case err != nil:
			if ctx.Err() == nil {
				a.log.Warn("live: read", "err", err)
				closeLive(conn, websocket.CloseInternalServerErr, "store unavailable: reconnect with your last sequence numbers", gone)
			}
			return
		}
		for _, f := range frames {
			if err := writeLive(conn, f, liveWriteTimeout); err != nil {
				return
			}
		}
	}
}

// liveUpgrader takes a frame's buffer from a pool only while the frame is
// written, so an idle socket holds no write buffer. The server writes each
// frame with one system call and no per-frame locks beyond the library's
// one: that path was a sixth of the fan-out's CPU with the library used
// before.
var liveUpgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}}

// hijacker reaches the connection through the middlewares' wrappers,
// which the upgrader does not unwrap.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &liveConn{Conn: c}, brw, nil
}

// liveConn moves the socket's write deadline only when the one asked for is
// earlier than the one set or at least a second later: the library sets it
// before every frame, and a timer update per frame per socket was 6 % of
// the fan-out's CPU. A stuck write so fails within liveWriteTimeout minus at
// most a second. The library calls it under its write lock, so wdl needs
// no lock of its own.
type liveConn struct {
	net.Conn
	wdl time.Time
}

func (c *liveConn) SetWriteDeadline(t time.Time) error {
	if !t.IsZero() && !c.wdl.IsZero() && !t.Before(c.wdl) && t.Sub(c.wdl) < time.Second {
		return nil
	}
	c.wdl = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *liveConn) SetDeadline(t time.Time) error {
	c.wdl = t
	return c.Conn.SetDeadline(t)
}

// writeLive writes one frame; one stuck for timeout (a client
// that stopped reading) fails, and the socket is closed.
func writeLive(conn *websocket.Conn, b []byte, timeout time.Duration) error {
	conn.SetWriteDeadline(time.Now().Add(timeout))
	return conn.WriteMessage(websocket.TextMessage, b)
}

// closeLive sends a close frame and waits a little for the client's answer
// (read by the goroutine that closes gone) before the socket is dropped.
func closeLive(conn *websocket.Conn, code int, reason string, gone <-chan struct{}) {
	if len(reason) > 120 { // a close frame's payload is at most 125 bytes
		reason = reason[:120]
	}
	if conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second)) != nil {
		return
	}
	if gone == nil { // nobody reads yet: read the answer here
		conn.SetReadDeadline(time.Now().Add(liveCloseWait))
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}
	select {
	case <-gone:
	case <-time.After(liveCloseWait):
	}
}
