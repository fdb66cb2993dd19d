package knownusers

import "testing"

// What a check read before a removal cannot be remembered after it, and
// the memory stays bounded.
func TestGenerations(t *testing.T) {
	var k Set
	if ok, _ := k.All("corp", []string{"a"}); ok {
		t.Fatal("an empty memory knows a user")
	}
	if ok, _ := k.All("corp", nil); !ok {
		t.Fatal("no ids to check should need no read")
	}
	_, gen := k.All("corp", []string{"a"})
	k.Add(gen, "corp", []string{"a", "b"})
	if ok, _ := k.All("corp", []string{"b", "a"}); !ok {
		t.Fatal("added users not known")
	}
	if ok, _ := k.All("other", []string{"a"}); ok {
		t.Fatal("a user known in another corp")
	}
	_, stale := k.All("corp", []string{"c"})
	k.Forget()
	k.Add(stale, "corp", []string{"c"}) // read before the removal
	if ok, _ := k.All("corp", []string{"c"}); ok {
		t.Fatal("a read from before Forget was remembered")
	}
	if ok, _ := k.All("corp", []string{"a"}); ok {
		t.Fatal("Forget kept a user")
	}
	_, gen = k.All("corp", nil)
	ids := make([]string, Max/2+1)
	for i := range ids {
		ids[i] = string(rune(0x4e00 + i))
	}
	k.Add(gen, "corp", ids)
	k.Add(gen, "other", ids)
	if k.n > Max {
		t.Fatalf("%d users remembered, bound %d", k.n, Max)
	}
	if ok, _ := k.All("other", ids); !ok {
		t.Fatal("the newest users were not kept when the bound was reached")
	}
}

// Advance moves only forward: an answer from an older generation, arriving
// late, neither rolls the memory back nor is remembered.
func TestAdvance(t *testing.T) {
	var k Set
	k.Advance(5)
	k.Add(5, "corp", []string{"a"})
	k.Advance(3) // a check that read before the last removal
	k.Add(3, "corp", []string{"b"})
	if g := k.Generation(); g != 5 {
		t.Fatalf("generation %d after a late older answer, want 5", g)
	}
	if ok, _ := k.All("corp", []string{"a"}); !ok {
		t.Fatal("an older answer dropped the memory")
	}
	if ok, _ := k.All("corp", []string{"b"}); ok {
		t.Fatal("an older answer was remembered")
	}
	k.Advance(5)
	if ok, _ := k.All("corp", []string{"a"}); !ok {
		t.Fatal("advancing to the same generation dropped the memory")
	}
	k.Advance(6)
	if ok, _ := k.All("corp", []string{"a"}); ok {
		t.Fatal("a later generation kept what the earlier knew")
	}
}
