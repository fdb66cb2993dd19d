package sqlite

import (
	"strconv"
	"testing"
)

// A version read from the file before a publish or a clear is not kept over
// what the writer published.
func TestVersionsReadNeverHidesPublish(t *testing.T) {
	var vs versions
	_, gen, _ := vs.lookup("chat1")
	vs.publish([]versionPub{{chatID: "chat1", corp: "corp", version: 5}})
	vs.keep("chat1", keptVersion{corp: "corp", version: 4}, gen)
	if k, _, _ := vs.lookup("chat1"); k.version != 5 {
		t.Fatalf("kept %d, want the published 5", k.version)
	}

	_, gen, _ = vs.lookup("chat2")
	vs.clear()
	vs.keep("chat2", keptVersion{corp: "corp", version: 3}, gen)
	if _, _, ok := vs.lookup("chat2"); ok {
		t.Fatal("a read begun before a clear was kept")
	}

	_, gen, _ = vs.lookup("chat3")
	vs.keep("chat3", keptVersion{corp: "corp", version: 7}, gen)
	if k, _, ok := vs.lookup("chat3"); !ok || k.version != 7 {
		t.Fatalf("a read with nothing in between: %+v %v, want 7 kept", k, ok)
	}
}

// The map never holds more than maxKeptVersions groups.
func TestVersionsBounded(t *testing.T) {
	var vs versions
	for i := 0; i < maxKeptVersions+10; i++ {
		vs.publish([]versionPub{{chatID: "chat" + strconv.Itoa(i), corp: "c", version: 1}})
	}
	if n := len(vs.m); n > maxKeptVersions {
		t.Fatalf("%d versions kept, bound %d", n, maxKeptVersions)
	}
}
