// Package httpx is small HTTP plumbing shared by the surfaces: lenient
// parameter decoding, JSON writing, request ids, access logging, recovery.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dingchat/dingchat/internal/ding"
)

// MaxBody bounds a request body; DingTalk's largest JSON calls are far smaller.
const MaxBody = 1 << 20

// Params are a request's parameters from the query string and the body
// (JSON, form-urlencoded or multipart), decoded the way DingTalk's legacy
// gateway does: numbers and booleans may come as strings, lists as JSON text.
type Params struct {
	m map[string]any // the body's values, which win over the query's
	q url.Values     // the query string, parsed once
}

// get is key's value: the body's, else the query's first.
func (p *Params) get(key string) (any, bool) {
	if v, ok := p.m[key]; ok {
		return v, true
	}
	if vs := p.q[key]; len(vs) > 0 {
		return vs[0], true
	}
	return nil, false
}

// value is get without the presence.
func (p *Params) value(key string) any {
	v, _ := p.get(key)
	return v
}

// set gives key the body's value v.
func (p *Params) set(key string, v any) {
	if p.m == nil {
		p.m = make(map[string]any)
	}
	p.m[key] = v
}

// Query is the query string's value of k, whatever the body said.
func (p *Params) Query(k string) string { return p.q.Get(k) }

// QueryParams are the query string's parameters alone; the body is left
// for the handler (uploads, and calls that keep the body as sent).
func QueryParams(r *http.Request) *Params {
	return &Params{q: r.URL.Query()}
}

// NewParams wraps a decoded JSON object.
func NewParams(m map[string]any) *Params {
	if m == nil {
		m = map[string]any{}
	}
	return &Params{m: m}
}

// ReadParams merges query parameters with the body's; body values win.
func ReadParams(r *http.Request) (*Params, error) {
	p := QueryParams(r)
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		r.Body = http.MaxBytesReader(nil, r.Body, MaxBody)
		if err := r.ParseMultipartForm(MaxBody); err != nil {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "multipart body does not parse: %v", err)
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p.set(k, v[0])
			}
		}
		return p, nil
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if IsForm(r.Header.Get("Content-Type"), body) {
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "form body does not parse: %v", err)
		}
		for k, v := range vs {
			if len(v) > 0 {
				p.set(k, v[0])
			}
		}
		return p, nil
	}
	// JSON, whatever the label says: clients send it as text/plain, without
	// a type, or (curl -d) labelled as a form
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	if !utf8.Valid(body) {
		return nil, errNotUTF8
	}
	var obj map[string]any
	if err := decodeJSON(body, &obj); err != nil || obj == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object: %s", jsonProblem(err))
	}
	p.m = obj // the query's values stay under the body's
	return p, nil
}

// IsForm reports whether a body labelled contentType is read as a form. A
// body that opens with "{" is JSON whatever its label: curl -d sends JSON as
// application/x-www-form-urlencoded, and no form field name starts with "{".
func IsForm(contentType string, body []byte) bool {
	ct, _, _ := mime.ParseMediaType(contentType)
	if ct != "application/x-www-form-urlencoded" {
		return false
	}
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) == 0 || t[0] != '{'
}

// jsonProblem says where a body stopped being a JSON object.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "it is null"
	case errors.As(err, &syn):
		return fmt.Sprintf("%v at byte %d", syn, syn.Offset)
	case errors.As(err, &typ):
		return "it is a JSON " + typ.Value
	}
	return err.Error()
}

// ReadJSON decodes a JSON object body into params (the v1.0 surface).
func ReadJSON(r *http.Request) (*Params, error) {
	p := &Params{m: map[string]any{}}
	if r.Body == nil {
		return p, nil
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return p, nil // some clients serialise an absent body as null
	}
	if !utf8.Valid(body) {
		return nil, errNotUTF8
	}
	if err := decodeJSON(body, &p.m); err != nil || p.m == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not a JSON object: %s", jsonProblem(err))
	}
	return p, nil
}

// errNotUTF8 refuses a JSON body with bytes that are not UTF-8: decoding
// would silently turn them into U+FFFD and store something nobody sent.
var errNotUTF8 = ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not UTF-8 text")

func readBody(r *http.Request) ([]byte, error) { return ReadBody(r, MaxBody) }

// ReadBody is the one bounded body reader: a body over max bytes is a
// TooLarge error that says the limit.
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	return ReadBodyOr(r, max, ding.ReasonMalformedBody)
}

// ReadBodyOr is ReadBody for an endpoint where DingTalk names an oversized
// body with a reason of its own (chat/send's 34016, say): the error is
// TooLarge either way, and the reason decides the wire answer.
func ReadBodyOr(r *http.Request, max int64, tooBig ding.Reason) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if wb, ok := r.Body.(*WholeBody); ok {
		if b, ok := wb.take(); ok {
			if int64(len(b)) > max {
				return nil, ding.Errorf(ding.TooLarge, tooBig, "body exceeds %d bytes", max)
			}
			return b, nil
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, ding.Errorf(ding.TooLarge, tooBig, "body exceeds %d bytes", max)
	}
	if err != nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body could not be read")
	}
	return b, nil
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// textJSON parses text that holds a JSON array or object: form bodies and
// query strings carry lists and nested messages that way.
func textJSON(s string, open, close byte) (any, bool) {
	t := strings.TrimSpace(s)
	if !utf8.ValidString(t) || len(t) < 2 || t[0] != open || t[len(t)-1] != close {
		return nil, false
	}
	var v any
	if decodeJSON([]byte(t), &v) != nil {
		return nil, false
	}
	return v, true
}

