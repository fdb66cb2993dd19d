package sqlite

import "testing"

// What a check read before a removal cannot be remembered after it, and
// the memory stays bounded.
func TestKnownUsersGenerations(t *testing.T) {
	var k knownUsers
	if ok, _ := k.all("corp", []string{"a"}); ok {
		t.Fatal("an empty memory knows a user")
	}
	if ok, _ := k.all("corp", nil); !ok {
		t.Fatal("no ids to check should need no read")
	}
	_, gen := k.all("corp", []string{"a"})
	k.add(gen, "corp", []string{"a", "b"})
	if ok, _ := k.all("corp", []string{"b", "a"}); !ok {
		t.Fatal("added users not known")
	}
	if ok, _ := k.all("other", []string{"a"}); ok {
		t.Fatal("a user known in another corp")
	}
	_, stale := k.all("corp", []string{"c"})
	k.forget()
	k.add(stale, "corp", []string{"c"}) // read before the removal
	if ok, _ := k.all("corp", []string{"c"}); ok {
		t.Fatal("a read from before forget was remembered")
	}
	if ok, _ := k.all("corp", []string{"a"}); ok {
		t.Fatal("forget kept a user")
	}
	_, gen = k.all("corp", nil)
	ids := make([]string, maxKnownUsers/2+1)
	for i := range ids {
		ids[i] = string(rune(0x4e00 + i))
	}
	k.add(gen, "corp", ids)
	k.add(gen, "other", ids)
	if k.n > maxKnownUsers {
		t.Fatalf("%d users remembered, bound %d", k.n, maxKnownUsers)
	}
	if ok, _ := k.all("other", ids); !ok {
		t.Fatal("the newest users were not kept when the bound was reached")
	}
}
