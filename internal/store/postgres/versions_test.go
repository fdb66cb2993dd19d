package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// listening starts st's version listener and waits until it hears notices;
// it answers the listening connection's backend.
func listening(t *testing.T, st *postgres.Store, chatID string) uint32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		version(t, st, chatID)
		if live, pid := postgres.VersionsListening(st); live {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("the version listener never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func version(t *testing.T, st *postgres.Store, chatID string) int64 {
	t.Helper()
	v, err := st.GroupVersion(context.Background(), dingtest.CorpID, chatID)
	if err != nil {
		t.Fatalf("GroupVersion: %v", err)
	}
	return v
}

// fromMemory fails unless st answers chatID's version without a read.
func fromMemory(t *testing.T, st *postgres.Store, chatID string) int64 {
	t.Helper()
	version(t, st, chatID)
	n := postgres.VersionReads(st)
	v := version(t, st, chatID)
	if got := postgres.VersionReads(st); got != n {
		t.Fatalf("a kept version was read again (%d reads, want %d)", got, n)
	}
	return v
}

// seen waits up to 10 s for ok.
func seen(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 10 s", what)
		}
	}
}

func quiet(t *testing.T, st *postgres.Store) {
	t.Helper()
	if err := postgres.Exec(st, `ALTER TABLE chats DISABLE TRIGGER chats_version_notice`); err != nil {
		t.Fatal(err)
	}
}

// A node answers a kept version from memory, and another node's changes
// reach it through their notices: with a kept version good for an hour, a
// rename and a reset on the other node are seen at once.
func TestGroupVersionHearsOtherNode(t *testing.T) {
	a, b := twoNodes(t)
	postgres.SetVersionTTL(a, time.Hour)
	const chat = "chatversionnotice1"
	newGroup(t, a, chat, ding.TagInternal)
	listening(t, a, chat)
	v0 := fromMemory(t, a, chat)

	update(t, b, chat, func(g *ding.Group) { g.Name = "改名" })
	v1 := version(t, b, chat)
	if v1 == v0 {
		t.Fatal("a rename did not move the version")
	}
	seen(t, "the other node's rename", func() bool { return version(t, a, chat) == v1 })
	fromMemory(t, a, chat)

	if _, err := b.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	seen(t, "the other node's reset", func() bool {
		_, err := a.GroupVersion(context.Background(), dingtest.CorpID, chat)
		return ding.IsKind(err, ding.NotFound)
	})
}

// A change whose notice never comes is seen once the kept version's time
// is up.
func TestGroupVersionBoundedWithoutNotice(t *testing.T) {
	a, b := twoNodes(t)
	postgres.SetVersionTTL(a, 300*time.Millisecond)
	const chat = "chatversionbound01"
	newGroup(t, a, chat, ding.TagInternal)
	quiet(t, b)
	listening(t, a, chat)
	fromMemory(t, a, chat)
	update(t, b, chat, func(g *ding.Group) { g.Name = "改名" })
	v1 := version(t, b, chat)
	seen(t, "a rename without its notice", func() bool { return version(t, a, chat) == v1 })
}

// Notices are lost while the listening connection is down: what a node
// kept is dropped with it.
func TestGroupVersionListenerLost(t *testing.T) {
	a, b := twoNodes(t)
	postgres.SetVersionTTL(a, time.Hour)
	const chat = "chatversionlost001"
	newGroup(t, a, chat, ding.TagInternal)
	quiet(t, b) // the rename's notice is the one the connection's loss took
	pid := listening(t, a, chat)
	v0 := fromMemory(t, a, chat)
	update(t, b, chat, func(g *ding.Group) { g.Name = "改名" })
	v1 := version(t, b, chat)
	if got := version(t, a, chat); got != v0 {
		t.Fatalf("version = %d before the connection was lost, want the kept %d", got, v0)
	}
	if err := postgres.Exec(b, `SELECT pg_terminate_backend($1)`, int32(pid)); err != nil {
		t.Fatal(err)
	}
	seen(t, "the listener back on a new connection", func() bool {
		live, now := postgres.VersionsListening(a)
		return live && now != pid
	})
	if got := version(t, a, chat); got != v1 {
		t.Fatalf("version after the listener came back = %d, want %d (kept from before: %d)", got, v1, v0)
	}
}

// A change made through a node is seen by that node's next read, notice or
// not.
func TestGroupVersionOwnChange(t *testing.T) {
	a, b := twoNodes(t)
	postgres.SetVersionTTL(a, time.Hour)
	const chat = "chatversionown0001"
	newGroup(t, a, chat, ding.TagInternal)
	quiet(t, b)
	listening(t, a, chat)
	v0 := fromMemory(t, a, chat)
	update(t, a, chat, func(g *ding.Group) { g.Name = "改名" })
	if got, want := version(t, a, chat), version(t, b, chat); got != want || got == v0 {
		t.Fatalf("version after this node's rename = %d, want %d (was %d)", got, want, v0)
	}
}
