package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"blog/data"
	"blog/posts"
)

// listEntry is one post in a list, with its comment count.
type listEntry struct {
	posts.Post
	Count int
}

type listView struct {
	Tag     string
	Entries []listEntry
}

func (s *Site) index(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, "")
}

// tagPage lists one tag's posts; a tag no post has is not found, so the
// cache holds one entry per real tag at most.
func (s *Site) tagPage(w http.ResponseWriter, r *http.Request) {
	tag := r.PathValue("tag")
	if len(s.published(tag)) == 0 {
		s.notFound(w, r)
		return
	}
	s.list(w, r, tag)
}

func (s *Site) list(w http.ResponseWriter, r *http.Request, tag string) {
	res, err := s.get(listKey(tag), func() (*resource, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
		defer cancel()
		counts, err := s.commentCounts(ctx)
		if err != nil {
			return nil, err
		}
		v := listView{Tag: tag}
		var modified time.Time
		for _, p := range s.published(tag) {
			v.Entries = append(v.Entries, listEntry{Post: p, Count: counts[p.Slug]})
			if p.Date.After(modified) {
				modified = p.Date
			}
		}
		title, canonical := "", s.link("/")
		if tag != "" {
			title, canonical = "Posts tagged "+tag, s.link("/tags/"+tag)
		}
		l := s.layout(title, "", canonical)
		l.Body = v
		b, err := s.execute("list", l)
		if err != nil {
			return nil, err
		}
		return newResource("text/html; charset=utf-8", b, modified), nil
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	serve(w, r, res, revalidate)
}

// thread is the first data.MaxPageSize of a post's comments, laid out
// as a conversation and rendered once for its page, its feed and streams
// that must reload it.
type thread struct {
	comments []data.Comment
	roots    []commentView // comments as laid out: replies under what they answer
	HTML     template.HTML
	Count    int    // all visible comments (placeholders are not counted)
	More     int    // those not shown
	Since    string // the stream position the comments were read at
	newest   time.Time
	bytes    int64
}

// threadOf returns slug's thread, querying and rendering it once per
// change. The stream position is taken before the query, so a page that
// shows the thread and then follows the stream from there misses nothing
// (it may see a comment twice, which the script ignores).
func (s *Site) threadOf(ctx context.Context, slug string) (*thread, error) {
	if t, ok := s.threads.Get(slug); ok {
		return t, nil
	}
	v, err, _ := s.flight.Do("thread/"+slug, func() (any, error) { return s.loadThread(ctx, slug) })
	if err != nil {
		return nil, err
	}
	return v.(*thread), nil
}

// loadThread queries and renders slug's thread, and keeps it unless an
// event came meanwhile.
func (s *Site) loadThread(ctx context.Context, slug string) (*thread, error) {
	s.mu.Lock()
	before := s.version
	s.mu.Unlock()
	since := s.live.position()
	cs, err := s.cfg.Store.Comments(ctx, slug, data.ListOptions{Limit: data.MaxPageSize})
	if err != nil {
		return nil, err
	}
	shown := 0
	for _, c := range cs {
		if visible(c) {
			shown++
		}
	}
	t := &thread{comments: slices.Clip(cs), Count: shown, Since: since}
	if len(cs) == data.MaxPageSize {
		counts, err := s.commentCounts(ctx)
		if err != nil {
			return nil, err
		}
		t.Count = max(counts[slug], shown)
		t.More = t.Count - shown
	}
	t.roots = s.conversation(cs)
	for _, c := range cs {
		t.bytes += int64(len(c.Body)+len(c.AuthorName)+len(c.AuthorKey)+len(c.PostSlug))*2 + 224
		if c.CreatedAt.After(t.newest) {
			t.newest = c.CreatedAt
		}
		if c.EditedAt.After(t.newest) {
			t.newest = c.EditedAt
		}
	}
	var buf bytes.Buffer
	if err := s.pages["thread"].ExecuteTemplate(&buf, "thread", t.roots); err != nil {
		return nil, err
	}
	t.HTML = template.HTML(buf.String())
	t.bytes += int64(buf.Len())
	s.mu.Lock()
	if s.version == before {
		s.threads.Add(slug, t)
	}
	s.mu.Unlock()
	return t, nil
}

// body is a post's Markdown as HTML, rendered once per revision.
func (s *Site) body(p posts.Post) (template.HTML, error) {
	key := p.Slug + "@" + p.Revision
	if h, ok := s.bodies.Get(key); ok {
		return h, nil
	}
	var buf bytes.Buffer
	if err := s.md.Convert([]byte(p.Body), &buf); err != nil {
		return "", fmt.Errorf("render %s: %w", p.Slug, err)
	}
	// The Markdown is the operator's, and goldmark drops raw HTML in it.
	h := template.HTML(buf.String())
	s.bodies.Add(key, h)
	return h, nil
}

type postView struct {
	Post      posts.Post
	Body      template.HTML
	Thread    *thread
	Host      string
	Subscribe bool
}

func (s *Site) postPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.cfg.Posts.Get(r.PathValue("slug"))
	if !ok {
		s.notFound(w, r)
		return
	}
	res, err := s.get(postKey(p.Slug), func() (*resource, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
		defer cancel()
		t, err := s.threadOf(ctx, p.Slug)
		if err != nil {
			return nil, err
		}
		body, err := s.body(p)
		if err != nil {
			return nil, err
		}
		l := s.layout(p.Title, p.Summary, s.link("/posts/"+p.Slug))
		l.Post = p
		l.Body = postView{Post: p, Body: body, Thread: t, Host: s.cfg.Host, Subscribe: s.cfg.Signup != nil}
		b, err := s.execute("post", l)
		if err != nil {
			return nil, err
		}
		modified := p.Date
		if t.newest.After(modified) {
			modified = t.newest
		}
		return newResource("text/html; charset=utf-8", b, modified), nil
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	serve(w, r, res, revalidate)
}

// subscribe is the newsletter form: the same double opt-in as over SSH,
// with the same limits, and the same answer whether the address is new,
// waiting for its confirmation or already subscribed.
func (s *Site) subscribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, message{Heading: "Nothing was sent", Text: "The form could not be read.", Home: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	err := s.cfg.Signup.Subscribe(ctx, r.PostForm.Get("email"), data.Author{IP: clientIP(r)})
	var invalid *data.InvalidError
	var limited *data.RateLimitError
	switch {
	case err == nil:
		s.message(w, http.StatusOK, message{Heading: "Check your inbox to confirm",
			Text: "If the address can be subscribed, a mail with a link and a code is on its way.", Home: true})
	case errors.As(err, &invalid):
		s.message(w, http.StatusBadRequest, message{Heading: "Nothing was sent",
			Text: "That does not look like an email address: " + invalid.Reason + ".", Home: true})
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())+1))
		s.message(w, http.StatusTooManyRequests, message{Heading: "Slow down", Text: limited.Error() + ".", Home: true})
	case errors.Is(err, data.ErrBanned):
		s.message(w, http.StatusForbidden, message{Heading: "Nothing was sent", Text: "This address may not subscribe from here.", Home: true})
	default:
		s.unavailable(w, err)
	}
}

func (s *Site) robots(w http.ResponseWriter, r *http.Request) {
	res, _ := s.get("robots.txt", func() (*resource, error) {
		b := "User-agent: *\nDisallow: /confirm/\nDisallow: /unsubscribe/\nDisallow: /posts/*/events\nAllow: /\n\nSitemap: " + s.link("/sitemap.xml") + "\n"
		return newResource("text/plain; charset=utf-8", []byte(b), time.Time{}), nil
	})
	serve(w, r, res, revalidate)
}
