// Package threads keeps the comment threads every session on a replica
// shares: the first comments of each post, answered from memory and kept
// current by the live events the hub applies.
package threads

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"blog/data"
	"blog/internal/lru"

	"golang.org/x/sync/singleflight"
)

// loadTimeout bounds the query that loads a post's comments for the
// readers waiting on it.
const loadTimeout = 10 * time.Second

// DefaultBudget bounds the comments the shared threads keep: many
// posts' worth of ordinary comments, or a dozen threads of hundreds of the
// longest ones. A thread pushed out is queried again by its next reader.
const DefaultBudget = 32 << 20

// Shared keeps each post's visible comments, up to data.MaxPageSize of
// them, shared by all sessions: readers opening a post and scrolling
// through its comments are answered from memory, one query per post
// instead of one per reader and page, and one copy in memory. Sessions
// get clipped slices and treat them as read-only. The hub applies every
// live event here before sessions hear of it. Admins, who also see hidden
// comments, go to the store. The threads kept are bounded in bytes; the
// least recently read go first.
type Shared struct {
	data.VisitorStore

	mu      sync.Mutex
	posts   *lru.Cache[string, *thread]
	version uint64 // bumped by every event; a query that raced one is not kept
	loading singleflight.Group
}

// thread is the start of a post's comments, oldest first.
type thread struct {
	comments []data.Comment
	complete bool  // comments holds all of the post's visible comments
	bytes    int64 // estimated size of comments
}

// commentBytes estimates what one kept comment holds.
func commentBytes(c data.Comment) int64 {
	return int64(len(c.PostSlug)+len(c.AuthorName)+len(c.AuthorKey)+len(c.Body)) + 112
}

func newThread(cs []data.Comment, complete bool) *thread {
	t := &thread{comments: cs, complete: complete}
	for _, c := range cs {
		t.bytes += commentBytes(c)
	}
	return t
}

// New keeps threads of store within budget bytes (zero or less:
// DefaultBudget).
func New(store data.VisitorStore, budget int64) *Shared {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return &Shared{VisitorStore: store, posts: lru.New(budget, func(_ string, t *thread) int64 { return t.bytes })}
}

// Size is the estimated bytes and the number of threads kept.
func (s *Shared) Size() (int64, int) { return s.posts.Bytes(), s.posts.Len() }

// page answers opt from t, if t holds the whole page.
func (t *thread) page(opt data.ListOptions) ([]data.Comment, bool) {
	start := sort.Search(len(t.comments), func(i int) bool { return t.comments[i].ID > opt.AfterID })
	end := start + data.PageSize(opt.Limit)
	if end > len(t.comments) {
		if !t.complete {
			return nil, false
		}
		end = len(t.comments)
	}
	// Clipped: a reader's append copies instead of writing into the
	// shared array, where the hub appends new comments.
	return t.comments[start:end:end], true
}

// CachedComments answers from memory alone: a reader opening a post whose
// comments are here draws them in the first frame, with no query and no
// round trip through the program's command loop.
func (s *Shared) CachedComments(slug string, opt data.ListOptions) ([]data.Comment, bool) {
	if opt.IncludeHidden {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.posts.Get(slug); ok {
		return t.page(opt)
	}
	return nil, false
}

// Comments answers a reader's page from the kept thread, querying the store
// once for a post not kept yet; admins' pages and pages past the comments
// kept go to the store.
func (s *Shared) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	if opt.IncludeHidden {
		return s.VisitorStore.Comments(ctx, slug, opt)
	}
	s.mu.Lock()
	t, ok := s.posts.Get(slug)
	v := s.version
	s.mu.Unlock()
	if !ok {
		// Readers missing the same post wait for one query: after a
		// Resync, or while a burst keeps every query racing an event (a
		// raced one is not kept), ten thousand readers would otherwise
		// each query and fill the database pool.
		// Only readers who came at the same version share a query: one
		// who came after an event must not take an answer from before it.
		got, err, _ := s.loading.Do(slug+"\x00"+strconv.FormatUint(v, 10), func() (any, error) {
			// The query answers every waiting reader: the first one
			// leaving must not cancel it for the others.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
			defer cancel()
			cs, err := s.VisitorStore.Comments(ctx, slug, data.ListOptions{Limit: data.MaxPageSize})
			if err != nil {
				return nil, err
			}
			t := newThread(slices.Clip(cs), len(cs) < data.MaxPageSize)
			s.mu.Lock()
			if s.version == v {
				s.posts.Add(slug, t)
			}
			s.mu.Unlock()
			return t, nil
		})
		if err != nil {
			return nil, err
		}
		t = got.(*thread)
	}
	s.mu.Lock()
	page, ok := t.page(opt)
	s.mu.Unlock()
	if ok {
		return page, nil
	}
	return s.VisitorStore.Comments(ctx, slug, opt) // past the comments kept
}

// Apply brings the threads up to date with a live event. The hub calls it
// with every event before any session hears of it.
func (s *Shared) Apply(ev data.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	slug := ev.Comment.PostSlug
	t, ok := s.posts.Get(slug)
	switch {
	case ev.Kind == data.Resync:
		s.posts.Purge()
	case !ok:
	case ev.Kind == data.CommentAdded && ev.Comment.Hidden:
	case ev.Kind == data.CommentAdded && !t.complete:
		// It comes after the comments kept, which stay as they are.
	case ev.Kind == data.CommentAdded:
		n := len(t.comments)
		outOfOrder := n > 0 && t.comments[n-1].ID >= ev.Comment.ID
		if n == data.MaxPageSize {
			if outOfOrder {
				s.posts.Remove(slug) // it belongs among the kept, which are full
				return
			}
			t.complete = false
			return
		}
		if outOfOrder {
			// Comments stored at once by several writers can be
			// announced out of order. It goes in its place, in a new
			// array: readers hold slices of the old one.
			i, found := slices.BinarySearchFunc(t.comments, ev.Comment.ID, func(c data.Comment, id int64) int { return cmp.Compare(c.ID, id) })
			if found {
				return
			}
			t.comments = slices.Insert(slices.Clip(t.comments), i, ev.Comment)
			t.bytes += commentBytes(ev.Comment)
			s.posts.Add(slug, t)
			return
		}
		// Readers hold slices clipped at most at n, so writing at n,
		// in place or in a grown copy, is unseen by them.
		t.comments = append(t.comments, ev.Comment)
		t.bytes += commentBytes(ev.Comment)
		s.posts.Add(slug, t) // with its new size
	default: // hidden, shown again, edited or deleted: query afresh
		s.posts.Remove(slug)
	}
}
