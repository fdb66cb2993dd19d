package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The sniffer reads the code from the start of the answer, however the
// handler split its writes, and never from past its first sniffLen bytes.
func TestSnifferCode(t *testing.T) {
	cases := []struct {
		name   string
		status int
		writes []string
		want   string
	}{
		{"legacy ok", 200, []string{`{"errcode":0,"errmsg":"ok"}`}, "0"},
		{"legacy refusal split", 200, []string{`{"errco`, `de":400`, `14,"errmsg":"x"}`}, "40014"},
		{"negative", 200, []string{`{"errcode":-1,"errmsg":"busy"}`}, "-1"},
		{"v1 error", 400, []string{`{"code":"InvalidAuthentication","message":"m"}`}, "InvalidAuthentication"},
		{"v1 code on a success is no error", 200, []string{`{"code":"x"}`}, ""},
		{"errcode cut at the end of the head", 200, []string{strings.Repeat(" ", sniffLen-12) + `{"errcode":12345}`}, ""},
		{"errcode past the head", 200, []string{strings.Repeat(" ", sniffLen), `{"errcode":7,"errmsg":""}`}, ""},
		{"no body", 204, nil, ""},
	}
	for _, c := range cases {
		s := &sniffer{ResponseWriter: httptest.NewRecorder()}
		s.WriteHeader(c.status)
		for _, w := range c.writes {
			if _, err := s.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.code(c.status); got != c.want {
			t.Errorf("%s: code %q, want %q", c.name, got, c.want)
		}
	}
}
