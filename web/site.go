package web

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
	"blog/internal/lru"
	"blog/posts"

	"github.com/yuin/goldmark"
	"golang.org/x/sync/singleflight"
)

// DefaultCacheBytes bounds the rendered pages, feeds and threads a site
// keeps: a blog's worth of pages many times over. What is pushed out is
// rendered again by its next reader.
const DefaultCacheBytes = 16 << 20

// policy allows the site's own stylesheet, script and live stream and
// nothing else: no inline script or style, no third party, no framing.
const policy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Site is the web edition. It is an http.Handler; Event tells it of every
// live comment event and Run streams them to open pages.
type Site struct {
	cfg     Config
	base    *url.URL
	md      goldmark.Markdown
	pages   map[string]*template.Template
	assets  assets
	missing *resource // the 404 page
	handler http.Handler

	// The caches: rendered pages and feeds by key, each post's rendered
	// Markdown by slug and revision, and each post's comments.
	cache   *lru.Cache[string, *resource]
	bodies  *lru.Cache[string, template.HTML]
	threads *lru.Cache[string, *thread]
	flight  singleflight.Group

	mu      sync.Mutex
	version uint64 // bumped by every event: a render that raced one is not kept
	counts  map[string]int
	countsV uint64 // the version counts were read at
	countsK bool

	live     *streams
	queue    chan data.Event
	overflow atomic.Bool
}

// New makes the site for cfg.
func New(cfg Config) *Site {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	base, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		base = &url.URL{Scheme: "http", Host: "localhost"}
	}
	s := &Site{
		cfg:     cfg,
		base:    base,
		md:      newMarkdown(),
		pages:   pageTemplates(),
		assets:  loadAssets(),
		cache:   lru.New(cfg.CacheBytes/2, func(_ string, r *resource) int64 { return r.size() }),
		bodies:  lru.New(cfg.CacheBytes/4, func(k string, h template.HTML) int64 { return int64(len(k) + len(h)) }),
		threads: lru.New(cfg.CacheBytes/4, func(_ string, t *thread) int64 { return t.bytes }),
		live:    newStreams(cfg.MaxStreams, cfg.MaxStreamsPerIP),
		queue:   make(chan data.Event, eventQueue),
	}
	s.missing = s.renderMessage(message{Heading: "Not found", Text: "There is nothing here.", Home: cfg.Posts != nil})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /confirm/{token}", noStore(s.confirmPage))
	mux.HandleFunc("POST /confirm/{token}", noStore(s.confirm))
	mux.HandleFunc("GET /unsubscribe/{token}", noStore(s.unsubscribePage))
	mux.HandleFunc("POST /unsubscribe/{token}", noStore(s.unsubscribe))
	mux.HandleFunc("GET "+s.assets.cssPath, s.asset(s.assets.css))
	mux.HandleFunc("GET "+s.assets.jsPath, s.asset(s.assets.js))
	if cfg.Posts != nil {
		mux.HandleFunc("GET /{$}", s.index)
		mux.HandleFunc("GET /tags/{tag}", s.tagPage)
		mux.HandleFunc("GET /posts/{slug}", s.postPage)
		mux.HandleFunc("GET /posts/{slug}/events", s.events)
		mux.HandleFunc("GET /posts/{slug}/comments.xml", s.commentsFeed)
		for _, p := range feedPaths {
			mux.HandleFunc("GET "+p, s.feed)
		}
		mux.HandleFunc("GET /sitemap.xml", s.sitemap)
		mux.HandleFunc("GET /robots.txt", s.robots)
		if cfg.Signup != nil {
			mux.HandleFunc("POST /subscribe", noStore(s.subscribe))
		}
	}
	mux.HandleFunc("GET /", s.notFound)
	s.handler = s.bound(mux)
	return s
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// bound refuses what no page of the site needs before any of it is used:
// other methods, long URLs, long or many query parameters, big bodies.
// It also sets the headers every answer carries.
func (s *Site) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost:
			h.Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		case len(r.RequestURI) > maxURL || len(r.URL.RawQuery) > maxQuery:
			http.Error(w, "URL too long", http.StatusRequestURITooLong)
			return
		case strings.Count(r.URL.RawQuery, "&")+strings.Count(r.URL.RawQuery, ";") >= maxQueryParams:
			http.Error(w, "too many query parameters", http.StatusBadRequest)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

func (s *Site) asset(res *resource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, res, "public, max-age=31536000, immutable")
	}
}

// revalidate is the pages' and feeds' caching: keep a copy, ask each time
// (a 304 costs a few bytes).
const revalidate = "no-cache"

func (s *Site) notFound(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", s.missing.ctype)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		w.Write(s.missing.body)
	}
}

