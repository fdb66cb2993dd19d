package servertest

import (
	"encoding/json"
	"strings"

	"github.com/dingchat/dingchat/internal/dingtest"
)

// Users is a JSON array of numbered users from..from+n-1.
func Users(from, n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = dingtest.UserID(from + i)
	}
	return JSONText(ids)
}

// Exts is a JSON array of numbered external contacts from..from+n-1.
func Exts(from, n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = dingtest.ExtID(from + i)
	}
	return JSONText(ids)
}

// JSONText marshals v (maps with sorted keys); it panics on what cannot be.
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// CJK is a name of n CJK characters (3 bytes each in UTF-8).
func CJK(n int) string { return strings.Repeat("群", n) }

// Emoji is a name of n emoji (4 bytes in UTF-8, 2 UTF-16 units each).
func Emoji(n int) string { return strings.Repeat("🎉", n) }
