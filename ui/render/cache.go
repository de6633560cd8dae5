// Package render turns post bodies into terminal text, once per post
// revision, width and style for the whole process: building and running a
// glamour renderer costs milliseconds and megabytes of garbage, so sessions
// share the results instead of owning renderers.
package render

import (
	"container/list"
	"fmt"
	"sync"
	"sync/atomic"

	"blog/posts"

	"golang.org/x/sync/singleflight"
)

// Widths outside these bounds are clamped: below MinWidth glamour's tables
// and code blocks stop making sense (the UI says the window is too small),
// and above MaxWidth lines are too long to read while every odd width a
// client sends would cost a render.
const (
	MinWidth = 20
	MaxWidth = 300
)

// Cache is a bounded LRU of rendered post bodies, safe for concurrent use.
type Cache struct {
	max int

	mu      sync.Mutex
	entries map[key]*list.Element // of *entry
	order   *list.List            // front: most recently used

	flight       singleflight.Group
	hits, misses atomic.Uint64
}

type key struct {
	slug, revision string
	width          int
	style          Style
}

type entry struct {
	key key
	out string
}

// NewCache returns a cache that keeps at most maxEntries rendered bodies
// (at least one).
func NewCache(maxEntries int) *Cache {
	return &Cache{
		max:     max(1, maxEntries),
		entries: map[key]*list.Element{},
		order:   list.New(),
	}
}

// Render returns p's body rendered by glamour to width columns for st.
// Concurrent calls for the same key render once; callers share the string.
func (c *Cache) Render(p posts.Post, width int, st Style) (string, error) {
	k := key{p.Slug, p.Revision, min(max(width, MinWidth), MaxWidth), st.normal()}
	if out, ok := c.lookup(k); ok {
		c.hits.Add(1)
		return out, nil
	}
	flightKey := fmt.Sprintf("%q %q %d %d %t", k.slug, k.revision, k.width, k.style.Profile, k.style.Dark)
	rendered := false // only the call that runs the flight sets it
	v, err, _ := c.flight.Do(flightKey, func() (any, error) {
		// A flight for k may have finished between lookup and Do.
		if out, ok := c.lookup(k); ok {
			return out, nil
		}
		rendered = true
		out, err := render(p.Body, k.width, k.style)
		if err != nil {
			return "", err
		}
		c.store(k, out)
		return out, nil
	})
	if rendered {
		c.misses.Add(1)
	}
	if err != nil {
		return "", fmt.Errorf("render %s: %w", p.Slug, err)
	}
	if !rendered {
		c.hits.Add(1)
	}
	return v.(string), nil
}

// Stats returns how many calls were answered without rendering (hits, which
// include calls that waited for another call's render) and how many renders
// ran (misses).
func (c *Cache) Stats() (hits, misses uint64) {
	return c.hits.Load(), c.misses.Load()
}

func (c *Cache) lookup(k key) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).out, true
}

func (c *Cache) store(k key, out string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = c.order.PushFront(&entry{k, out})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*entry)
		delete(c.entries, old.key)
	}
}
