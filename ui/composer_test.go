package ui

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"blog/data"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// composing is a model on the Go post with the composer open.
func composing(t *testing.T) *Model {
	t.Helper()
	cfg, _ := testConfig(t, 0)
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30, Author: data.Author{KeyFingerprint: "SHA256:writer"}})
	drain(m, m.Init())
	press(m, "c")
	if m.composer == nil {
		t.Fatal("composer did not open")
	}
	return m
}

func send(m *Model, k tea.KeyMsg) {
	_, cmd := m.Update(k)
	drain(m, cmd)
}

func typeRunes(m *Model, s string) {
	for _, r := range s {
		send(m, runeKey(r))
	}
}

func TestTypingStopsAtTheLimitWithANote(t *testing.T) {
	m := composing(t)
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("x", data.MaxCommentRunes-4)), Paste: true})
	typeRunes(m, "xx")
	// Keys typed faster than read come in one message: what fits is kept.
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("abcdef")})
	if got := m.composer.text.Value(); got != strings.Repeat("x", data.MaxCommentRunes-2)+"ab" {
		t.Fatalf("draft after a batch past the limit ends %q (%d runes)", got[len(got)-10:], utf8.RuneCountInString(got))
	}
	if !strings.Contains(m.View(), "at the limit of 2000 characters") {
		t.Fatalf("no note at the limit:\n%s", m.View())
	}
	typeRunes(m, "more")
	send(m, tea.KeyMsg{Type: tea.KeyEnter})
	if n := utf8.RuneCountInString(m.composer.text.Value()); n != data.MaxCommentRunes {
		t.Fatalf("%d runes after typing past the limit", n)
	}
	if !strings.Contains(m.View(), "nothing more can be typed") || !strings.Contains(m.View(), "2000 / 2000") {
		t.Fatalf("view at the limit:\n%s", m.View())
	}
	// A paste that does not fit is refused whole; the draft is intact.
	send(m, tea.KeyMsg{Type: tea.KeyBackspace})
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("pasted"), Paste: true})
	if !strings.Contains(m.View(), "Nothing was pasted") {
		t.Fatalf("no note for a paste past the limit:\n%s", m.View())
	}
	if got := m.composer.text.Value(); got != strings.Repeat("x", data.MaxCommentRunes-2)+"a" {
		t.Fatalf("paste changed the draft: ends %q", got[len(got)-10:])
	}
	// Closing and opening again keeps the draft.
	press(m, "esc", "c")
	if n := utf8.RuneCountInString(m.composer.text.Value()); n != data.MaxCommentRunes-1 {
		t.Fatalf("reopened draft has %d runes", n)
	}
}

// The text area counts columns; the limit is characters, as the store
// counts them, so a wide character counts once.
func TestWideCharactersCountOnce(t *testing.T) {
	m := composing(t)
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("語", data.MaxCommentRunes-5)), Paste: true})
	typeRunes(m, strings.Repeat("語", 10))
	if n := utf8.RuneCountInString(m.composer.text.Value()); n != data.MaxCommentRunes {
		t.Fatalf("%d wide characters kept, want %d", n, data.MaxCommentRunes)
	}
}

func TestLinesStopAtTheLimit(t *testing.T) {
	m := composing(t)
	for range MaxCommentLines + 5 {
		send(m, runeKey('l'))
		send(m, tea.KeyMsg{Type: tea.KeyEnter})
	}
	if n := m.composer.text.LineCount(); n != MaxCommentLines {
		t.Fatalf("%d lines, want %d", n, MaxCommentLines)
	}
	if !strings.Contains(m.View(), "at most 100 lines") {
		t.Fatalf("no note at the line limit:\n%s", m.View())
	}
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a\nb"), Paste: true})
	if !strings.Contains(m.View(), "Nothing was pasted") || m.composer.text.LineCount() != MaxCommentLines {
		t.Fatalf("a paste of lines past the limit was taken:\n%s", m.View())
	}
}

func TestNameStopsAtTheLimit(t *testing.T) {
	m := composing(t)
	send(m, tea.KeyMsg{Type: tea.KeyTab})
	typeRunes(m, strings.Repeat("n", data.MaxNameRunes+3))
	if got := m.composer.name.Value(); got != strings.Repeat("n", data.MaxNameRunes) {
		t.Fatalf("name %q", got)
	}
	if !strings.Contains(m.View(), "Names are at most 32 characters") {
		t.Fatalf("no note at the name limit:\n%s", m.View())
	}
}

// The text area keeps a wrapped copy of every version of a line it draws,
// up to MaxHeight of them: editing a long line over and over must not
// grow memory beyond that.
func TestEditingKeepsMemoryBounded(t *testing.T) {
	m := composing(t)
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("word ", data.MaxCommentRunes/5)), Paste: true})
	before := heapAfterGC()
	for i := range 1000 {
		send(m, tea.KeyMsg{Type: tea.KeyBackspace})
		send(m, runeKey(rune(0x4E00+i))) // a new version of the line each time
		m.View()
	}
	grown := int64(heapAfterGC()) - int64(before)
	t.Logf("heap grew %d KB over 1,000 edits of a 2,000-character line", grown>>10)
	if grown > 6<<20 { // unbounded, it grows by about 11 MB
		t.Fatalf("heap grew %d MB editing one comment", grown>>20)
	}
	if n := utf8.RuneCountInString(m.composer.text.Value()); n != data.MaxCommentRunes {
		t.Fatalf("draft has %d runes", n)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A visitor who posts before the name remembered for their key has been
// read (a busy server) posts under that name, not as Anonymous.
func TestPostBeforeTheRememberedNameArrivesKeepsIt(t *testing.T) {
	cfg, st := testConfig(t, 0)
	postAs(t, st, bobKey, "bob", "an earlier comment, which remembers the name", 0)
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 100, Height: 30, Author: bobKey})
	drain(m, m.Init())
	press(m, "G")
	_, lookup := m.Update(keyMsg("c")) // the name's lookup, left unrun for now
	if m.composer == nil || lookup == nil {
		t.Fatalf("c opened no composer, or asked for no name (composer %v)", m.composer != nil)
	}
	typeRunes(m, "posted-before-the-name")
	ctrlS(m)
	if m.composer != nil {
		t.Fatalf("not posted: %q", m.status)
	}
	drain(m, lookup) // the lookup's answer comes late, and changes nothing
	got, err := st.Comments(context.Background(), benchPost, data.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if last.Body != "posted-before-the-name" || last.AuthorName != "bob" {
		t.Fatalf("the last comment is %q by %q, want it by bob", last.Body, last.AuthorName)
	}
}
