package ui

import (
	"sync"

	"blog/internal/lru"
)

// Default budgets of the drawing caches every session of a server shares.
// With them, a thread of hundreds of long comments drawn at many widths
// and looks costs at most these bytes however many visitors bring new
// widths: older drawings are dropped and drawn again when asked for.
const (
	DefaultBlocksBudget   = 28 << 20
	DefaultDrawingsBudget = 28 << 20
	DefaultFramesBudget   = 4 << 20
	DefaultViewsBudget    = 4 << 20
	DefaultScreensBudget  = 4 << 20
)

// CacheBudgets are the byte budgets of a server's drawing caches; zero
// means the default.
type CacheBudgets struct {
	// Blocks holds drawn comments, each at one width and look.
	Blocks int64
	// Drawings holds whole threads laid out from blocks.
	Drawings int64
	// Frames holds the lines around a thread (heading, state, footer).
	Frames int64
	// Views holds whole threads as readers see them, shared by readers
	// who see the same.
	Views int64
	// Screens holds readers' whole frames, shared by readers at the same
	// place who see the same.
	Screens int64
}

// Caches are the drawings shared by every session of a server, so that a
// thousand readers of a post hold one copy of its thread.
type Caches struct {
	blocks   *lru.Cache[blockKey, []string]
	drawings *lru.Cache[uint64, *drawing]
	frames   *lru.Cache[frameKey, threadFrame]
	views    *lru.Cache[viewKey, *threadView]
	screens  *lru.Cache[screenKey, string]
}

// CacheSize is one cache's current size, for metrics.
type CacheSize struct {
	Name    string
	Bytes   int64
	Entries int
}

// NewCaches builds the shared drawing caches.
func NewCaches(b CacheBudgets) *Caches {
	or := func(v, def int64) int64 {
		if v <= 0 {
			return def
		}
		return v
	}
	return &Caches{
		blocks: lru.New(or(b.Blocks, DefaultBlocksBudget), func(k blockKey, v []string) int64 {
			return int64(len(k.name)+len(k.body)+len(k.when)+len(k.tag)) + 64 + lru.StringsBytes(v)
		}),
		// A drawing's lines are the blocks' strings, but it keeps them
		// alive after the blocks cache drops them, so they count here too.
		drawings: lru.New(or(b.Drawings, DefaultDrawingsBudget), func(_ uint64, d *drawing) int64 {
			return lru.StringsBytes(d.lines) + int64(8*len(d.lineOf)+24*len(d.parts)) + 64
		}),
		frames: lru.New(or(b.Frames, DefaultFramesBudget), func(k frameKey, f threadFrame) int64 {
			return int64(len(k.state)) + 64 + lru.StringsBytes(f.head) + lru.StringsBytes(f.tail)
		}),
		// A view's lines are a drawing's, kept alive by the view too.
		views: lru.New(or(b.Views, DefaultViewsBudget), func(k viewKey, v *threadView) int64 {
			return int64(len(k.frame.state)+len(k.me)) + 160 + lru.StringsBytes(v.lines) + int64(8*len(v.lineOf)) + v.comments
		}),
		// A frame is a string of its own; its key names lines without
		// holding them.
		screens: lru.New(or(b.Screens, DefaultScreensBudget), func(k screenKey, f string) int64 {
			return int64(len(k.title)+len(k.postTitle)+len(k.meta)+len(k.err)+len(k.status)+len(k.slug)+len(k.revision)+len(f)) + 160
		}),
	}
}

// Sizes reports each cache's bytes and entries.
func (c *Caches) Sizes() []CacheSize {
	return []CacheSize{
		{"comment_drawings", c.blocks.Bytes(), c.blocks.Len()},
		{"thread_views", c.views.Bytes(), c.views.Len()},
		{"reader_screens", c.screens.Bytes(), c.screens.Len()},
		{"thread_drawings", c.drawings.Bytes(), c.drawings.Len()},
		{"thread_frames", c.frames.Bytes(), c.frames.Len()},
	}
}

var (
	defaultCachesOnce sync.Once
	defaultCaches     *Caches
)

// caches are the config's shared caches, or the process's default ones.
func (c *Config) caches() *Caches {
	if c.Caches != nil {
		return c.Caches
	}
	defaultCachesOnce.Do(func() { defaultCaches = NewCaches(CacheBudgets{}) })
	return defaultCaches
}
