// Package callback pushes events to HTTP subscribers the way DingTalk does:
// AES-256-CBC encrypted, SHA1-signed, and acknowledged only by an encrypted
// "success".
package callback

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// blockPad is DingTalk's PKCS#7 block: its ciphertexts pad to 32 bytes,
// although AES's block is 16.
const blockPad = 32

// AESKeyLen is the length of an aes_key: base64 of 32 bytes without its "=".
const AESKeyLen = 43

// Crypto encrypts, decrypts and signs for one subscription.
type Crypto struct {
	token    string
	key      []byte // 32 bytes; the IV is its first 16
	ownerKey string // the trailing key: CorpId, AppKey or SuiteKey
}

// ErrAESKey is returned for an aes_key that is not 43 base64 characters.
var ErrAESKey = errors.New("aes_key must be 43 characters of [A-Za-z0-9+/] decoding to 32 bytes")

// ValidAESKey reports whether aesKey decodes to a 32-byte AES key.
func ValidAESKey(aesKey string) bool {
	_, err := decodeKey(aesKey)
	return err == nil
}

func decodeKey(aesKey string) ([]byte, error) {
	if len(aesKey) != AESKeyLen {
		return nil, ErrAESKey
	}
	k, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(k) != 32 {
		return nil, ErrAESKey
	}
	return k, nil
}

// New returns the crypto of token, aesKey and ownerKey.
func New(token, aesKey, ownerKey string) (*Crypto, error) {
	k, err := decodeKey(aesKey)
	if err != nil {
		return nil, err
	}
	return &Crypto{token: token, key: k, ownerKey: ownerKey}, nil
}

// Sign is DingTalk's signature: hex SHA1 of the four strings sorted.
func Sign(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	h := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(h[:])
}

// Sign signs encrypt with the subscription's token.
func (c *Crypto) Sign(timestamp, nonce, encrypt string) string {
	return Sign(c.token, timestamp, nonce, encrypt)
}

// Encrypt returns base64(AES-CBC(random ‖ len ‖ msg ‖ ownerKey)).
func (c *Crypto) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return c.encryptWith(random[:], msg), nil
}

func (c *Crypto) encryptWith(random, msg []byte) string {
	var buf bytes.Buffer
	buf.Write(random)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	buf.Write(n[:])
	buf.Write(msg)
	buf.WriteString(c.ownerKey)
	pad := blockPad - buf.Len()%blockPad
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	plain := buf.Bytes()
	block, _ := aes.NewCipher(c.key)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, c.key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// Decrypt opens encrypt and returns the message and the trailing key it
// carried. Any PKCS#7 pad of 1 to 32 bytes is accepted: DingTalk pads to
// 32, some receivers' libraries to 16.
func (c *Crypto) Decrypt(encrypt string) (msg []byte, ownerKey string, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", fmt.Errorf("encrypt is not base64: %w", err)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", errors.New("ciphertext is not a whole number of blocks")
	}
	block, _ := aes.NewCipher(c.key)
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockPad || pad > len(plain) {
		return nil, "", errors.New("bad padding")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, "", errors.New("bad padding")
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, "", errors.New("plaintext too short")
	}
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if n > len(plain)-20 {
		return nil, "", errors.New("message length exceeds the plaintext")
	}
	return plain[20 : 20+n], string(plain[20+n:]), nil
}
