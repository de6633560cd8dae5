package lru

import (
	"strings"
	"sync"
	"testing"
)

func strSize(k, v string) int64 { return int64(len(k) + len(v)) }

func TestEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	c := New[string, string](3*(EntryOverhead+10), strSize)
	c.Add("a", strings.Repeat("x", 9))
	c.Add("b", strings.Repeat("x", 9))
	c.Add("c", strings.Repeat("x", 9))
	if c.Len() != 3 || c.Bytes() != 3*(EntryOverhead+10) {
		t.Fatalf("len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Get("a") // b is now the least recently used
	c.Add("d", strings.Repeat("x", 9))
	if _, ok := c.Get("b"); ok {
		t.Error("b survived; it was the least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	// One big entry pushes out as many as it needs.
	c.Add("e", strings.Repeat("x", EntryOverhead+9))
	if c.Bytes() > c.MaxBytes() {
		t.Fatalf("bytes %d over budget %d", c.Bytes(), c.MaxBytes())
	}
	if _, ok := c.Get("e"); !ok || c.Len() != 2 {
		t.Fatalf("after a double-size entry: len %d", c.Len())
	}
}

func TestReplaceAndOversize(t *testing.T) {
	c := New[string, string](1000, strSize)
	c.Add("k", "short")
	c.Add("k", strings.Repeat("y", 100))
	if c.Len() != 1 || c.Bytes() != EntryOverhead+101 {
		t.Fatalf("replace: len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Add("huge", strings.Repeat("z", 2000))
	if _, ok := c.Get("huge"); ok {
		t.Error("an entry larger than the budget was kept")
	}
	if _, ok := c.Get("k"); !ok {
		t.Error("an oversize entry pushed out the others")
	}
	c.Add("k", strings.Repeat("z", 2000)) // replacing with an oversize value drops it
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Add("a", "1")
	c.Remove("a")
	c.Add("b", "2")
	c.Purge()
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after purge: len %d bytes %d", c.Len(), c.Bytes())
	}
}

func TestConcurrentUseStaysWithinBudget(t *testing.T) {
	c := New[int, []string](50_000, func(_ int, v []string) int64 { return StringsBytes(v) })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (g*7919 + i) % 600
				if _, ok := c.Get(k); !ok {
					c.Add(k, []string{strings.Repeat("w", k)})
				}
			}
		}()
	}
	wg.Wait()
	if c.Bytes() > c.MaxBytes() || c.Bytes() <= 0 {
		t.Fatalf("bytes %d, budget %d", c.Bytes(), c.MaxBytes())
	}
}

func TestStringsBytes(t *testing.T) {
	if got := StringsBytes([]string{"ab", "cde"}); got != 24+32+5 {
		t.Fatalf("StringsBytes = %d", got)
	}
}
