package callback

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"testing"
)

// rawDecrypt is the padded plaintext of encrypt.
func (c *Crypto) rawDecrypt(t *testing.T, encrypt string) []byte {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(c.key)
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(out, ct)
	return out
}
