package httpx

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"
)

// LoggedCall is one API call as the request log keeps it.
type LoggedCall struct {
	Seq          int64           `json:"seq"` // per node, counting up from 1
	Time         time.Time       `json:"time"`
	RequestID    string          `json:"requestId"`
	Surface      string          `json:"surface"` // legacy, topapi, v1.0, webhook, dingchat
	AppKey       string          `json:"appKey,omitempty"`
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	Query        string          `json:"query,omitempty"` // secrets masked
	Status       int             `json:"status"`
	Errcode      string          `json:"errcode,omitempty"` // legacy errcode, or v1.0 code
	LatencyMs    float64         `json:"latencyMs"`
	RequestBody  json.RawMessage `json:"requestBody,omitempty"`  // JSON as sent, else a JSON string; secrets masked
	ResponseBody json.RawMessage `json:"responseBody,omitempty"` // likewise
	Fault        string          `json:"fault,omitempty"`        // the fault rule that answered or delayed the call
	FaultAction  string          `json:"faultAction,omitempty"`
	Reason       string          `json:"reason,omitempty"` // X-DingChat-Reason of the answer
	Truncated    bool            `json:"truncated,omitempty"`

	raw *rawCall // what Keep stored, masked into the fields above by Find
}

// rawCall is a call's query and bodies as they travelled. Masking them is
// most of what logging a call costs, and most calls are never read: Find
// masks the ones it returns, so no page or API ever sees the raw bytes.
type rawCall struct {
	query             string
	req, resp         []byte // at most max+1 bytes each, so that a cut still shows
	reqType, respType string
	max               int
}

// Keep stores the call's query and the starts of its bodies for Find to
// mask; max bounds each body as MaskBody does. Both bodies are copied, so
// the caller may reuse its buffers.
func (c *LoggedCall) Keep(query string, req []byte, reqType string, resp []byte, respType string, max int) {
	req, resp = req[:min(len(req), max+1)], resp[:min(len(resp), max+1)]
	both := make([]byte, len(req)+len(resp))
	copy(both, req)
	copy(both[len(req):], resp)
	c.raw = &rawCall{query: query, req: both[:len(req):len(req)], resp: both[len(req):], reqType: reqType, respType: respType, max: max}
}

// masked turns what Keep stored into the logged fields.
func (c *LoggedCall) masked() {
	r := c.raw
	if r == nil {
		return
	}
	c.raw = nil
	c.Query = MaskQuery(r.query)
	var t1, t2 bool
	c.RequestBody, t1 = MaskBody(r.req, r.reqType, r.max)
	c.ResponseBody, t2 = MaskBody(r.resp, r.respType, r.max)
	c.Truncated = c.Truncated || t1 || t2
}

// LogFilter selects calls; zero fields select everything.
type LogFilter struct {
	AppKey  string
	Path    string // exact, or a prefix ending in *
	Method  string
	Surface string
	Errcode string
	Status  int
	Faulted bool // only calls a fault rule touched
	Since   time.Time
	Until   time.Time
	After   int64 // seq cursor
	// Desc walks from the newest call back, to calls before Before (0 =
	// from the newest); After is then ignored
	Desc   bool
	Before int64
	Limit  int
}

// RequestLog is a bounded ring of the latest calls on this node.
type RequestLog struct {
	mu   sync.Mutex
	buf  []LoggedCall
	next int // where the next call goes
	n    int // how many are held
	seq  int64
}

// NewRequestLog keeps the latest size calls; size 0 means no log (nil).
func NewRequestLog(size int) *RequestLog {
	if size <= 0 {
		return nil
	}
	return &RequestLog{buf: make([]LoggedCall, size)}
}

// Add records c, giving it the next seq; the oldest call makes room.
func (l *RequestLog) Add(c LoggedCall) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	c.Seq = l.seq
	l.buf[l.next] = c
	l.next = (l.next + 1) % len(l.buf)
	if l.n < len(l.buf) {
		l.n++
	}
}

// Clear forgets every call; seq keeps counting.
func (l *RequestLog) Clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buf)
	l.n, l.next = 0, 0
}

// Find returns the matching calls after f.After, oldest first, at most
// f.Limit, and whether more match.
func (l *RequestLog) Find(f LogFilter) ([]LoggedCall, bool) {
	out := []LoggedCall{}
	if l == nil {
		return out, false
	}
	more := l.find(f, &out)
	for i := range out {
		out[i].masked() // outside the lock: adding calls need not wait for it
	}
	return out, more
}

