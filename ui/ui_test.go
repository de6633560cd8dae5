package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"blog/data"
	"blog/data/sqlite"
	"blog/posts"
	"blog/ui/render"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// testConfig is a server's shared config over a real SQLite store holding
// n comments on the Go post.
func testConfig(t testing.TB, n int) (*Config, data.Store) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lots := data.RateLimit{Count: 1 << 30, Window: time.Second}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), data.Options{
		Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots},
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i := range n {
		_, err := st.AddComment(context.Background(), data.NewComment{
			PostSlug: benchPost,
			Name:     fmt.Sprintf("Reader %d", i%37),
			Body:     fmt.Sprintf("Comment %d: a reply of ordinary length, a sentence or two about the post, long enough to wrap once at ninety-eight columns.", i),
			Author:   data.Author{KeyFingerprint: fmt.Sprintf("SHA256:bench%d", i%37), IP: "192.0.2.1"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lib, err := posts.Embedded(log)
	if err != nil {
		t.Fatal(err)
	}
	return &Config{Title: "Notes from the Terminal", Host: "localhost", Posts: lib, Render: render.NewCache(16 << 20), Store: st, Log: log}, st
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// press sends keys and runs what they start to the end.
func press(m *Model, keys ...string) {
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		drain(m, cmd)
	}
}

func TestLongThreadPagesInAsTheReaderScrolls(t *testing.T) {
	cfg, _ := testConfig(t, 2*commentPage+20)
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 100, Height: 40, Author: data.Author{KeyFingerprint: "SHA256:me"}})
	drain(m, m.Init())
	if got := len(m.reader.thread.comments); got != commentPage {
		t.Fatalf("first load fetched %d comments, want one page of %d", got, commentPage)
	}
	for i := 0; i < 100 && m.reader.thread.hasMore; i++ {
		press(m, "G")
	}
	if got := len(m.reader.thread.comments); got != 2*commentPage+20 {
		t.Fatalf("after scrolling to the end: %d comments loaded", got)
	}
	view := m.View()
	if !strings.Contains(view, "No more comments. Check back later for more!") || !strings.Contains(view, "Comment 119:") {
		t.Fatalf("end of thread:\n%s", view)
	}
	if !strings.Contains(strings.Join(m.reader.thread.lines, "\n"), fmt.Sprintf("Comments (%d)", 2*commentPage+20)) {
		t.Fatal("count is not the full thread")
	}
}

func TestLiveCommentWhileThreadStillPaging(t *testing.T) {
	cfg, st := testConfig(t, commentPage+5)
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 100, Height: 40, Author: data.Author{KeyFingerprint: "SHA256:me"}})
	drain(m, m.Init())
	c, err := st.AddComment(context.Background(), data.NewComment{PostSlug: benchPost, Body: "arrived live", Author: data.Author{KeyFingerprint: "SHA256:other"}})
	if err != nil {
		t.Fatal(err)
	}
	// Pages are still pending: the event must not put the comment before
	// the ones not loaded yet; paging brings it in order.
	_, cmd := m.Update(EventMsg{Kind: data.CommentAdded, Comment: c})
	drain(m, cmd)
	for i := 0; i < 50 && m.reader.thread.hasMore; i++ {
		press(m, "G")
	}
	cs := m.reader.thread.comments
	if len(cs) != commentPage+6 || cs[len(cs)-1].Body != "arrived live" {
		t.Fatalf("thread has %d comments, last %q", len(cs), cs[len(cs)-1].Body)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].ID <= cs[i-1].ID {
			t.Fatal("comments out of order")
		}
	}
}

func TestTooSmallAndBackAgain(t *testing.T) {
	cfg, _ := testConfig(t, 0)
	m := New(cfg, Session{Look: Look{Profile: termenv.Ascii}, Width: 100, Height: 40})
	m.Update(tea.WindowSizeMsg{Width: 30, Height: 8})
	if v := m.View(); !strings.Contains(v, "30x8") || !strings.Contains(v, "40x12") {
		t.Fatalf("too small view:\n%s", v)
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	for _, l := range strings.Split(m.View(), "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Fatalf("line wider than the window: %q", l)
		}
	}
}

func TestEveryScreenFitsTheWindow(t *testing.T) {
	cfg, _ := testConfig(t, 3)
	for _, size := range [][2]int{{40, 12}, {80, 24}, {100, 40}, {200, 60}} {
		w, h := size[0], size[1]
		m := New(cfg, Session{Look: Look{Profile: termenv.TrueColor, Dark: true}, Width: w, Height: h, Author: data.Author{KeyFingerprint: "SHA256:me"}})
		check := func(name string) {
			t.Helper()
			lines := strings.Split(m.View(), "\n")
			if len(lines) > h {
				t.Errorf("%dx%d %s: %d lines", w, h, name, len(lines))
			}
			for _, l := range lines {
				if ansi.StringWidth(l) > w {
					t.Errorf("%dx%d %s: line of %d columns: %q", w, h, name, ansi.StringWidth(l), ansi.Strip(l))
				}
			}
		}
		check("home")
		press(m, "s")
		check("home+subscribe")
		press(m, "esc", "enter")
		drain(m, nil)
		check("reader")
		press(m, "G")
		check("reader end")
		press(m, "c")
		check("composer")
		press(m, "esc", "?")
		check("help")
	}
}

