package hashring

import (
	"fmt"
	"slices"
	"testing"
)

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("backend|bucket|object-%d", i)
	}
	return out
}

func TestLookupDistribution(t *testing.T) {
	members := []string{"10.0.0.1:8002", "10.0.0.2:8002", "10.0.0.3:8002", "10.0.0.4:8002"}
	r := New(0, members)
	counts := map[string]int{}
	const n = 40000
	for _, k := range keys(n) {
		counts[r.Lookup(k)]++
	}
	want := n / len(members)
	for _, m := range members {
		// 100 virtual nodes per member keep each share within +-25% of 1/N.
		if c := counts[m]; c < want*3/4 || c > want*5/4 {
			t.Errorf("member %s owns %d of %d keys; want about %d", m, c, n, want)
		}
	}
}

func TestLookupStableAcrossOrder(t *testing.T) {
	a := New(50, []string{"a", "b", "c"})
	b := New(50, []string{"c", "a", "b", "a", ""})
	for _, k := range keys(1000) {
		if got, want := b.Lookup(k), a.Lookup(k); got != want {
			t.Fatalf("Lookup(%q) = %q with shuffled members; want %q", k, got, want)
		}
	}
	if got := b.Members(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Members() = %v; want [a b c]", got)
	}
}

func TestRemoveMemberMovesOnlyItsKeys(t *testing.T) {
	before := New(0, []string{"a", "b", "c", "d"})
	after := New(0, []string{"a", "b", "c"})
	moved := 0
	for _, k := range keys(10000) {
		was, is := before.Lookup(k), after.Lookup(k)
		if was != "d" && was != is {
			t.Fatalf("key %q moved from %q to %q though %q stayed", k, was, is, was)
		}
		if was != is {
			moved++
		}
	}
	if moved == 0 || moved > 10000/2 {
		t.Errorf("%d of 10000 keys moved when 1 of 4 members left; want about 2500", moved)
	}
}

func TestAddMemberMovesOnlyToIt(t *testing.T) {
	before := New(0, []string{"a", "b", "c"})
	after := New(0, []string{"a", "b", "c", "d"})
	for _, k := range keys(10000) {
		if was, is := before.Lookup(k), after.Lookup(k); was != is && is != "d" {
			t.Fatalf("key %q moved from %q to %q; only moves to the new member d are allowed", k, was, is)
		}
	}
}

func TestLookupEmptyRing(t *testing.T) {
	r := New(0, nil)
	if got := r.Lookup("k"); got != "" {
		t.Errorf("Lookup on empty ring = %q; want empty", got)
	}
	if got := r.LookupN("k", 3); got != nil {
		t.Errorf("LookupN on empty ring = %v; want nil", got)
	}
}

func TestLookupNDistinctOwnerFirst(t *testing.T) {
	r := New(0, []string{"a", "b", "c"})
	for _, k := range keys(200) {
		got := r.LookupN(k, 5)
		if len(got) != 3 {
			t.Fatalf("LookupN(%q, 5) = %v; want all 3 members", k, got)
		}
		if got[0] != r.Lookup(k) {
			t.Fatalf("LookupN(%q)[0] = %q; want owner %q", k, got[0], r.Lookup(k))
		}
		s := slices.Clone(got)
		slices.Sort(s)
		if !slices.Equal(s, []string{"a", "b", "c"}) {
			t.Fatalf("LookupN(%q) = %v; want distinct members", k, got)
		}
	}
}

func TestScoreDeterministic(t *testing.T) {
	if Score("task", "seed-1") != Score("task", "seed-1") {
		t.Fatal("Score differs for the same input")
	}
	if Score("task", "seed-1") == Score("task", "seed-2") {
		t.Error("Score is equal for two members; want distinct weights")
	}
	// Pinned so that a change of hash function, which would reshuffle every
	// cluster's routing during a rolling upgrade, fails this test.
	if got, want := Hash("dfcache"), uint64(3197282877682121474); got != want {
		t.Errorf("Hash(dfcache) = %d; want %d", got, want)
	}
}
