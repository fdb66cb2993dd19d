package httpx

import (
	"net/url"
	"strconv"
	"strings"
)

// Mask shows enough of a secret to tell two apart, never enough to use it:
// the first four characters of a long secret and its length.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	n := len([]rune(secret))
	if n < 16 {
		return "****** (" + strconv.Itoa(n) + " chars)"
	}
	return string([]rune(secret)[:4]) + "…****** (" + strconv.Itoa(n) + " chars)"
}

// secretParams are the query parameters that carry credentials on
// DingTalk's APIs.
var secretParams = []string{"access_token", "appsecret", "corpsecret", "suite_access_token", "suiteSecret",
	"suite_secret", "permanent_code", "suiteTicket", "suite_ticket", "sign", "signature", "token", "code"}

// RedactQuery returns rawQuery with every credential parameter's value
// replaced by "…", for logs.
func RedactQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "…"
	}
	changed := false
	for k := range q {
		for _, s := range secretParams {
			if strings.EqualFold(k, s) {
				q[k] = []string{"…"}
				changed = true
			}
		}
	}
	if !changed {
		return rawQuery
	}
	return q.Encode()
}
