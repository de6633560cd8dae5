package commands_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"blog/commands"
	"blog/data"
	"blog/data/sqlite"
	"blog/posts"
	"blog/ui/render"
)

// goPost is an embedded post with a table and code, as server/ tests use.
const goPost = "go-for-backend-services"

const (
	adaKey = "SHA256:AdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAda"
	modKey = "SHA256:ModModModModModModModModModModModModModMod"
)

var (
	ada     = data.Author{KeyFingerprint: adaKey, IP: "192.0.2.1"}
	keyless = data.Author{IP: "192.0.2.9"}
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// blog is an Env on a real SQLite store in t.TempDir() and the embedded
// posts; store is the same store, for the test to look into.
type blog struct {
	env   *commands.Env
	store *sqlite.Store
	stop  chan struct{}
}

func newBlog(t *testing.T, limits data.Limits) *blog {
	t.Helper()
	return newBlogWith(t, data.Options{Limits: limits})
}

// newBlogWith is newBlog on a store opened with opt.
func newBlogWith(t *testing.T, opt data.Options) *blog {
	t.Helper()
	opt.Logger = quietLog()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := posts.Embedded(quietLog())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	return &blog{
		env: &commands.Env{
			Title:     "Test Blog",
			Host:      "blog.test",
			Posts:     lib,
			Render:    render.NewCache(0),
			Store:     st,
			Signup:    data.UnmailedSignup{Subscriptions: st},
			Counts:    func() map[string]int { return map[string]int{goPost: 3} },
			Moderator: func(fp string) bool { return fp == modKey },
			Stopping:  stop,
			Log:       quietLog(),
		},
		store: st,
		stop:  stop,
	}
}

// generousLimits keep rate limits out of tests that are not about them.
func generousLimits() data.Limits {
	l := data.DefaultLimits()
	for _, r := range []*data.RateLimit{&l.CommentPerKey, &l.CommentPerIP, &l.SubscribePerKey, &l.SubscribePerIP} {
		r.Count = 1000
	}
	return l
}

// result is what one run printed and its exit status.
type result struct {
	out, err string
	code     int
}

// run runs one command line as author with stdin and no terminal.
func (b *blog) run(t *testing.T, a data.Author, stdin io.Reader, args ...string) result {
	t.Helper()
	return b.runRequest(t, commands.Request{Args: args, Author: a, Stdin: stdin})
}

func (b *blog) runRequest(t *testing.T, r commands.Request) result {
	t.Helper()
	var out, errOut bytes.Buffer
	if r.Stdin == nil {
		r.Stdin = strings.NewReader("")
	}
	r.Stdout, r.Stderr = &out, &errOut
	code := b.env.Run(context.Background(), r)
	return result{out.String(), errOut.String(), code}
}

// noEscapes fails when text carries an escape or another control byte
// than a newline or a tab.
func noEscapes(t *testing.T, what, text string) {
	t.Helper()
	for _, r := range text {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			t.Fatalf("%s carries control %U: %q", what, r, text)
		}
	}
}

func (b *blog) comments(t *testing.T) []data.Comment {
	t.Helper()
	cs, err := b.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