// get returns the resource under key, rendering it once if it is missing
// or older than the posts: concurrent readers of a missing page wait for
// one render. A render that raced an event is served but not kept.
func (s *Site) get(key string, render func() (*resource, error)) (*resource, error) {
	lib := s.cfg.Posts.Version()
	if res, ok := s.cache.Get(key); ok && res.lib == lib {
		return res, nil
	}
	v, err, _ := s.flight.Do(key, func() (any, error) {
		s.mu.Lock()
		before := s.version
		s.mu.Unlock()
		res, err := render()
		if err != nil {
			return nil, err
		}
		res.lib = lib
		s.mu.Lock()
		if s.version == before {
			s.cache.Add(key, res)
		}
		s.mu.Unlock()
		return res, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*resource), nil
}

// fail answers a render that could not be done (the database is down).
func (s *Site) fail(w http.ResponseWriter, err error) {
	s.cfg.Log.Warn("web: a page could not be rendered", "err", err)
	w.Header().Set("Retry-After", "30")
	s.message(w, http.StatusServiceUnavailable, message{Heading: "Please try again shortly",
		Text: "The blog cannot reach its database right now.", Home: true})
}

// Event tells the site of a live change: the pages it touches are
// rendered afresh by their next reader, and Run streams it to open pages.
// It never waits: when Run falls far behind, the streams resync.
func (s *Site) Event(ev data.Event) {
	s.mu.Lock()
	s.version++
	if ev.Kind == data.Resync {
		s.cache.Purge()
		s.threads.Purge()
	} else {
		slug := ev.Comment.PostSlug
		s.cache.Remove(postKey(slug))
		s.cache.Remove(commentsFeedKey(slug))
		s.threads.Remove(slug)
		// The lists show comment counts: the front page, and the pages of
		// the post's tags.
		s.cache.Remove(listKey(""))
		if p, ok := s.cfg.Posts.Get(slug); ok {
			for _, tag := range p.Tags {
				s.cache.Remove(listKey(tag))
			}
		}
	}
	s.mu.Unlock()
	select {
	case s.queue <- ev:
	default:
		s.overflow.Store(true)
	}
}

// commentCounts are the visible comments per post, read once per event.
func (s *Site) commentCounts(ctx context.Context) (map[string]int, error) {
	s.mu.Lock()
	if s.countsK && s.countsV == s.version {
		m := s.counts
		s.mu.Unlock()
		return m, nil
	}
	v := s.version
	s.mu.Unlock()
	m, err := s.cfg.Store.CommentCounts(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.version == v {
		s.counts, s.countsV, s.countsK = m, v, true
	}
	s.mu.Unlock()
	return m, nil
}

func (s *Site) layout(title, description, canonical string) layout {
	return layout{
		Site: s.cfg.Title, Title: title, Description: description, Canonical: canonical,
		Notice: s.cfg.Notice, Host: s.cfg.Host, CSS: s.assets.cssPath, JS: s.assets.jsPath,
		Feeds: s.cfg.Posts != nil,
	}
}

// link is the absolute URL of a path on the site.
func (s *Site) link(path string) string { return s.base.String() + path }

func (s *Site) execute(part string, l layout) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.pages[part].ExecuteTemplate(&buf, "layout", l); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// message is a page of a heading, a line of text and maybe a button.
type message struct {
	Heading, Text string
	Button        string // when set, the page is a form that posts to itself
	OneClick      bool   // the form carries List-Unsubscribe=One-Click
	Home          bool   // a link back to the posts
}

func (s *Site) renderMessage(m message) *resource {
	b, err := s.execute("message", func() layout { l := s.layout(m.Heading, "", ""); l.Body = m; return l }())
	if err != nil {
		panic(err) // the templates are built in; a failure is a bug
	}
	return newResource("text/html; charset=utf-8", b, time.Time{})
}

func (s *Site) message(w http.ResponseWriter, status int, m message) {
	res := s.renderMessage(m)
	h := w.Header()
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Type", res.ctype)
	w.WriteHeader(status)
	w.Write(res.body)
}

// clientIP is the visitor's address: the peer's, or, when the peer is on
// this machine (a TLS-terminating proxy beside the server), the last
// address in X-Forwarded-For, the one that proxy added.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	parts := strings.Split(xff[len(xff)-1], ",")
	if fwd := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); fwd != nil {
		return fwd.String()
	}
	return host
}

// published are the posts, newest first, with tag (if not empty).
func (s *Site) published(tag string) []posts.Post {
	all := s.cfg.Posts.Published()
	if tag == "" {
		return all
	}
	var out []posts.Post
	for _, p := range all {
		if slices.Contains(p.Tags, tag) {
			out = append(out, p)
		}
	}
	return out
}

func postKey(slug string) string         { return "post/" + slug }
func commentsFeedKey(slug string) string { return "comments.xml/" + slug }

// listKey names a list of posts: the front page ("") or a tag's page.
func listKey(tag string) string { return "list/" + tag }