func invalid(key, want string) error {
	return ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "parameter %s must be %s", key, want)
}

// Has reports whether key was sent with a non-null value.
func (p *Params) Has(key string) bool {
	v, ok := p.get(key)
	return ok && v != nil
}

// Raw returns the decoded value of key (nil when absent).
func (p *Params) Raw(key string) any { return p.value(key) }

// String returns key as text; numbers are accepted in their JSON spelling.
func (p *Params) String(key string) (string, error) {
	switch v := p.value(key).(type) {
	case nil:
		return "", nil
	case string:
		if !utf8.ValidString(v) { // a query or form value: decoded bytes, not checked yet
			return "", invalid(key, "UTF-8 text")
		}
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", invalid(key, "a string")
}

// OptString is String with absence kept apart from "".
func (p *Params) OptString(key string) (*string, error) {
	if !p.Has(key) {
		return nil, nil
	}
	s, err := p.String(key)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Int returns key as an integer; numeric strings are accepted. nil when absent.
func (p *Params) Int(key string) (*int, error) {
	var s string
	switch v := p.value(key).(type) {
	case nil:
		return nil, nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return nil, nil // the Java SDK sends unset numbers as ""
		}
	default:
		return nil, invalid(key, "an integer")
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) || f > 1<<31-1 || f < -(1<<31) {
			return nil, invalid(key, "an integer")
		}
		n = int64(f)
	}
	i := int(n)
	return &i, nil
}

// Int64 is Int for 64-bit values such as cursors. nil when absent.
func (p *Params) Int64(key string) (*int64, error) {
	var s string
	switch v := p.value(key).(type) {
	case nil:
		return nil, nil
	case json.Number:
		s = v.String()
	case string:
		if s = strings.TrimSpace(v); s == "" {
			return nil, nil
		}
	default:
		return nil, invalid(key, "an integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, invalid(key, "an integer")
	}
	return &n, nil
}

// Bool returns key as a boolean; "true"/"false" and 1/0 are accepted. nil when absent.
func (p *Params) Bool(key string) (*bool, error) {
	var b bool
	switch v := p.value(key).(type) {
	case nil:
		return nil, nil
	case bool:
		b = v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1":
			b = true
		case "false", "0":
			b = false
		case "":
			return nil, nil
		default:
			return nil, invalid(key, "a boolean")
		}
	case json.Number:
		switch v.String() {
		case "1":
			b = true
		case "0":
			b = false
		default:
			return nil, invalid(key, "a boolean")
		}
	default:
		return nil, invalid(key, "a boolean")
	}
	return &b, nil
}

// Strings returns key as a list of ids: a JSON array (of strings or numbers),
// or text holding a JSON array or comma-separated ids. nil when absent.
func (p *Params) Strings(key string) ([]string, error) {
	switch v := p.value(key).(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return []string{}, nil
		}
		if !utf8.ValidString(v) {
			return nil, invalid(key, "UTF-8 text")
		}
		if list, ok := textJSON(v, '[', ']'); ok {
			return (&Params{m: map[string]any{key: list}}).Strings(key)
		}
		parts := strings.Split(v, ",")
		out := make([]string, 0, len(parts))
		for _, s := range parts {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case json.Number:
				out = append(out, e.String())
			default:
				return nil, invalid(key, "a list of strings")
			}
		}
		return out, nil
	}
	return nil, invalid(key, "a list of strings")
}

// Object returns key as a JSON object; nil when absent.
func (p *Params) Object(key string) (*Params, error) {
	switch v := p.value(key).(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return &Params{m: v}, nil
	case string:
		if obj, ok := textJSON(v, '{', '}'); ok {
			if m, ok := obj.(map[string]any); ok {
				return &Params{m: m}, nil
			}
		}
	}
	return nil, invalid(key, "an object")
}

// WholeBody is a request body already read whole, to its declared length,
// by a middleware that needed to look at it. Its bytes are shared with that
// middleware (the request log keeps them): readers must not modify them.
type WholeBody struct {
	r    bytes.Reader
	b    []byte
	rest io.ReadCloser // the connection's body, read to its end; closed with this one
}

// NewWholeBody wraps b, the whole of rest's content.
func NewWholeBody(b []byte, rest io.ReadCloser) *WholeBody {
	w := &WholeBody{b: b, rest: rest}
	w.r.Reset(b)
	return w
}

func (w *WholeBody) Read(p []byte) (int, error) { return w.r.Read(p) }
func (w *WholeBody) Close() error               { return w.rest.Close() }

// take returns the bytes when nothing has been read yet, and leaves the
// body read to its end, as reading it would.
func (w *WholeBody) take() ([]byte, bool) {
	if w.r.Len() != len(w.b) {
		return nil, false
	}
	w.r.Reset(nil)
	return w.b[:len(w.b):len(w.b)], true
}
