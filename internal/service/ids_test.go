package service_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/service"
)

// A message id keeps DingTalk's shape and begins with the time it was made
// (so that a batch's messages sit together in the stores' index of ids);
// the rest is random: ids made in the same millisecond still differ.
func TestMessageIDStartsWithTime(t *testing.T) {
	before := time.Now().UnixMilli()
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		id := service.RandomIDs{}.MessageID()
		if len(id) != 3+16 || id[:3] != "msg" {
			t.Fatalf("id %q: want msg and 16 base64 characters", id)
		}
		b, err := base64.StdEncoding.DecodeString(id[3:])
		if err != nil || len(b) != 12 {
			t.Fatalf("id %q: %d bytes, %v", id, len(b), err)
		}
		var ms [8]byte
		copy(ms[2:], b[:6])
		if at := int64(binary.BigEndian.Uint64(ms[:])); at < before || at > time.Now().UnixMilli() {
			t.Fatalf("id %q begins with %d, want a time from %d to now", id, at, before)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
}

// A request id is an upper-case UUID-shaped string of random hex.
func TestRequestIDShape(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	seen := map[string]bool{}
	digits := map[rune]bool{}
	for i := 0; i < 1000; i++ {
		id := service.RandomIDs{}.RequestID()
		if !re.MatchString(id) {
			t.Fatalf("request id %q is not an upper-case UUID", id)
		}
		if seen[id] {
			t.Fatalf("request id %q made twice", id)
		}
		seen[id] = true
		for _, r := range id {
			digits[r] = true
		}
	}
	if len(digits) != 17 { // 16 hex digits and the dash
		t.Fatalf("request ids use %d distinct characters, want all 16 hex digits and '-'", len(digits))
	}
}

// A chatid and an openConversationId keep DingTalk's shapes and begin with
// the time they were made (so that the groups made together, and their
// members' rows, sit together in the stores' indexes); the other 10 bytes
// are random: ids made in the same millisecond still differ.
func TestGroupIDsStartWithTime(t *testing.T) {
	chatRe := regexp.MustCompile(`^chat[0-9a-f]{32}$`)
	before := time.Now().UnixMilli()
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		chat, open := service.RandomIDs{}.ChatID(), service.RandomIDs{}.OpenConversationID()
		if !chatRe.MatchString(chat) {
			t.Fatalf("chatid %q: want chat and 32 lowercase hex digits", chat)
		}
		cb, err := hex.DecodeString(chat[4:])
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 3+24 || open[:3] != "cid" {
			t.Fatalf("openConversationId %q: want cid and 24 base64 characters", open)
		}
		ob, err := base64.StdEncoding.DecodeString(open[3:])
		if err != nil || len(ob) != 16 {
			t.Fatalf("openConversationId %q: %d bytes, %v", open, len(ob), err)
		}
		for _, b := range [][]byte{cb, ob} {
			var ms [8]byte
			copy(ms[2:], b[:6])
			if at := int64(binary.BigEndian.Uint64(ms[:])); at < before || at > time.Now().UnixMilli() {
				t.Fatalf("id %x begins with %d, want a time from %d to now", b, at, before)
			}
		}
		if seen[chat] || seen[open] {
			t.Fatalf("%q or %q made twice", chat, open)
		}
		seen[chat], seen[open] = true, true
	}
}
