package newsletter

import (
	"context"
	"log/slog"
	"time"

	"blog/data"
	"blog/posts"
)

// retryAfter is how long the publisher and the worker wait after the
// database failed them.
const retryAfter = 10 * time.Second

// Publisher tells the store which posts readers can see: on start, when the
// posts change, and when a future-dated post's date arrives. The store
// decides whether each is new (and mails it) once for all replicas.
type Publisher struct {
	Store   data.Store
	Posts   *posts.Library
	Log     *slog.Logger
	Now     func() time.Time // nil: time.Now (the library's clock is time.Now too)
	Queued  func()           // called after posts were queued (wakes the local worker)
	noticed map[string]bool  // slugs this replica has already told the store about
}

// Run publishes until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	if p.Log == nil {
		p.Log = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	p.noticed = map[string]bool{}
	first := true
	for {
		changed := p.Posts.Changed()
		wait, err := p.publish(ctx, first)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.Log.Error("newsletter: recording published posts failed; retrying", "err", err, "in", retryAfter)
			wait = retryAfter
		} else {
			first = false
		}
		var timer <-chan time.Time
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// publish sends the store the visible posts it has not noticed yet (all of
// them the first time, which sets the baseline on a new database) and
// returns how long until the next future-dated post is due (0: none).
func (p *Publisher) publish(ctx context.Context, first bool) (time.Duration, error) {
	now := p.Now()
	var fresh []data.NewsletterPost
	var next time.Duration
	if due := p.Posts.NextScheduled(); !due.IsZero() {
		next = max(due.Sub(now), time.Millisecond)
	}
	for _, post := range p.Posts.Published() {
		if post.Date.After(now) {
			continue // the library's clock and ours disagree by a hair
		}
		if !p.noticed[post.Slug] {
			fresh = append(fresh, data.NewsletterPost{Slug: post.Slug, Title: post.Title, Body: post.Body, Date: post.Date})
		}
	}
	if len(fresh) == 0 && !first {
		return next, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	queued, err := p.Store.PublishPosts(ctx, fresh)
	if err != nil {
		return 0, err
	}
	for _, f := range fresh {
		p.noticed[f.Slug] = true
	}
	for _, slug := range queued {
		p.Log.Info("newsletter: new post queued for every confirmed subscriber", "slug", slug)
	}
	if len(queued) > 0 && p.Queued != nil {
		p.Queued()
	}
	return next, nil
}
