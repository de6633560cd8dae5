package server

import (
	"context"
	"slices"
	"sort"
	"sync"

	"blog/data"
)

// threads keeps each post's visible comments, up to data.MaxPageSize of
// them, shared by all sessions: readers opening a post and scrolling
// through its comments are answered from memory, one query per post
// instead of one per reader and page, and one copy in memory. Sessions
// get clipped slices and treat them as read-only. The hub applies every
// live event here before sessions hear of it. Admins, who also see hidden
// comments, go to the store.
type threads struct {
	data.Store

	mu      sync.Mutex
	posts   map[string]*thread
	version uint64 // bumped by every event; a query that raced one is not kept
}

// thread is the start of a post's comments, oldest first.
type thread struct {
	comments []data.Comment
	complete bool // comments holds all of the post's visible comments
}

func newThreads(s data.Store) *threads {
	return &threads{Store: s, posts: map[string]*thread{}}
}

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
func (f *threads) CachedComments(slug string, opt data.ListOptions) ([]data.Comment, bool) {
	if opt.IncludeHidden {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.posts[slug]; ok {
		return t.page(opt)
	}
	return nil, false
}

func (f *threads) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	if opt.IncludeHidden {
		return f.Store.Comments(ctx, slug, opt)
	}
	f.mu.Lock()
	t, ok := f.posts[slug]
	v := f.version
	f.mu.Unlock()
	if !ok {
		cs, err := f.Store.Comments(ctx, slug, data.ListOptions{Limit: data.MaxPageSize})
		if err != nil {
			return nil, err
		}
		t = &thread{comments: slices.Clip(cs), complete: len(cs) < data.MaxPageSize}
	}
	f.mu.Lock()
	if !ok && f.version == v {
		f.posts[slug] = t
	}
	page, ok := t.page(opt)
	f.mu.Unlock()
	if ok {
		return page, nil
	}
	return f.Store.Comments(ctx, slug, opt) // past the comments kept
}

// apply brings the cache up to date with a live event.
func (f *threads) apply(ev data.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	slug := ev.Comment.PostSlug
	t, ok := f.posts[slug]
	switch {
	case ev.Kind == data.Resync:
		clear(f.posts)
	case !ok:
	case ev.Kind == data.CommentAdded && ev.Comment.Hidden:
	case ev.Kind == data.CommentAdded && !t.complete:
		// It comes after the comments kept, which stay as they are.
	case ev.Kind == data.CommentAdded:
		n := len(t.comments)
		if n > 0 && t.comments[n-1].ID >= ev.Comment.ID {
			delete(f.posts, slug) // out of order: let the next reader query
			return
		}
		if n == data.MaxPageSize {
			t.complete = false
			return
		}
		// Readers hold slices clipped at most at n, so writing at n,
		// in place or in a grown copy, is unseen by them.
		t.comments = append(t.comments, ev.Comment)
	default: // hidden, shown again or deleted: query afresh
		delete(f.posts, slug)
	}
}
