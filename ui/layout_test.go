package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"blog/data"
	"blog/posts"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/muesli/termenv"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// The layout property: no line of any screen is wider than the window, and
// no paragraph is wrapped a second time (a line that ends although the
// next word would have fitted on it), at every width from 40 to 250 and
// every height from 12 to 100, for every sample post and a hostile one.
// Screens are read through a terminal emulator, as a reader's terminal
// would draw them: a line one cell too wide wraps there and shifts every
// line below it.

// layoutPosts are the sample posts (drafts too) and testdata/hostile.md.
func layoutPosts(t testing.TB) (*posts.Library, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../posts/content/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample posts: %v", err)
	}
	files = append(files, "testdata/hostile.md")
	src := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), "\ndraft: true\n", "\ndraft: false\n", 1)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		src[strings.TrimSuffix(filepath.Base(f), ".md")] = s
	}
	lib, err := posts.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Published()) != len(files) {
		t.Fatalf("%d posts published, want %d", len(lib.Published()), len(files))
	}
	return lib, src
}

// hostileComments are comment bodies as hostile as the post.
var hostileComments = []string{
	"A short one.",
	strings.Repeat("Supercalifragilisticexpialidocious", 9) + " and then ordinary words after the long one, enough to wrap a line or two.",
	"東京の天気は晴れです。" + strings.Repeat("全角文字の長い行", 12) + " 😀🎉🚀 then English again, with words that wrap normally at every width.",
	"See https://example.com/" + strings.Repeat("very-long-path/", 20) + " for details, and reply if you disagree, please, with reasons.",
	"Line one\nLine two\n\n\n\nLine after blank lines, and a tab\there, then more words to wrap at narrow widths.",
}

