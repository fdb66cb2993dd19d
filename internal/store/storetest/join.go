package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

const joinTTL = 7 * 24 * 3600 * 1000 // ms

func freshJoinCode(hash, chatID, sharer string, now int64) ding.JoinCode {
	// stores see only the hash; the value here stands in for one
	return ding.JoinCode{Hash: hash, Salt: "salt-" + hash, KeyID: "key1", CorpID: corpA, ChatID: chatID, Sharer: sharer,
		CreatedAt: now, ExpiresAt: now + joinTTL}
}

func issueJoin(t *testing.T, st ding.Store, fresh ding.JoinCode, validUntil int64) ding.JoinCode {
	t.Helper()
	got, err := st.IssueJoinCode(ctx(), fresh, validUntil)
	noErr(t, err, "IssueJoinCode "+fresh.Hash)
	if got == nil {
		t.Fatalf("IssueJoinCode = nil, nil")
	}
	return *got
}

func wantJoinCode(t *testing.T, st ding.Store, want ding.JoinCode) {
	t.Helper()
	got, err := st.JoinCode(ctx(), want.Hash)
	noErr(t, err, "JoinCode "+want.Hash)
	if *got != want {
		t.Fatalf("JoinCode(%s) = %+v, want %+v", want.Hash, *got, want)
	}
}

func joinGroup(t *testing.T, st ding.Store, chatID string) {
	t.Helper()
	g := testGroup(corpA, chatID, "cid-"+chatID, "入群码群")
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("zhangsan", ding.RoleMember, t0)}, nil)
}

// A sharer's code comes back while it is valid after validUntil; another
// sharer, another group or another key gets its own.
func testJoinCodeReused(t *testing.T, st ding.Store) {
	seed(t, st)
	joinGroup(t, st, "chatjoin1")
	joinGroup(t, st, "chatjoin2")
	const day = 24 * 3600 * 1000
	first := freshJoinCode("jc-1", "chatjoin1", "zhangsan", t0)
	if got := issueJoin(t, st, first, t0+day); got != first {
		t.Fatalf("IssueJoinCode(first) = %+v, want %+v", got, first)
	}
	wantJoinCode(t, st, first)

	// later, while more than validUntil is left: the same code, unchanged
	now := first.ExpiresAt - day - 1
	if got := issueJoin(t, st, freshJoinCode("jc-2", "chatjoin1", "zhangsan", now), now+day); got != first {
		t.Fatalf("IssueJoinCode(while valid) = %+v, want the first %+v", got, first)
	}
	_, err := st.JoinCode(ctx(), "jc-2")
	wantKind(t, err, ding.NotFound, "JoinCode(fresh hash not stored)")

	// another sharer, another group, another key: each its own
	for _, fresh := range []ding.JoinCode{
		freshJoinCode("jc-other-sharer", "chatjoin1", "manager4220", now),
		freshJoinCode("jc-other-group", "chatjoin2", "zhangsan", now),
		func() ding.JoinCode {
			c := freshJoinCode("jc-other-key", "chatjoin1", "zhangsan", now)
			c.KeyID = "key2"
			return c
		}(),
	} {
		if got := issueJoin(t, st, fresh, now+day); got != fresh {
			t.Fatalf("IssueJoinCode(%s) = %+v, want it stored", fresh.Hash, got)
		}
		wantJoinCode(t, st, fresh)
	}

	// once no more than validUntil is left, a fresh code; the first still works
	now = first.ExpiresAt - day
	renewed := freshJoinCode("jc-3", "chatjoin1", "zhangsan", now)
	if got := issueJoin(t, st, renewed, now+day); got != renewed {
		t.Fatalf("IssueJoinCode(near expiry) = %+v, want fresh %+v", got, renewed)
	}
	wantJoinCode(t, st, first)
	// and from then on the fresh one, the longest-lived, comes back
	if got := issueJoin(t, st, freshJoinCode("jc-4", "chatjoin1", "zhangsan", now+1), now+1+day); got != renewed {
		t.Fatalf("IssueJoinCode(after renewal) = %+v, want %+v", got, renewed)
	}

	// codes expired before a new one is issued are forgotten
	now = first.ExpiresAt
	issueJoin(t, st, freshJoinCode("jc-5", "chatjoin2", "manager4220", now), now+day)
	_, err = st.JoinCode(ctx(), first.Hash)
	wantKind(t, err, ding.NotFound, "JoinCode(expired)")
	wantJoinCode(t, st, renewed)
}

// Many asking at once for the same sharer's link all get one code. The
// first round also warms up a store's connections, so that the later ones
// really overlap.
func testJoinCodeConcurrent(t *testing.T, st ding.Store) {
	seed(t, st)
	joinGroup(t, st, "chatjoinrace")
	const n = 16
	for round, sharer := range []string{"zhangsan", "manager4220", "lisi"} {
		got := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c, err := st.IssueJoinCode(ctx(), freshJoinCode(fmt.Sprintf("jc-race-%d-%d", round, i), "chatjoinrace", sharer, t0), t0)
				errs[i] = err
				if c != nil {
					got[i] = c.Hash
				}
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			noErr(t, errs[i], "IssueJoinCode")
			if got[i] != got[0] {
				t.Fatalf("concurrent IssueJoinCode for %s handed out %q and %q", sharer, got[0], got[i])
			}
		}
	}
}

// OldJoinCode is the join code a store migrated from before join links were
// reused holds: stored by its hash, with neither salt nor key id.
func OldJoinCode(chatID string, now int64) ding.JoinCode {
	return ding.JoinCode{Hash: ding.SecretHash("v1,0123456789abcdef0123456789abcdef"), CorpID: corpA, ChatID: chatID, Sharer: "zhangsan",
		CreatedAt: now, ExpiresAt: now + joinTTL}
}

// WantOldJoinCodeKept checks a migrated store: old, written before the
// migration, is still found by its hash until it expires, and is never
// handed out again since it cannot be derived.
func WantOldJoinCodeKept(t *testing.T, st ding.Store, old ding.JoinCode) {
	t.Helper()
	wantJoinCode(t, st, old)
	fresh := ding.JoinCode{Hash: "jc-after-migration", Salt: "salt", KeyID: "key1", CorpID: old.CorpID, ChatID: old.ChatID, Sharer: old.Sharer,
		CreatedAt: old.CreatedAt + 1, ExpiresAt: old.CreatedAt + 1 + joinTTL}
	if got := issueJoin(t, st, fresh, fresh.CreatedAt); got != fresh {
		t.Fatalf("IssueJoinCode after migration = %+v, want fresh %+v", got, fresh)
	}
	wantJoinCode(t, st, old)
	issueJoin(t, st, freshJoinCode("jc-later", old.ChatID, "lisi", old.ExpiresAt), old.ExpiresAt)
	_, err := st.JoinCode(ctx(), old.Hash)
	wantKind(t, err, ding.NotFound, "JoinCode(old, expired)")
}
