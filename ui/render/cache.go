// Package render turns post bodies into terminal text, once per post
// revision, width and style for the whole process: building and running a
// glamour renderer costs milliseconds and megabytes of garbage, so sessions
// share the results instead of owning renderers.
package render

import (
	"fmt"
	"strings"
	"sync/atomic"

	"blog/internal/lru"
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

// DefaultBudget is the memory a render cache keeps when it is not told
// otherwise: a few hundred renders of long posts at the widths and looks
// readers bring.
const DefaultBudget = 64 << 20

// Cache is an LRU of rendered post bodies bounded in bytes, safe for
// concurrent use.
type Cache struct {
	entries *lru.Cache[key, *entry]

	flight       singleflight.Group
	hits, misses atomic.Uint64
}

type key struct {
	slug, revision string
	width          int
	style          Style
}

type entry struct {
	key   key
	out   string
	lines []string // out split into lines, shared by every session
}

// size is what an entry holds: the rendered text once (the lines are
// slices of it), a header per line and the key's strings; the cache adds
// its own overhead.
func (e *entry) size() int64 {
	return int64(len(e.out) + 24 + 16*len(e.lines) + len(e.key.slug) + len(e.key.revision) + 64)
}

// NewCache returns a cache that keeps at most maxBytes of rendered bodies;
// zero or less means DefaultBudget.
func NewCache(maxBytes int64) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultBudget
	}
	return &Cache{entries: lru.New(maxBytes, func(_ key, e *entry) int64 { return e.size() })}
}

// Render returns p's body rendered by glamour to width columns for st.
// Concurrent calls for the same key render once; callers share the string.
func (c *Cache) Render(p posts.Post, width int, st Style) (string, error) {
	e, err := c.get(p, width, st)
	if err != nil {
		return "", err
	}
	return e.out, nil
}

// Lines is Render split into lines without the trailing newlines. Every
// caller shares one slice, so a thousand readers of a post hold one copy of
// its lines: callers must not modify it.
func (c *Cache) Lines(p posts.Post, width int, st Style) ([]string, error) {
	e, err := c.get(p, width, st)
	if err != nil {
		return nil, err
	}
	return e.lines, nil
}

func (c *Cache) get(p posts.Post, width int, st Style) (*entry, error) {
	k := key{p.Slug, p.Revision, min(max(width, MinWidth), MaxWidth), st.normal()}
	if e, ok := c.lookup(k); ok {
		c.hits.Add(1)
		return e, nil
	}
	flightKey := fmt.Sprintf("%q %q %d %d %t", k.slug, k.revision, k.width, k.style.Profile, k.style.Dark)
	rendered := false // only the call that runs the flight sets it
	v, err, _ := c.flight.Do(flightKey, func() (any, error) {
		// A flight for k may have finished between lookup and Do.
		if e, ok := c.lookup(k); ok {
			return e, nil
		}
		rendered = true
		out, err := render(p.Body, k.width, k.style)
		if err != nil {
			return nil, err
		}
		e := &entry{key: k, out: out, lines: strings.Split(strings.TrimRight(out, "\n"), "\n")}
		c.store(e)
		return e, nil
	})
	if rendered {
		c.misses.Add(1)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", p.Slug, err)
	}
	if !rendered {
		c.hits.Add(1)
	}
	return v.(*entry), nil
}

// Stats returns how many calls were answered without rendering (hits, which
// include calls that waited for another call's render) and how many renders
// ran (misses).
func (c *Cache) Stats() (hits, misses uint64) {
	return c.hits.Load(), c.misses.Load()
}

// Size returns the estimated bytes the cache holds and its entries.
func (c *Cache) Size() (bytes int64, entries int) {
	return c.entries.Bytes(), c.entries.Len()
}

func (c *Cache) lookup(k key) (*entry, bool) { return c.entries.Get(k) }

func (c *Cache) store(e *entry) { c.entries.Add(e.key, e) }
