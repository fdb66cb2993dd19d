package dingchatapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

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
	closeUnauthorized = websocket.StatusCode(4001)
	closeTooSlow      = websocket.StatusCode(4008)
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
	// the server's read and write timeouts would cut a long-lived socket
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	// the default origin check refuses pages of other origins
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 10)
	ctx := context.WithoutCancel(r.Context())

	hctx, cancel := context.WithTimeout(ctx, liveHelloTimeout)
	var start liveStart
	_, b, err := conn.Read(hctx)
	cancel()
	if err != nil {
		conn.Close(websocket.StatusPolicyViolation, "send {\"token\",\"events\",\"groups\"} first")
		return
	}
	if err := json.Unmarshal(b, &start); err != nil {
		conn.Close(websocket.StatusInvalidFramePayloadData, "the first frame must be a JSON object")
		return
	}
	var c *live.Client
	var hello []byte
	if admin {
		if !headerAdmin && !a.adminOK(start.Token) {
			conn.Close(closeUnauthorized, "invalid admin token")
			return
		}
		c, hello, err = a.live.Watch(ctx, start.CorpID, start.Chats, start.Resume)
	} else {
		if mc == nil {
			if mc, err = a.svc.AuthenticateMember(ctx, start.Token); err != nil {
				conn.Close(closeUnauthorized, ding.ErrorMessage(err))
				return
			}
		}
		c, hello, err = a.live.Connect(ctx, mc.CorpID, mc.UserID, start.Resume)
	}
	if err != nil {
		conn.Close(websocket.StatusInternalError, "cannot read the member's groups")
		return
	}
	defer c.Close()
	// the client sends nothing more; CloseRead answers pings and notices its close
	ctx = conn.CloseRead(ctx)
	lw := newLiveWriter(conn, liveWriteTimeout)
	defer lw.stuck.Stop()
	if err := lw.write(hello); err != nil {
		return
	}
	for {
		frames, err := c.Next(ctx)
		switch {
		case errors.Is(err, live.ErrTooSlow):
			conn.Close(closeTooSlow, "too far behind: reconnect with your last sequence numbers")
			return
		case errors.Is(err, live.ErrReset):
			conn.Close(websocket.StatusServiceRestart, "store reset: reconnect without sequence numbers")
			return
		case errors.Is(err, live.ErrClosed):
			conn.Close(websocket.StatusGoingAway, "server stopping")
			return
		case err != nil:
			if ctx.Err() == nil {
				a.log.Warn("live: read", "err", err)
				conn.Close(websocket.StatusInternalError, "store unavailable: reconnect with your last sequence numbers")
			}
			return
		}
		for _, f := range frames {
			if err := lw.write(f); err != nil {
				return
			}
		}
	}
}

// liveWriter writes a socket's frames; a write stuck for liveWriteTimeout
// (a client that stopped reading) closes the socket. One timer serves the
// connection, and writes take a context that never ends, for which the
// WebSocket library sets up nothing: a timeout context per frame, ours and
// the library's, was an eighth of the fan-out's CPU.
type liveWriter struct {
	conn    *websocket.Conn
	timeout time.Duration
	stuck   *time.Timer
}

func newLiveWriter(conn *websocket.Conn, timeout time.Duration) *liveWriter {
	w := &liveWriter{conn: conn, timeout: timeout, stuck: time.AfterFunc(time.Hour, func() { conn.CloseNow() })}
	w.stuck.Stop()
	return w
}

func (w *liveWriter) write(b []byte) error {
	w.stuck.Reset(w.timeout)
	err := w.conn.Write(context.Background(), websocket.MessageText, b)
	w.stuck.Stop()
	return err
}