func layoutConfig(t testing.TB) (*Config, map[string]string) {
	t.Helper()
	cfg, st := testConfig(t, 0)
	lib, src := layoutPosts(t)
	cfg.Posts = lib
	cfg.Caches = NewCaches(CacheBudgets{})
	for _, p := range lib.Published() {
		for i, body := range hostileComments {
			name := fmt.Sprintf("Reader %d", i)
			if i == 1 {
				name = strings.Repeat("W", data.MaxNameRunes)
			}
			_, err := st.AddComment(context.Background(), data.NewComment{
				PostSlug: p.Slug, Name: name, Body: body,
				Author: data.Author{KeyFingerprint: fmt.Sprintf("SHA256:layout%d", i), IP: "192.0.2.1"},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return cfg, src
}

// terminal draws frames on an emulated screen of one size.
type terminal struct {
	em   *vt.Emulator
	w, h int
}

func newTerminal(w, h int) *terminal { return &terminal{em: vt.NewEmulator(w, h), w: w, h: h} }

// resize reuses the emulator: making one costs more than drawing a frame.
func (term *terminal) resize(w, h int) {
	if w != term.w || h != term.h {
		term.em.Resize(w, h)
		term.w, term.h = w, h
	}
}

// show draws frame the way a terminal draws it, each line at the start of
// its row, and fails if a line does not fit: one too wide wraps onto the
// next row in the emulator, leaving the cursor there. It returns the
// screen's rows.
func (term *terminal) show(t *testing.T, where, frame string) []string {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) > term.h {
		t.Errorf("%s: %d lines on a screen of %d", where, len(lines), term.h)
		lines = lines[:term.h]
	}
	for i := range term.h {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		_, _ = fmt.Fprintf(term.em, "\x1b[%d;1H\x1b[2K%s\x1b[0m", i+1, l)
		if y := term.em.CursorPosition().Y; y != i {
			t.Errorf("%s: row %d (%d columns) does not fit a %dx%d window: it ends on row %d:\n%q", where, i, ansi.StringWidth(l), term.w, term.h, y, ansi.Strip(l))
			return nil
		}
	}
	rows := term.rows()
	for i, l := range lines {
		want := strings.TrimRight(strings.ReplaceAll(ansi.Strip(l), "\u00a0", " "), " ")
		got := strings.ReplaceAll(rows[i], "\u00a0", " ")
		if w := ansi.StringWidth(l); w > term.w || strings.TrimRight(got, " ") != want {
			t.Errorf("%s: row %d of %d columns does not fit a %dx%d window:\n got %q\nwant %q", where, i, w, term.w, term.h, got, want)
			return nil
		}
	}
	return rows
}

// rows are the screen's rows, trailing blanks trimmed, with a space drawn
// on a background (as in a code span's padding) as U+00A0: it is visible,
// so it counts for the width of a line and belongs to its word.
func (term *terminal) rows() []string {
	out := make([]string, term.h)
	var b strings.Builder
	for y := range term.h {
		b.Reset()
		for x := range term.w {
			c := term.em.CellAt(x, y)
			switch {
			case c == nil || c.Content == "":
				if c == nil || c.Width != 0 {
					b.WriteByte(' ')
				}
			case c.Content == " " && c.Style.Bg != nil:
				b.WriteString("\u00a0")
			default:
				b.WriteString(c.Content)
			}
		}
		out[y] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// longWords are the source's words too long for any line we test, which
// may be cut anywhere; what follows a cut starts a new line.
func longWords(src string) []string {
	var out []string
	for _, w := range strings.Fields(src) {
		if ansi.StringWidth(w) > 38 {
			out = append(out, w)
		}
	}
	return out
}

// codeText is the text of the source's code blocks and tables, whose lines
// end where their author or their columns end them.
func codeText(src string) string {
	codeMu.Lock()
	defer codeMu.Unlock()
	if c, ok := codeCache[src]; ok {
		return c
	}
	var b strings.Builder
	defer func() { codeCache[src] = b.String() }()
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader([]byte(src)))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindFencedCodeBlock, ast.KindCodeBlock:
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value([]byte(src)))
			}
			b.WriteString("\n")
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

var (
	codeMu    sync.Mutex
	codeCache = map[string]string{}
)

// blockPrefix is a line's indentation and quote bars.
func blockPrefix(l string) string {
	return l[:len(l)-len(strings.TrimLeft(l, " │"))]
}

// startsItem reports whether a line (after its prefix) starts a list item.
func startsItem(s string) bool {
	for _, m := range []string{"• ", "◦ ", "▪ ", "- ", "* ", "[✓] ", "[ ] ", "[x] "} {
		if strings.HasPrefix(s, m) {
			return true
		}
	}
	n := len(s) - len(strings.TrimLeft(s, "0123456789"))
	return n > 0 && strings.HasPrefix(s[n:], ". ")
}

// checkProse fails on a line of the reader's content that ends although
// the first word of the next line, in the same block, would have fitted:
// a paragraph wrapped twice, or wrapped narrower than the window.
func checkProse(t *testing.T, where string, lines []string, width int, src string) {
	t.Helper()
	code, long := codeText(src), longWords(src)
	isCode := func(s string) bool {
		// A table's cells are bars apart; a quote's bars start the line.
		q := strings.TrimPrefix(s, " ")
		for strings.HasPrefix(q, "│ ") {
			q = q[len("│ "):]
		}
		s = strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
		return strings.Contains(code, s) || strings.ContainsAny(q, "─┼│")
	}
	cut := func(s string) bool {
		f := strings.Fields(s)
		if len(f) == 0 {
			return false
		}
		last := f[len(f)-1]
		for _, w := range long {
			if strings.Contains(w, last) {
				return true
			}
		}
		return false
	}
	for i := 0; i+1 < len(lines); i++ {
		l, n := lines[i], lines[i+1]
		p := blockPrefix(l)
		if strings.TrimSpace(l) == "" || strings.TrimLeft(l, " │") == "" || strings.TrimLeft(n, " │") == "" || blockPrefix(n) != p {
			continue
		}
		rest := n[len(p):]
		word, _, _ := strings.Cut(rest, " ")
		if startsItem(rest) || isCode(l) || isCode(n) || cut(l) || cut(word) {
			continue
		}
		if ansi.StringWidth(l)+1+ansi.StringWidth(word) <= width {
			t.Errorf("%s: line %d ends early, %q would fit after it:\n%q\n%q", where, i, word, l, n)
		}
	}
}

// readAll pages through the open post and its thread, checking every
// screen, and returns the content lines as drawn (the reader's margin
// included).
func readAll(t *testing.T, m *Model, term *terminal, where string) []string {
	t.Helper()
	r := m.reader
	var content []string
	for page := 0; ; page++ {
		rows := term.show(t, fmt.Sprintf("%s page %d", where, page), m.View())
		if t.Failed() {
			return nil
		}
		vh := r.viewHeight(m)
		for i := 0; i < vh && 2+i < len(rows); i++ {
			at := r.offset + i
			for len(content) <= at {
				content = append(content, "")
			}
			content[at] = strings.TrimRight(rows[2+i], " ")
		}
		if r.atBottom(m) && !r.thread.hasMore {
			break
		}
		if page > 2000 {
			t.Fatalf("%s: no end after %d pages", where, page)
		}
		press(m, "f")
	}
	return content
}

// checkRegions checks the prose of what readAll returned: the title, the
// post's body and each comment's body (one without line breaks of its
// own); the lines around them (meta line, comment heads, the thread's
// frame) are not prose.
func checkRegions(t *testing.T, where string, m *Model, content []string, src string) {
	t.Helper()
	r := m.reader
	width := 1 + m.contentWidth()
	part := func(from, to int) []string { return content[min(from, len(content)):min(to, len(content))] }
	checkProse(t, where+" title", part(0, len(r.head)-2), width, r.post.Title)
	checkProse(t, where+" body", part(len(r.head), r.threadStart()), width, src)
	t0 := r.threadStart()
	for i, c := range r.thread.comments {
		if strings.Contains(c.Body, "\n") {
			continue
		}
		end := len(r.thread.lines)
		if i+1 < len(r.thread.lineOf) {
			end = r.thread.lineOf[i+1]
		}
		checkProse(t, fmt.Sprintf("%s comment %d", where, i), part(t0+r.thread.lineOf[i]+1, t0+end), width, c.Body)
	}
}

// glance checks the reader's first screen, with middle one in the middle,
// and the last.
func glance(t *testing.T, m *Model, term *terminal, where string, middle bool) {
	t.Helper()
	term.show(t, where+" top", m.View())
	if middle {
		press(m, "ctrl+d")
		for range m.height % 5 {
			press(m, "f")
		}
		term.show(t, where+" middle", m.View())
	}
	press(m, "G")
	term.show(t, where+" end", m.View())
}

// The body's wrapping depends on the width only, the paging on both: every
// width is read through at one height (past the widest content, the text
// is laid out as at that width, so only the first screen is looked at), and every height at a few widths is looked at from the top,
// the middle and the end of the hostile post.
const sweepHeight = 40

var heightWidths = []int{40, 100, 250}

func TestLayoutPropertyEveryWidth(t *testing.T) {
	t.Parallel()
	cfg, src := layoutConfig(t)
	look := Look{Profile: termenv.TrueColor, Dark: true}
	for _, p := range cfg.Posts.Published() {
		t.Run(p.Slug, func(t *testing.T) {
			t.Parallel()
			term := newTerminal(40, 12)
			for w := 40; w <= 250; w++ {
				term.resize(w, sweepHeight)
				where := fmt.Sprintf("%dx%d", w, sweepHeight)
				m := New(cfg, Session{Slug: p.Slug, Look: look, Width: w, Height: sweepHeight, Author: data.Author{KeyFingerprint: "SHA256:layout1"}})
				drain(m, m.Init())
				if m.contentWidth() == maxContentWidth && w > maxContentWidth+3 {
					// The text is laid out as at the last width; only the
					// lines around it are wider.
					term.show(t, where, m.View())
					continue
				}
				content := readAll(t, m, term, where)
				if t.Failed() {
					return
				}
				checkRegions(t, where, m, content, src[p.Slug])
				if t.Failed() {
					return
				}
			}
			if p.Slug != "hostile" {
				return // the heights page the same way for every post
			}
			for _, w := range heightWidths {
				for h := 12; h <= 100; h++ {
					term.resize(w, h)
					where := fmt.Sprintf("%dx%d", w, h)
					m := New(cfg, Session{Slug: p.Slug, Look: look, Width: w, Height: h, Author: data.Author{KeyFingerprint: "SHA256:layout1"}})
					drain(m, m.Init())
					glance(t, m, term, where, true)
					if t.Failed() {
						return
					}
				}
			}
		})
	}
}

// Every other screen fits every size: the list, the subscribe form, the
// composer holding hostile text, a selected comment with its actions, and
// the help.
func TestLayoutPropertyOtherScreens(t *testing.T) {
	t.Parallel()
	cfg, _ := layoutConfig(t)
	look := Look{Profile: termenv.TrueColor, Dark: true}
	term := newTerminal(40, 12)
	var sizes [][2]int
	for w := 40; w <= 250; w++ {
		sizes = append(sizes, [2]int{w, 12})
	}
	for _, w := range []int{40, 250} {
		for h := 13; h <= 100; h++ {
			sizes = append(sizes, [2]int{w, h})
		}
	}
	for _, size := range sizes {
		w, h := size[0], size[1]
		term.resize(w, h)
		where := fmt.Sprintf("%dx%d", w, h)
		m := New(cfg, Session{Look: look, Width: w, Height: h, Author: data.Author{KeyFingerprint: "SHA256:layout1"}})
		drain(m, m.Init())
		term.show(t, where+" list", m.View())
		press(m, "s")
		term.show(t, where+" subscribe", m.View())
		press(m, "esc", "?")
		term.show(t, where+" list help", m.View())
		press(m, "esc", "G", "enter")
		press(m, "n", "n")
		term.show(t, where+" selected comment", m.View())
		press(m, "c")
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(hostileComments[1] + hostileComments[2])})
		term.show(t, where+" composer", m.View())
		press(m, "esc", "?")
		term.show(t, where+" reader help", m.View())
		if t.Failed() {
			return
		}
	}
}
