package callback

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// maxReply bounds what is read of a receiver's answer: a reply is about
// 200 bytes, so anything near this is not one.
const maxReply = 64 << 10

// Pusher posts events to subscribers over HTTP.
type Pusher struct {
	client *http.Client
	clock  ding.Clock
}

var _ ding.Pusher = (*Pusher)(nil)

// NewPusher returns a Pusher; with denyPrivate it refuses to connect to
// loopback, private and link-local addresses, as DingTalk does, checked at
// connect time so that DNS cannot point a public name inside.
func NewPusher(clock ding.Clock, denyPrivate bool) *Pusher {
	if clock == nil {
		clock = ding.SystemClock{}
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if denyPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || PrivateIP(ip) {
				return errRefused
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 0, // each push has its own deadline
		ForceAttemptHTTP2:     true,
	}
	return &Pusher{
		clock: clock,
		client: &http.Client{
			Transport: tr,
			// DingTalk does not follow redirects: a 3xx is a bad reply
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

var errRefused = errors.New("loopback and private addresses are refused")

// PrivateIP reports whether ip is loopback, private, link-local or unspecified.
func PrivateIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast()
}

// Payload is the plaintext of ev in sub's dialect.
func (p *Pusher) Payload(sub *ding.Subscription, ev *ding.Event, biz map[string]any, eventID string) []byte {
	return Payload(sub, ev, biz, eventID)
}

// Reply is what a receiver answers: "success", encrypted and signed.
type Reply struct {
	MsgSignature string `json:"msg_signature"`
	TimeStamp    string `json:"timeStamp"`
	Nonce        string `json:"nonce"`
	Encrypt      string `json:"encrypt"`
}

// Push posts plaintext to sub's URL and checks the reply; ctx's deadline
// bounds the whole exchange.
func (p *Pusher) Push(ctx context.Context, sub *ding.Subscription, plaintext []byte) ding.PushResult {
	start := time.Now()
	res := p.push(ctx, sub, plaintext)
	res.LatencyMs = time.Since(start).Milliseconds()
	return res
}

func (p *Pusher) push(ctx context.Context, sub *ding.Subscription, plaintext []byte) ding.PushResult {
	c, err := New(sub.Token, sub.AESKey, sub.OwnerKey)
	if err != nil {
		return ding.PushResult{Failure: ding.PushBadReply, Err: err}
	}
	enc, err := c.Encrypt(plaintext)
	if err != nil {
		return ding.PushResult{Failure: ding.PushUnreachable, Err: err}
	}
	ts := strconv.FormatInt(p.clock.Now().UnixMilli(), 10)
	nonce := Nonce()
	sig := c.Sign(ts, nonce, enc)
	u, err := url.Parse(sub.URL)
	if err != nil {
		return ding.PushResult{Failure: ding.PushUnreachable, Err: err}
	}
	q := u.Query()
	// both names of the signature, as receivers read either
	q.Set("signature", sig)
	q.Set("msg_signature", sig)
	q.Set("timestamp", ts)
	q.Set("nonce", nonce)
	u.RawQuery = q.Encode()
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return ding.PushResult{Failure: ding.PushUnreachable, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "DingChat-Callback/1.0")
	resp, err := p.client.Do(req)
	if err != nil {
		return ding.PushResult{Failure: classify(ctx, err), Err: scrub(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return ding.PushResult{Status: resp.StatusCode, Failure: classify(ctx, err), Err: scrub(err)}
	}
	if resp.StatusCode != http.StatusOK {
		return ding.PushResult{Status: resp.StatusCode, Failure: ding.PushBadReply, Err: fmt.Errorf("HTTP status %d", resp.StatusCode)}
	}
	if len(raw) > maxReply {
		return ding.PushResult{Status: resp.StatusCode, Failure: ding.PushBadReply, Err: fmt.Errorf("reply larger than %d bytes", maxReply)}
	}
	return p.checkReply(c, sub, raw, resp.StatusCode)
}

func (p *Pusher) checkReply(c *Crypto, sub *ding.Subscription, raw []byte, status int) ding.PushResult {
	var r Reply
	if err := json.Unmarshal(raw, &r); err != nil || r.Encrypt == "" {
		return ding.PushResult{Status: status, Failure: ding.PushBadReply, Err: errors.New("reply is not {msg_signature, timeStamp, nonce, encrypt}")}
	}
	if Sign(sub.Token, r.TimeStamp, r.Nonce, r.Encrypt) != r.MsgSignature {
		return ding.PushResult{Status: status, Failure: ding.PushSignature, Err: errors.New("reply msg_signature does not match")}
	}
	msg, owner, err := c.Decrypt(r.Encrypt)
	if err != nil {
		return ding.PushResult{Status: status, Failure: ding.PushNotSuccess, Err: fmt.Errorf("reply does not decrypt: %w", err)}
	}
	if owner != sub.OwnerKey {
		return ding.PushResult{Status: status, Failure: ding.PushNotSuccess, Err: fmt.Errorf("reply carries key %q, want %q", owner, sub.OwnerKey)}
	}
	if string(msg) != "success" {
		return ding.PushResult{Status: status, Failure: ding.PushNotSuccess, Err: fmt.Errorf("reply decrypts to %.40q, not success", msg)}
	}
	return ding.PushResult{Status: status}
}

func classify(ctx context.Context, err error) string {
	if errors.Is(err, errRefused) {
		return ding.PushRefused
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return ding.PushTimeout
	}
	return ding.PushUnreachable
}

// scrub drops the URL (its query carries the signature) from err.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

const nonceChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Nonce is a random 8-character nonce like DingTalk's.
func Nonce() string {
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = nonceChars[int(b[i])%len(nonceChars)]
	}
	return string(b[:])
}
