package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// needCurl skips a test that sends requests exactly as curl sends them.
func needCurl(t *testing.T) string {
	t.Helper()
	needBinary(t)
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the documents' curl commands are not tried")
	}
	return path
}

// shellWords splits a command line the way a POSIX shell would for the
// commands the documents show: single and double quotes, backslash escapes
// and line continuations; no expansions.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++ // line continuation
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i++
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++ // a comment runs to the end of the line
			}
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// curlAnswer is what curl received.
type curlAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// errcode is the legacy errcode of the body, -999 when it has none.
func (a curlAnswer) errcode() int {
	var b struct {
		Errcode *int `json:"errcode"`
	}
	if json.Unmarshal(a.Body, &b) != nil || b.Errcode == nil {
		return -999
	}
	return *b.Errcode
}

func (a curlAnswer) reason() string { return a.Header.Get("X-DingChat-Reason") }

func (a curlAnswer) String() string {
	return fmt.Sprintf("HTTP %d, X-DingChat-Reason %q, body %s", a.Status, a.reason(), a.Body)
}

// runCurl runs curl with args (a document's arguments, placeholders filled)
// and reads the last response it printed; -sS -i are added in front, which
// change what curl shows, not what it sends.
func runCurl(t *testing.T, curl string, args []string) curlAnswer {
	t.Helper()
	cmd := exec.Command(curl, append([]string{"-sS", "-i"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %q: %v: %s", args, err, errb.String())
	}
	raw := out.Bytes()
	var a curlAnswer
	// with --location curl prints every response; the last one counts
	for {
		head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("curl %q printed no HTTP response: %q", args, raw)
		}
		lines := strings.Split(string(head), "\r\n")
		fields := strings.Fields(lines[0])
		if len(fields) < 2 {
			t.Fatalf("curl %q: bad status line %q", args, lines[0])
		}
		a.Status, _ = strconv.Atoi(fields[1])
		a.Header = http.Header{}
		for _, l := range lines[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok {
				a.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		a.Body = body
		if !bytes.HasPrefix(body, []byte("HTTP/")) {
			return a
		}
		raw = body
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords("curl -X POST 'http://h/x?a=1&b=2' \\\n     -H \"A: \\\"q\\\"\" -d '{\"k\":\"v w\"}' a\\ b")
	want := []string{"curl", "-X", "POST", "http://h/x?a=1&b=2", "-H", `A: "q"`, "-d", `{"k":"v w"}`, "a b"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("shellWords = %q, %v; want %q", got, err, want)
	}
}
