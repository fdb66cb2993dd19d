package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
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

func (RandomIDs) ChatID() string { return "chat" + hex.EncodeToString(randomBytes(16)) }

func (RandomIDs) OpenConversationID() string {
	return "cid" + base64.StdEncoding.EncodeToString(randomBytes(16))
}

func (RandomIDs) Token() string { return hex.EncodeToString(randomBytes(16)) }

// MessageID begins with the time in milliseconds (6 bytes, then 6 random):
// the messages stored close in time then sit side by side in the stores'
// index of ids, so a commit of a batch of sends rewrites a page or two of
// that index instead of one page per message.
func (RandomIDs) MessageID() string {
	b := randomBytes(12)
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(time.Now().UnixMilli()))
	copy(b[:6], t[2:])
	return "msg" + base64.StdEncoding.EncodeToString(b)
}

func (RandomIDs) MediaID() string { return "@" + base64.RawURLEncoding.EncodeToString(randomBytes(15)) }

func (RandomIDs) RequestID() string {
	b := randomBytes(16)
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
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
