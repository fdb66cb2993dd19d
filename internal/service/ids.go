package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
)

// RandomIDs mints identifiers shaped like DingTalk's from crypto/rand.
type RandomIDs struct{}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// ChatID and OpenConversationID begin with the time in milliseconds (6
// bytes, then 10 random), as MessageID does: the groups made close in time
// then sit side by side wherever an index orders rows by them (the groups'
// keys, their members' rows, and within each member's range of the index
// of a member's groups), so a commit of a batch of creates rewrites the
// rightmost pages of those ranges instead of one page per group and per
// member.
func (RandomIDs) ChatID() string { return "chat" + hex.EncodeToString(timedBytes(16)) }

func (RandomIDs) OpenConversationID() string {
	return "cid" + base64.StdEncoding.EncodeToString(timedBytes(16))
}

// timedBytes is n random bytes whose first 6 are the time in milliseconds,
// big-endian.
func timedBytes(n int) []byte {
	b := randomBytes(n)
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(time.Now().UnixMilli()))
	copy(b[:6], t[2:])
	return b
}

func (RandomIDs) Token() string { return hex.EncodeToString(randomBytes(16)) }

// MessageID begins with the time in milliseconds (6 bytes, then 6 random):
// the messages stored close in time then sit side by side in the stores'
// index of ids, so a commit of a batch of sends rewrites a page or two of
// that index instead of one page per message.
func (RandomIDs) MessageID() string {
	return "msg" + base64.StdEncoding.EncodeToString(timedBytes(12))
}

func (RandomIDs) MediaID() string { return "@" + base64.RawURLEncoding.EncodeToString(randomBytes(15)) }

// RequestID is 16 random bytes as upper-case hex in 8-4-4-4-12 groups,
// written straight into the string (every call is given one).
func (RandomIDs) RequestID() string {
	const digits = "0123456789ABCDEF"
	var src [16]byte
	rand.Read(src[:])
	var out [36]byte
	j := 0
	for i, c := range src {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = digits[c>>4], digits[c&0xf]
		j += 2
	}
	return string(out[:])
}

// SequentialIDs mints predictable identifiers of the same shapes, for golden tests.
type SequentialIDs struct{ n atomic.Int64 }

func (s *SequentialIDs) next() int64 { return s.n.Add(1) }

func (s *SequentialIDs) ChatID() string { return fmt.Sprintf("chat%032x", s.next()) }

func (s *SequentialIDs) OpenConversationID() string {
	return "cid" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%016d", s.next())))
}

func (s *SequentialIDs) Token() string { return fmt.Sprintf("%032x", s.next()) }

// DeriveToken keeps access tokens predictable: the salt is the token. Only
// for tests: the real derivation needs the issuer's secret.
func (s *SequentialIDs) DeriveToken(_, _, salt string) string { return salt }

func (s *SequentialIDs) MessageID() string {
	return "msg" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%012d", s.next())))
}

func (s *SequentialIDs) MediaID() string {
	return "@" + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%015d", s.next())))
}

func (s *SequentialIDs) RequestID() string {
	return fmt.Sprintf("00000000-0000-0000-0000-%012X", s.next())
}
