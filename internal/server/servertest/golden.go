package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
)

// Placeholders stand for the per-request ids in golden files; their shape
// is checked before they are replaced.
const (
	V1RequestID     = "<requestid>"
	TopAPIRequestID = "<request_id>"
)

var (
	v1IDField  = regexp.MustCompile(`"requestid":"([^"]*)"`)
	topIDField = regexp.MustCompile(`"request_id":"([^"]*)"`)
	v1IDShape  = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	topIDShape = regexp.MustCompile(`^[0-9a-z]{13}$`)
)

// golden is the file form of a response. Body is the response body
// re-indented byte for byte (key order, number spelling and escapes kept);
// BodyText holds a body that is not JSON.
type golden struct {
	Status      int             `json:"status"`
	ContentType string          `json:"content_type"`
	Body        json.RawMessage `json:"body,omitempty"`
	BodyText    *string         `json:"body_text,omitempty"`
}

// normalize checks the shape of request ids and replaces them with
// placeholders; it fails t on a malformed id.
func normalize(t testing.TB, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return body
	}
	b := buf.Bytes()
	b = v1IDField.ReplaceAllFunc(b, func(m []byte) []byte {
		if id := v1IDField.FindSubmatch(m)[1]; !v1IDShape.Match(id) {
			t.Errorf("requestid %q is not an upper-case UUID", id)
		}
		return []byte(`"requestid":"` + V1RequestID + `"`)
	})
	b = topIDField.ReplaceAllFunc(b, func(m []byte) []byte {
		if id := topIDField.FindSubmatch(m)[1]; !topIDShape.Match(id) {
			t.Errorf("request_id %q is not 13 lowercase base36 characters", id)
		}
		return []byte(`"request_id":"` + TopAPIRequestID + `"`)
	})
	return b
}

func encodeGolden(g golden) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"status\": %d,\n  \"content_type\": ", g.Status)
	ct, _ := json.Marshal(g.ContentType)
	buf.Write(ct)
	if g.Body != nil {
		buf.WriteString(",\n  \"body\": ")
		json.Indent(&buf, g.Body, "  ", "  ")
	} else {
		buf.WriteString(",\n  \"body_text\": ")
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(*g.BodyText)
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString("\n}\n")
	return buf.Bytes()
}

func decodeValue(b []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	err := d.Decode(&v)
	return v, err
}

func pretty(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}

// Golden compares the whole response (status, Content-Type, body) with
// testdata/<name>.json, or rewrites that file when update is set. Bodies are
// compared as values first and then byte for byte in compact form, so a
// reordered key or a number sent as a string fails too.
func Golden(t testing.TB, name string, resp *Response, update bool) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name)+".json")
	got := golden{Status: resp.Status, ContentType: resp.ContentType()}
	body := normalize(t, resp.Body)
	if json.Valid(body) {
		got.Body = body
	} else {
		s := string(resp.Body)
		got.BodyText = &s
	}
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, encodeGolden(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	var want golden
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("golden file %s: %v", path, err)
	}
	if got.Status != want.Status {
		t.Errorf("status = %d, want %d (%s)", got.Status, want.Status, path)
	}
	if got.ContentType != want.ContentType {
		t.Errorf("Content-Type = %q, want %q (%s)", got.ContentType, want.ContentType, path)
	}
	switch {
	case want.BodyText != nil || got.BodyText != nil:
		if want.BodyText == nil || got.BodyText == nil || *want.BodyText != *got.BodyText {
			t.Errorf("body = %q, want golden %s", resp.Body, path)
		}
	default:
		var wantCompact bytes.Buffer
		if err := json.Compact(&wantCompact, want.Body); err != nil {
			t.Fatalf("golden body %s: %v", path, err)
		}
		gv, _ := decodeValue(got.Body)
		wv, _ := decodeValue(wantCompact.Bytes())
		if !reflect.DeepEqual(gv, wv) {
			t.Errorf("body differs from %s\ngot:\n%s\nwant:\n%s", path, pretty(got.Body), pretty(wantCompact.Bytes()))
		} else if !bytes.Equal(got.Body, wantCompact.Bytes()) {
			t.Errorf("body equals %s as a value but not byte for byte (key order, escapes or number spelling)\ngot:  %s\nwant: %s",
				path, got.Body, wantCompact.Bytes())
		}
	}
}

// Case is one row of an HTTP behaviour table.
type Case struct {
	Name    string
	Setup   func(e *Env) // runs on the fresh server before the request
	Method  string
	Path    string
	Header  map[string]string
	Body    string
	Chunked bool
	Status  int    // the wanted HTTP status
	Golden  string // testdata/<Golden>.json; "" checks the status only
	// Check runs extra assertions after the golden comparison.
	Check func(t *testing.T, e *Env, resp *Response)
}

// Run runs each case on a fresh server, in parallel. A failing call must
// change nothing: the event log must not grow and, when Setup made a group,
// chat/get must answer the same bytes before and after.
func Run(t *testing.T, cases []Case, update bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if c.Golden != "" {
			if seen[c.Golden] {
				t.Fatalf("golden file %s used by two cases", c.Golden)
			}
			seen[c.Golden] = true
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			e := New(t)
			if c.Setup != nil {
				c.Setup(e)
			}
			events := e.Events()
			var before *Response
			if id, ok := e.Vars["chatid"]; ok {
				before = e.ChatGet(id)
			}
			resp := e.Do(Request{Method: c.Method, Path: c.Path, Header: c.Header, Body: c.Body, Chunked: c.Chunked})
			if c.Status != 0 && resp.Status != c.Status {
				t.Errorf("status = %d, want %d; body %s", resp.Status, c.Status, resp.Body)
			}
			if resp.Status >= 500 {
				t.Errorf("HTTP %d for a client's request: %s", resp.Status, resp.Body)
			}
			if c.Golden != "" {
				Golden(t, c.Golden, resp, update)
			}
			if resp.Failed() {
				if n := e.Events(); n != events {
					t.Errorf("failed call wrote %d events", n-events)
				}
				if before != nil {
					after := e.ChatGet(e.Vars["chatid"])
					if !bytes.Equal(before.Body, after.Body) {
						t.Errorf("failed call changed the group\nbefore: %s\nafter:  %s", before.Body, after.Body)
					}
				}
			}
			if c.Check != nil {
				c.Check(t, e, resp)
			}
		})
	}
}

// Status is a shorthand for the statuses tables use.
const (
	OK         = http.StatusOK
	BadRequest = http.StatusBadRequest
	Forbidden  = http.StatusForbidden
	NotFound   = http.StatusNotFound
)