func (l *RequestLog) find(f LogFilter, out *[]LoggedCall) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := (l.next - l.n + len(l.buf)) % len(l.buf)
	for i := 0; i < l.n; i++ {
		j := i
		if f.Desc {
			j = l.n - 1 - i
		}
		c := &l.buf[(start+j)%len(l.buf)]
		if !f.Desc && c.Seq <= f.After || f.Desc && f.Before > 0 && c.Seq >= f.Before || !f.match(c) {
			continue
		}
		if len(*out) == f.Limit {
			return true
		}
		*out = append(*out, *c)
	}
	return false
}

func (f *LogFilter) match(c *LoggedCall) bool {
	if f.AppKey != "" && c.AppKey != f.AppKey || f.Method != "" && !strings.EqualFold(f.Method, c.Method) ||
		f.Surface != "" && c.Surface != f.Surface || f.Errcode != "" && c.Errcode != f.Errcode ||
		f.Status != 0 && c.Status != f.Status || f.Faulted && c.Fault == "" ||
		!f.Since.IsZero() && c.Time.Before(f.Since) || !f.Until.IsZero() && !c.Time.Before(f.Until) {
		return false
	}
	if f.Path != "" {
		if p, ok := strings.CutSuffix(f.Path, "*"); ok {
			return strings.HasPrefix(c.Path, p)
		}
		return c.Path == f.Path
	}
	return true
}

// secretKeys name the query parameters, form fields and JSON members the
// log never shows in full (compared case-insensitively).
var secretKeys = map[string]bool{
	"access_token": true, "accesstoken": true, "appsecret": true, "app_secret": true, "corpsecret": true,
	"clientsecret": true, "client_secret": true, "suite_secret": true, "suitesecret": true, "secret": true,
	"aes_key": true, "aeskey": true, "token": true, "suite_access_token": true, "suiteaccesstoken": true,
	"suite_ticket": true, "suiteticket": true, "permanent_code": true, "permanentcode": true, "membertoken": true,
	"signature": true, "sign": true, "password": true, "refresh_token": true, "refreshtoken": true,
	"x-acs-dingtalk-access-token": true, "authorization": true,
}

// IsSecretKey reports whether a parameter, field or header of that name is masked.
func IsSecretKey(k string) bool { return secretKeys[strings.ToLower(k)] }

// MaskQuery masks the secret values of a query string.
func MaskQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparseable query)"
	}
	changed := false
	for k, vs := range q {
		if IsSecretKey(k) {
			for i := range vs {
				vs[i] = Mask(vs[i])
			}
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return q.Encode()
}

// MaskBody turns a body into what the log shows: JSON as it came, with
// secret members masked; a form with secret fields masked; anything else as
// a JSON string. max bounds what is kept; truncated reports a cut.
func MaskBody(b []byte, contentType string, max int) (out json.RawMessage, truncated bool) {
	if len(b) == 0 {
		return nil, false
	}
	if strings.HasPrefix(contentType, "multipart/") {
		s, _ := json.Marshal("(multipart body not logged)")
		return s, false
	}
	if len(b) > max {
		b, truncated = b[:max], true
	}
	trim := bytes.TrimSpace(b)
	if !truncated && len(trim) > 0 && (trim[0] == '{' || trim[0] == '[') && json.Valid(trim) {
		return maskJSON(trim), false
	}
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") && !truncated {
		s, _ := json.Marshal(MaskQuery(string(b)))
		return s, false
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(b), "\uFFFD"))
	return s, truncated
}

// maskJSON masks secret members at any depth; a body without any keeps its
// exact bytes.
func maskJSON(b []byte) json.RawMessage {
	if !mayHoldSecret(b) {
		return json.RawMessage(b)
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&v) != nil || !maskValue(v) {
		return json.RawMessage(b)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return json.RawMessage(b)
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
}

// secretStems are in the name of every secret key: a body with none of
// them needs no decoding.
var secretStems = [][]byte{[]byte("secret"), []byte("token"), []byte("aes"), []byte("sign"), []byte("password"),
	[]byte("ticket"), []byte("permanent"), []byte("authorization")}

func mayHoldSecret(b []byte) bool {
	lower := bytes.ToLower(b)
	for _, s := range secretStems {
		if bytes.Contains(lower, s) {
			return true
		}
	}
	return false
}

func maskValue(v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && IsSecretKey(k) {
				x[k] = Mask(s)
				changed = true
				continue
			}
			if maskValue(e) {
				changed = true
			}
		}
	case []any:
		for _, e := range x {
			if maskValue(e) {
				changed = true
			}
		}
	}
	return changed
}
