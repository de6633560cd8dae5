package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/internal/zone"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// visitsConfig is testConfig with the store keeping visits, as the server
// wires it.
func visitsConfig(t *testing.T, n int) (*Config, data.Store) {
	cfg, st := testConfig(t, n)
	cfg.Visits = st
	return cfg, st
}

func keyed(slug string) Session {
	return Session{Slug: slug, Look: Look{Profile: termenv.Ascii}, Width: 100, Height: 40,
		Author: data.Author{KeyFingerprint: "SHA256:me", IP: "192.0.2.9"}}
}

// postLines returns the two list lines (title and meta) of the post titled
// title, as plain text.
func postLines(t *testing.T, m *Model, title string) (string, string) {
	t.Helper()
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	for i, l := range lines {
		if strings.Contains(l, title) && i+1 < len(lines) {
			return l, lines[i+1]
		}
	}
	t.Fatalf("no %q in the list:\n%s", title, ansi.Strip(m.View()))
	return "", ""
}

func storedVisit(t *testing.T, st data.Store, slug string) data.Visit {
	t.Helper()
	vs, err := st.Visits(t.Context(), "SHA256:me")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.PostSlug == slug {
			return v
		}
	}
	t.Fatalf("no visit to %s stored: %+v", slug, vs)
	return data.Visit{}
}

const goTitle = "Go for Backend Services"

// openGo opens the Go post from the list.
func openGo(m *Model) {
	for i := 0; i < 10 && m.home.shown[m.home.cursor].Slug != benchPost; i++ {
		press(m, "j")
	}
	press(m, "enter")
}

func TestListMarksUnreadPostsAndNewComments(t *testing.T) {
	cfg, st := visitsConfig(t, 2)
	m := New(cfg, keyed(""))
	drain(m, m.Init())
	title, meta := postLines(t, m, goTitle)
	if !strings.Contains(title, "● ") || !strings.Contains(meta, "unread") {
		t.Fatalf("a post never opened is not marked:\n%s\n%s", title, meta)
	}
	openGo(m)
	if m.reader == nil || m.reader.post.Slug != benchPost {
		t.Fatal("enter did not open the Go post")
	}
	press(m, "esc")
	title, meta = postLines(t, m, goTitle)
	if strings.Contains(title, "●") || strings.Contains(meta, "unread") || strings.Contains(meta, "new") {
		t.Fatalf("a post just read is still marked:\n%s\n%s", title, meta)
	}
	if v := storedVisit(t, st, benchPost); v.SeenID == 0 {
		t.Fatalf("stored visit %+v: want the highest comment seen", v)
	}
	// Comments that arrive live count as new on the list.
	for i := range 3 {
		c, err := st.AddComment(t.Context(), data.NewComment{PostSlug: benchPost, Body: "later " + itoa(i),
			Author: data.Author{KeyFingerprint: "SHA256:other", IP: "192.0.2.2"}})
		if err != nil {
			t.Fatal(err)
		}
		m.Update(EventMsg{Kind: data.CommentAdded, Comment: c})
	}
	if _, meta = postLines(t, m, goTitle); !strings.Contains(meta, "3 new") {
		t.Fatalf("meta line %q: want 3 new", meta)
	}
	// A new session (any replica) reads the same from the store.
	m2 := New(cfg, keyed(""))
	drain(m2, m2.Init())
	if _, meta = postLines(t, m2, goTitle); !strings.Contains(meta, "3 new") {
		t.Fatalf("next session's meta line %q: want 3 new", meta)
	}
	if title, _ := postLines(t, m2, "Writing for Readers"); !strings.Contains(title, "●") {
		t.Fatalf("a post never opened lost its mark in the next session: %q", title)
	}
}

func TestReturningReaderJumpsToNewComments(t *testing.T) {
	cfg, st := visitsConfig(t, 5)
	m := New(cfg, keyed(benchPost))
	drain(m, m.Init())
	if m.status != "" {
		t.Fatalf("first visit offers something: %q", m.status)
	}
	press(m, "esc")
	first, err := st.AddComment(t.Context(), data.NewComment{PostSlug: benchPost, Body: "first new one",
		Author: data.Author{KeyFingerprint: "SHA256:other", IP: "192.0.2.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddComment(t.Context(), data.NewComment{PostSlug: benchPost, Body: "second new one",
		Author: data.Author{KeyFingerprint: "SHA256:other", IP: "192.0.2.2"}}); err != nil {
		t.Fatal(err)
	}

	m = New(cfg, keyed(benchPost))
	drain(m, m.Init())
	if !strings.Contains(m.status, "2 new comments since your last visit") || !strings.Contains(m.status, "u") {
		t.Fatalf("status %q: want the offer to jump to 2 new comments", m.status)
	}
	press(m, "u")
	c, ok := m.reader.selectedComment()
	if !ok || c.ID != first.ID {
		t.Fatalf("u selected %+v (%v), want the first new comment %d", c, ok, first.ID)
	}
	if !strings.Contains(ansi.Strip(m.View()), "first new one") {
		t.Fatalf("the first new comment is not on screen:\n%s", ansi.Strip(m.View()))
	}
	// Opened again with nothing new: no offer, and u says so.
	press(m, "esc")
	openGo(m)
	if m.reader == nil || m.reader.post.Slug != benchPost {
		t.Fatal("the Go post did not open again")
	}
	if strings.Contains(m.status, "new comment") {
		t.Fatalf("status %q: nothing is new", m.status)
	}
	press(m, "u")
	if !strings.Contains(m.status, "Nothing new") {
		t.Fatalf("u with nothing new: status %q", m.status)
	}
}

func TestReaderRemembersWhereYouStopped(t *testing.T) {
	cfg, st := visitsConfig(t, 0)
	m := New(cfg, keyed(benchPost))
	drain(m, m.Init())
	press(m, "f", "f", "f")
	at := m.reader.offset
	if at == 0 {
		t.Fatal("paging down did not move")
	}
	// The visitor hangs up: the server marks the post left.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if v := storedVisit(t, st, benchPost); v.Position <= 0 {
		t.Fatalf("stored position %d, want where the reader stopped", v.Position)
	}

	m = New(cfg, keyed(benchPost))
	drain(m, m.Init())
	if !strings.Contains(m.status, "press ' to continue where you stopped") {
		t.Fatalf("status %q: want the offer to continue", m.status)
	}
	if m.reader.offset != 0 {
		t.Fatal("the reader moved before being asked")
	}
	press(m, "'")
	if d := m.reader.offset - at; d < -1 || d > 1 {
		t.Fatalf("' went to line %d, want about %d", m.reader.offset, at)
	}
}

