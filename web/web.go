// Package web serves the blog to browsers and feed readers on the readers'
// address: the HTML edition of the posts and their comments (live, by
// Server-Sent Events), Atom feeds, and the newsletter's sign-up,
// confirmation and one-click unsubscribe pages. It listens apart from the
// operators' endpoints, so an operator can expose one without the other.
//
// Pages and feeds are rendered once per change (a posts reload or a
// comment event) and served from memory, gzipped in advance, with strong
// ETags; every request is bounded before it is used.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"blog/data"
	"blog/posts"

	"golang.org/x/net/netutil"
)

// Store is what the pages need from storage.
type Store interface {
	ConfirmToken(ctx context.Context, token string) error
	UnsubscribeToken(ctx context.Context, token string) error
	Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error)
	CommentCounts(ctx context.Context) (map[string]int, error)
}

// Signup is the newsletter's double opt-in (newsletter.Signup): Subscribe
// answers alike for new, pending and confirmed addresses.
type Signup interface {
	Subscribe(ctx context.Context, email string, a data.Author) error
}

// Config is the pages' settings.
type Config struct {
	Title string // the blog's title
	Store Store
	Log   *slog.Logger

	// Posts are the posts to serve; nil serves only the newsletter's
	// confirm and unsubscribe pages.
	Posts *posts.Library
	// Signup takes the form's sign-ups; nil shows no form.
	Signup Signup
	// Host is what readers type after "ssh" (e.g. "-p 23234 blog.example").
	Host string
	// PublicURL is the site's address as readers reach it
	// (https://blog.example): feeds, the sitemap and OpenGraph need
	// absolute links, and a request's Host header is not to be trusted.
	PublicURL string
	// Notice is the operator's banner over every page.
	Notice string
	// Moderator reports whether a key fingerprint is a moderator's, for
	// the [mod] badge; nil: nobody is.
	Moderator func(fingerprint string) bool
	// CacheBytes bounds the rendered pages and feeds kept (zero:
	// DefaultCacheBytes).
	CacheBytes int64
	// MaxStreams and MaxStreamsPerIP bound the live-comment streams open
	// at once (zero: DefaultMaxStreams and DefaultMaxStreamsPerIP).
	MaxStreams, MaxStreamsPerIP int
}

// Bounds on every request: a form post is a few dozen bytes, a URL of the
// site a few dozen characters.
const (
	maxBody        = 4 << 10
	maxHeaderBytes = 8 << 10
	maxURL         = 2 << 10
	maxQuery       = 256
	maxQueryParams = 4
	opTimeout      = 5 * time.Second
)

// MaxConns is how many connections the pages serve at once. Past it, new
// connections wait in the listen queue until one closes, so a crowd of
// idle or slow clients costs at most this many goroutines and buffers.
// Live-comment streams hold a connection each and are capped below it
// (DefaultMaxStreams), so pages still load when the streams are full.
const MaxConns = 512

// Listen opens the pages' listener, holding at most maxConns connections
// at once (MaxConns when maxConns is 0 or less).
func Listen(addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if maxConns <= 0 {
		maxConns = MaxConns
	}
	return netutil.LimitListener(ln, maxConns), nil
}

// NewServer is an http.Server for h with every phase of a request bounded,
// so slow or huge requests cannot pile up. (A live-comment stream lifts
// the read deadline and moves the write deadline on with each event.)
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Handler is New(cfg) as an http.Handler. Without Run, pages are still
// rendered afresh after each event passed to Event, but the live streams
// get no frames.
func Handler(cfg Config) http.Handler { return New(cfg) }
