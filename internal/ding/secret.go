package ding

import (
	"crypto/sha256"
	"encoding/hex"
)

// SecretHash is how a bearer secret is kept at rest: the hex SHA-256 of its
// value. Only secrets with enough entropy (minted from crypto/rand, or held
// to a minimum length) are kept this way, so a fast hash is enough; secrets
// that sign (app, suite and webhook secrets) stay recoverable instead.
func SecretHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