func TestKeylessVisitorGetsNoMarks(t *testing.T) {
	cfg, _ := visitsConfig(t, 2)
	s := keyed("")
	s.Author = data.Author{IP: "192.0.2.9"}
	m := New(cfg, s)
	if cmd := m.Init(); cmd != nil {
		t.Fatal("a keyless session reads visits")
	}
	view := ansi.Strip(m.View())
	if strings.Contains(view, "●") || strings.Contains(view, "unread") {
		t.Fatalf("keyless list has marks:\n%s", view)
	}
	press(m, "enter", "f", "u", "'", "esc")
	if m.status != "" {
		t.Fatalf("keyless visitor sees %q", m.status)
	}
	if err := m.Leave(t.Context()); err != nil {
		t.Fatalf("Leave for a keyless visitor: %v", err)
	}
}

func TestYCopiesThePermalink(t *testing.T) {
	cfg, _ := testConfig(t, 0)
	cfg.Host = "-p 2222 blog.example"
	m := New(cfg, keyed(benchPost))
	drain(m, m.Init())
	_, cmd := m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y did nothing")
	}
	msg, ok := cmd().(CopyMsg)
	want := "ssh -p 2222 " + benchPost + "@blog.example"
	if !ok || msg.Text != want {
		t.Fatalf("y asked to copy %+v, want %q", msg, want)
	}
	if !strings.Contains(m.status, "Copied "+want) {
		t.Fatalf("status %q", m.status)
	}
	// Only when asked: opening and reading copy nothing.
	for _, k := range []string{"j", "f", "n", "g"} {
		if _, cmd := m.Update(keyMsg(k)); cmd != nil {
			if _, ok := cmd().(CopyMsg); ok {
				t.Fatalf("%q copied to the clipboard", k)
			}
		}
	}
}

func TestPermalink(t *testing.T) {
	for host, want := range map[string]string{
		"blog.example":        "ssh go@blog.example",
		"-p 23234 localhost":  "ssh -p 23234 go@localhost",
		"reader@blog.example": "ssh go@blog.example",
		"":                    "ssh go@localhost",
	} {
		if got := Permalink(host, "go"); got != want {
			t.Errorf("Permalink(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestSelectedCommentShowsTimeInVisitorsZone(t *testing.T) {
	cfg, _ := testConfig(t, 1)
	berlin, ok := zone.Load("Europe/Berlin")
	if !ok {
		t.Fatal("no Europe/Berlin")
	}
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{{nil, " UTC"}, {berlin, " CE"}} { // CET or CEST
		// At 40 columns the name and the exact time do not fit on one
		// line; the time moves to the actions' line, it is not dropped.
		for _, width := range []int{100, MinWidth} {
			s := keyed(benchPost)
			s.Location, s.Width = tc.loc, width
			m := New(cfg, s)
			drain(m, m.Init())
			c := m.reader.thread.comments[0]
			press(m, "n")
			stamp := zone.Stamp(c.CreatedAt, tc.loc)
			if !strings.Contains(stamp, tc.want) || !strings.Contains(ansi.Strip(m.View()), stamp) {
				t.Fatalf("zone %v at %d columns: selected comment does not show %q:\n%s", tc.loc, width, stamp, ansi.Strip(m.View()))
			}
		}
	}
}

func TestOldCommentsShowDateInVisitorsZone(t *testing.T) {
	at := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC)
	now := at.Add(60 * 24 * time.Hour)
	berlin, _ := zone.Load("Europe/Berlin")
	if got := ago(at, now, berlin); got != "1 Feb 2026 00:30 CET" {
		t.Errorf("ago in Berlin = %q", got)
	}
	if got := ago(at, now, nil); got != "31 Jan 2026 23:30 UTC" {
		t.Errorf("ago without a zone = %q", got)
	}
}

func TestVisitMarksFitTheWindow(t *testing.T) {
	cfg, st := visitsConfig(t, 1)
	if err := st.MarkVisit(t.Context(), "SHA256:me", data.Visit{PostSlug: benchPost}); err != nil {
		t.Fatal(err)
	}
	for w := MinWidth; w <= 120; w++ {
		s := keyed("")
		s.Width, s.Height = w, 30
		m := New(cfg, s)
		drain(m, m.Init())
		view := m.View()
		if !strings.Contains(ansi.Strip(view), "●") {
			t.Fatalf("width %d: no unread mark:\n%s", w, ansi.Strip(view))
		}
		for _, l := range strings.Split(view, "\n") {
			if ansi.StringWidth(l) > w {
				t.Fatalf("width %d: line of %d columns: %q", w, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
	}
}
