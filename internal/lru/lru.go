// Package lru is a least-recently-used cache bounded by the bytes its
// entries hold rather than by their number: the blog's shared caches keep
// drawings whose size depends on what visitors write and on the terminal
// widths they bring, so a bound by count says nothing about memory.
//
// Sizes are estimates the caller makes (string lengths plus slice and
// struct headers); what matters is that they grow with the real memory.
package lru

import (
	"container/list"
	"sync"
)

// EntryOverhead approximates what the cache itself spends on one entry:
// a map slot, a list element and the entry holding key and value.
const EntryOverhead = 128

// Cache is safe for concurrent use. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	max  int64
	size func(K, V) int64

	mu    sync.Mutex
	items map[K]*list.Element // of *entry[K, V]
	order list.List           // front: most recently used
	bytes int64
}

type entry[K comparable, V any] struct {
	key   K
	value V
	bytes int64
}

// New returns a cache that holds at most maxBytes, as measured by size
// (plus EntryOverhead per entry). A maxBytes below 1 keeps nothing.
func New[K comparable, V any](maxBytes int64, size func(K, V) int64) *Cache[K, V] {
	return &Cache[K, V]{max: maxBytes, size: size, items: map[K]*list.Element{}}
}

// Get returns the value for k and marks it recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).value, true
}

// Add stores v under k (replacing what was there) and evicts the least
// recently used entries until the cache is within its budget. A value
// larger than the whole budget is not kept, so one huge entry cannot
// push out everything else for nothing.
func (c *Cache[K, V]) Add(k K, v V) {
	n := c.size(k, v) + EntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeElement(el)
	}
	if n > c.max {
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{key: k, value: v, bytes: n})
	c.bytes += n
	for c.bytes > c.max {
		c.removeElement(c.order.Back())
	}
}

// Remove drops k, if it is there.
func (c *Cache[K, V]) Remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeElement(el)
	}
}

// Purge drops every entry.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.order.Init()
	c.bytes = 0
}

func (c *Cache[K, V]) removeElement(el *list.Element) {
	e := c.order.Remove(el).(*entry[K, V])
	delete(c.items, e.key)
	c.bytes -= e.bytes
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Bytes is the estimated size of the entries held.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// MaxBytes is the budget the cache was made with.
func (c *Cache[K, V]) MaxBytes() int64 { return c.max }

// StringsBytes estimates the memory of a slice of strings: each string's
// bytes and header, and the slice's header. Strings that share memory
// with others are counted in full, which errs on the safe side.
func StringsBytes(ss []string) int64 {
	n := int64(24 + 16*len(ss))
	for _, s := range ss {
		n += int64(len(s))
	}
	return n
}
