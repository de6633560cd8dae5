package server

import (
	"context"
	"slices"
	"sync"

	"blog/data"
)

// firstPages keeps each post's first page of comments, the page every
// reader opening the post asks for, shared by all sessions: one query per
// post instead of one per reader, and one copy in memory. Sessions treat
// the slices as read-only. The hub applies every live event here before
// sessions hear of it.
type firstPages struct {
	data.Store

	mu      sync.Mutex
	pages   map[string][]data.Comment
	version uint64 // bumped by every event; a query that raced one is not kept
}

func newFirstPages(s data.Store) *firstPages {
	return &firstPages{Store: s, pages: map[string][]data.Comment{}}
}

func (f *firstPages) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	if opt.AfterID != 0 || opt.IncludeHidden || opt.Limit != data.DefaultPageSize {
		return f.Store.Comments(ctx, slug, opt)
	}
	f.mu.Lock()
	page, ok := f.pages[slug]
	v := f.version
	f.mu.Unlock()
	if ok {
		return page, nil
	}
	page, err := f.Store.Comments(ctx, slug, opt)
	if err != nil {
		return nil, err
	}
	page = slices.Clip(page) // a reader's append must copy, never write into the shared array
	f.mu.Lock()
	if f.version == v {
		f.pages[slug] = page
	}
	f.mu.Unlock()
	return page, nil
}

// apply brings the cache up to date with a live event.
func (f *firstPages) apply(ev data.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	slug := ev.Comment.PostSlug
	switch {
	case ev.Kind == data.Resync:
		clear(f.pages)
	case ev.Kind == data.CommentAdded && ev.Comment.Hidden:
	case ev.Kind == data.CommentAdded:
		page, ok := f.pages[slug]
		if ok && len(page) < data.DefaultPageSize && (len(page) == 0 || page[len(page)-1].ID < ev.Comment.ID) {
			f.pages[slug] = slices.Clip(append(slices.Clone(page), ev.Comment))
		} else if ok && len(page) < data.DefaultPageSize {
			delete(f.pages, slug) // out of order: let the next reader query
		}
	default: // hidden, shown again or deleted: query afresh
		delete(f.pages, slug)
	}
}