// Readers of a post at one width and look share its body lines and the
// drawing of its thread; selecting a comment or owning one gives a reader
// lines of their own, which must not leak into the others'.
func TestReadersSharePostAndThreadLines(t *testing.T) {
	cfg, _ := testConfig(t, 12)
	open := func(key string) *Model {
		m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.ANSI256, Dark: true}, Width: 90, Height: 30, Author: data.Author{KeyFingerprint: key}})
		drain(m, m.Init())
		return m
	}
	a, b := open("SHA256:a"), open("SHA256:b")
	ra, rb := a.reader, b.reader
	if &ra.body[0] != &rb.body[0] {
		t.Error("two readers at one width hold separate copies of the post's lines")
	}
	if &ra.thread.lines[0] != &rb.thread.lines[0] {
		t.Error("two readers of one thread hold separate drawings of it")
	}
	if !slices.Equal(ra.thread.lines, rb.thread.lines) || !slices.Equal(ra.thread.lineOf, rb.thread.lineOf) {
		t.Fatal("shared drawings differ")
	}
	before := slices.Clone(rb.thread.lines)

	press(a, "n") // select the first comment: a's drawing is its own
	if &ra.thread.lines[0] == &rb.thread.lines[0] {
		t.Error("a reader with a selected comment still shares the plain drawing")
	}
	if !slices.Equal(rb.thread.lines, before) {
		t.Error("selecting a comment changed another reader's lines")
	}
	if first := ra.thread.lines[ra.thread.lineOf[0]]; !strings.Contains(first, "▌") {
		t.Errorf("selected comment not marked where lineOf says it starts: %q", first)
	}

	// A reader who wrote one of the comments sees "(you)" on it; the others
	// do not.
	own := open("SHA256:bench3")
	joined := func(m *Model) string { return strings.Join(m.reader.thread.lines, "\n") }
	if !strings.Contains(joined(own), "(you)") {
		t.Error("the author's own comment is not marked (you)")
	}
	if strings.Contains(joined(b), "(you)") {
		t.Error("another reader's drawing marks a comment (you)")
	}
	if c := open("SHA256:c"); &c.reader.thread.lines[0] != &rb.thread.lines[0] {
		t.Error("a reader opening later does not reuse the drawing")
	}
}

// A slug from the command line (ssh -t host read SLUG) is shown on one
// line, cleaned and shortened: it may carry escape sequences.
func TestUnknownSlugIsEchoedClean(t *testing.T) {
	cfg, _ := testConfig(t, 0)
	slug := "x\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202e\u200b\u3164\n" + strings.Repeat("long", 500)
	m := New(cfg, Session{Slug: slug, Look: Look{Profile: termenv.TrueColor, Dark: true}, Width: 80, Height: 24})
	drain(m, m.Init())
	v := m.View()
	status := ""
	for _, l := range strings.Split(ansi.Strip(v), "\n") {
		if strings.Contains(l, "No post called") {
			status = l
		}
	}
	if !strings.Contains(status, `No post called "x`) || !strings.Contains(status, "…") {
		t.Fatalf("status line %q", status)
	}
	for _, bad := range []string{"]52", "[2J", "\u202e", "\u200b", "\u3164", "cm0g"} {
		if strings.Contains(v, bad) {
			t.Errorf("the view holds %q from the slug", bad)
		}
	}
	if strings.Count(v, "\x1b]") > 0 {
		t.Error("an OSC sequence reached the view")
	}
}

func TestFilterIsBounded(t *testing.T) {
	cfg, _ := testConfig(t, 0)
	m := New(cfg, Session{Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 24})
	press(m, "/")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("é", 10000))})
	if len(m.home.filter) > maxFilterBytes || !utf8.ValidString(m.home.filter) || m.home.filter == "" {
		t.Fatalf("filter of %d bytes", len(m.home.filter))
	}
}

// Every keyed comment shows its key tag beside the name, a moderator's a
// badge too; at 40 columns with the longest name and a moderator's actions
// on the selected comment, both still show and every line fits.
func TestBadgeAndKeyTagBesideNames(t *testing.T) {
	cfg, st := testConfig(t, 0)
	const modKey = "SHA256:M0dKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	cfg.Moderator = func(fp string) bool { return fp == modKey }
	cfg.Caches = NewCaches(CacheBudgets{})
	long := strings.Repeat("W", data.MaxNameRunes)
	for _, c := range []data.NewComment{
		{Name: "ada", Body: "from the moderator", Author: data.Author{KeyFingerprint: modKey}},
		{Name: "ada", Body: "from someone else", Author: data.Author{KeyFingerprint: "SHA256:0therKeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}},
		{Name: long, Body: "long name", Author: data.Author{KeyFingerprint: "SHA256:L0ngKeyCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"}},
	} {
		c.PostSlug = benchPost
		if _, err := st.AddComment(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []int{40, 100} {
		m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: w, Height: 30, Admin: true, Author: data.Author{KeyFingerprint: modKey}})
		drain(m, m.Init())
		press(m, "n", "n", "n") // the long name selected, with the moderator's actions
		lines := m.reader.thread.lines
		text := ansi.Strip(strings.Join(lines, "\n"))
		for _, want := range []string{"ada [mod] #M0dKey", "ada #0therK", "#L0ngKe", "H hide · B ban · d delete"} {
			if !strings.Contains(text, want) {
				t.Errorf("%d columns: no %q in\n%s", w, want, text)
			}
		}
		if strings.Count(text, "[mod]") != 1 {
			t.Errorf("%d columns: %d badges, want 1", w, strings.Count(text, "[mod]"))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > m.contentWidth() {
				t.Errorf("%d columns: line of %d: %q", w, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
	}
	// Comments without a key (written before keys were needed) show no tag.
	m := New(cfg, Session{Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 24})
	head := ansi.Strip(commentHead(m.st, "old", "", false, "yesterday", 78))
	if head != "old · yesterday" {
		t.Errorf("keyless head %q", head)
	}
}
