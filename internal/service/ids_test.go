package service_test

import (
	"encoding/base64"
	"encoding/binary"
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
