package storetest

import (
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

const ttl = ding.TokenTTL * 1000 // ms

func freshToken(value, appKey, corpID string, now int64) ding.Token {
	// stores see only the hash; the value here stands in for one
	return ding.Token{Hash: value, Salt: "salt-" + value, KeyID: "key1", AppKey: appKey, CorpID: corpID, CreatedAt: now, ExpiresAt: now + ttl}
}

func issue(t *testing.T, st ding.Store, fresh ding.Token, now int64) *ding.Token {
	t.Helper()
	got, err := st.IssueToken(ctx(), fresh, now)
	noErr(t, err, "IssueToken")
	if got == nil {
		t.Fatalf("IssueToken = nil, nil")
	}
	return got
}

func wantToken(t *testing.T, st ding.Store, want ding.Token) {
	t.Helper()
	got, err := st.Token(ctx(), want.Hash)
	noErr(t, err, "Token "+want.Hash)
	if *got != want {
		t.Fatalf("Token(%s) = %+v, want %+v", want.Hash, *got, want)
	}
}

func testTokenRenewedWhileValid(t *testing.T, st ding.Store) {
	seed(t, st)
	first := freshToken("token-a1-1", appA1, corpA, t0)
	got := issue(t, st, first, t0)
	if *got != first {
		t.Fatalf("IssueToken(first) = %+v, want %+v", *got, first)
	}
	wantToken(t, st, first)

	// one millisecond before expiry the same token comes back, renewed
	now := first.ExpiresAt - 1
	got = issue(t, st, freshToken("token-a1-2", appA1, corpA, now), now)
	renewed := first
	renewed.ExpiresAt = now + ttl
	if *got != renewed {
		t.Fatalf("IssueToken(while valid) = %+v, want %+v", *got, renewed)
	}
	wantToken(t, st, renewed)
	_, err := st.Token(ctx(), "token-a1-2")
	wantKind(t, err, ding.NotFound, "Token(fresh value not stored)")

	// and renewal continues past the first token's original lifetime
	now = renewed.ExpiresAt - 1000
	got = issue(t, st, freshToken("token-a1-3", appA1, corpA, now), now)
	if got, want := got.Hash, first.Hash; got != want {
		t.Fatalf("IssueToken(second renewal).Hash = %q, want %q", got, want)
	}
	if got, want := got.ExpiresAt, now+ttl; got != want {
		t.Fatalf("IssueToken(second renewal).ExpiresAt = %d, want %d", got, want)
	}
}

func testTokenNewAfterExpiry(t *testing.T, st ding.Store) {
	seed(t, st)
	first := freshToken("token-a1-1", appA1, corpA, t0)
	issue(t, st, first, t0)

	// at the expiry instant the token is no longer valid: a new one is stored
	now := first.ExpiresAt
	second := freshToken("token-a1-2", appA1, corpA, now)
	got := issue(t, st, second, now)
	if *got != second {
		t.Fatalf("IssueToken(after expiry) = %+v, want %+v", *got, second)
	}
	wantToken(t, st, second)
	wantToken(t, st, first) // an expired token is still known, unchanged

	// the new one is the one renewed from now on
	now += 5000
	got = issue(t, st, freshToken("token-a1-3", appA1, corpA, now), now)
	if got, want := got.Hash, second.Hash; got != want {
		t.Fatalf("IssueToken(after new).Hash = %q, want %q", got, want)
	}
	wantToken(t, st, first)
}

func testTokenPerApp(t *testing.T, st ding.Store) {
	seed(t, st)
	a1 := freshToken("token-a1", appA1, corpA, t0)
	a2 := freshToken("token-a2", appA2, corpA, t0+10)
	b1 := freshToken("token-b1", appB1, corpB, t0+20)
	for _, tok := range []ding.Token{a1, a2, b1} {
		if got := issue(t, st, tok, tok.CreatedAt); *got != tok {
			t.Fatalf("IssueToken(%s) = %+v, want %+v", tok.AppKey, *got, tok)
		}
	}
	// each app renews its own token and leaves the others alone
	now := t0 + 60000
	got := issue(t, st, freshToken("token-a2-again", appA2, corpA, now), now)
	if got, want := got.Hash, a2.Hash; got != want {
		t.Fatalf("IssueToken(a2 again).Hash = %q, want %q", got, want)
	}
	a2.ExpiresAt = now + ttl
	wantToken(t, st, a1)
	wantToken(t, st, a2)
	wantToken(t, st, b1)
}

// A token minted under another secret (another KeyID) is not handed out
// again: a fresh one is stored, and the old one stays valid until it expires.
func testTokenOtherKeyNotRenewed(t *testing.T, st ding.Store) {
	seed(t, st)
	first := freshToken("token-a1-1", appA1, corpA, t0)
	issue(t, st, first, t0)
	now := t0 + 1000
	second := freshToken("token-a1-2", appA1, corpA, now)
	second.KeyID = "key2"
	if got := issue(t, st, second, now); *got != second {
		t.Fatalf("IssueToken(other key) = %+v, want %+v", *got, second)
	}
	wantToken(t, st, first)
	wantToken(t, st, second)
	// old-format rows (no key) are never renewed either
	legacy := freshToken("token-a2-legacy", appA2, corpA, t0)
	legacy.KeyID, legacy.Salt = "", ""
	if got := issue(t, st, legacy, t0); *got != legacy {
		t.Fatalf("IssueToken(legacy) = %+v", *got)
	}
	next := freshToken("token-a2-next", appA2, corpA, now)
	if got := issue(t, st, next, now); got.Hash != next.Hash {
		t.Fatalf("IssueToken(after legacy).Hash = %q, want the fresh %q", got.Hash, next.Hash)
	}
}
