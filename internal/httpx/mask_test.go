package httpx

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, s := range []string{"my-app-secret", "e2e-secret-0000000001", "adm0123456789abcdef0123456789abcdef"} {
		m := Mask(s)
		if strings.Contains(m, s[4:]) || m == s {
			t.Errorf("Mask(%q) = %q shows the secret", s, m)
		}
	}
	if got := Mask(""); got != "" {
		t.Errorf("Mask(\"\") = %q", got)
	}
}

func TestRedactQuery(t *testing.T) {
	got := RedactQuery("access_token=abc123&chatid=chat1&appsecret=s3cr3t&Sign=xyz")
	for _, s := range []string{"abc123", "s3cr3t", "xyz"} {
		if strings.Contains(got, s) {
			t.Errorf("RedactQuery left %q in %q", s, got)
		}
	}
	if !strings.Contains(got, "chatid=chat1") {
		t.Errorf("RedactQuery dropped a plain parameter: %q", got)
	}
	if got := RedactQuery("chatid=chat1"); got != "chatid=chat1" {
		t.Errorf("RedactQuery(no secrets) = %q", got)
	}
}
