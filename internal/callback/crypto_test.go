package callback

import (
	"bytes"
	"testing"
)

// DingTalk's published vectors (api-reference §8.3).
func TestCryptoVectors(t *testing.T) {
	for _, v := range []struct {
		name, token, aesKey, owner, ts, nonce, sig, encrypt, plain string
	}{
		{"check_url", "mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b", "1608001896814", "WL4PK6yA",
			"03044561471240d4a14bb09372dfcfd4fd0e40cb",
			"0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
			`{"EventType":"check_url"}`},
		{"success", "tokenxxxx", "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus", "dingxxxxxx", "1605695694141", "WelUQl6bCqcBa2fM",
			"f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc",
			"X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==",
			"success"},
	} {
		t.Run(v.name, func(t *testing.T) {
			c, err := New(v.token, v.aesKey, v.owner)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Sign(v.ts, v.nonce, v.encrypt); got != v.sig {
				t.Fatalf("signature = %s, want %s", got, v.sig)
			}
			msg, owner, err := c.Decrypt(v.encrypt)
			if err != nil {
				t.Fatal(err)
			}
			if string(msg) != v.plain || owner != v.owner {
				t.Fatalf("decrypt = %q owner %q, want %q owner %q", msg, owner, v.plain, v.owner)
			}
			// the same random block reproduces DingTalk's ciphertext byte for byte
			random := c.randomOf(t, v.encrypt)
			if got := c.encryptWith(random, []byte(v.plain)); got != v.encrypt {
				t.Fatalf("encrypt = %s, want %s", got, v.encrypt)
			}
		})
	}
}

// randomOf recovers the random block of a ciphertext.
func (c *Crypto) randomOf(t *testing.T, encrypt string) []byte {
	t.Helper()
	msg, _, err := c.Decrypt(encrypt)
	if err != nil {
		t.Fatal(err)
	}
	// decrypt again, keeping the first 16 bytes
	full := c.rawDecrypt(t, encrypt)
	if !bytes.Contains(full, msg) {
		t.Fatal("plaintext lost")
	}
	return full[:16]
}

// The third vector of the docs gives no ciphertext: its token, key and
// suite key make a round trip, and its signature formula is checked against
// a ciphertext of our own.
func TestCryptoSuiteRoundTrip(t *testing.T) {
	c, err := New("123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx")
	if err != nil {
		t.Fatal(err)
	}
	plain := `{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}`
	enc, err := c.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	msg, owner, err := c.Decrypt(enc)
	if err != nil || string(msg) != plain || owner != "suite4xxxxxxxxxxxxxxx" {
		t.Fatalf("round trip = %q %q %v", msg, owner, err)
	}
	if got := len(c.rawDecrypt(t, enc)) % 32; got != 0 {
		t.Fatalf("padded plaintext is %d mod 32, want 0", got)
	}
}

func TestCryptoRejects(t *testing.T) {
	for _, k := range []string{"", "short", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7x", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ec!7"} {
		if _, err := New("t", k, "o"); err == nil {
			t.Errorf("aes_key %q accepted", k)
		}
	}
	c, _ := New("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b")
	for _, enc := range []string{"", "not base64!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=="} {
		if _, _, err := c.Decrypt(enc); err == nil {
			t.Errorf("Decrypt(%q) succeeded", enc)
		}
	}
}
