package server_test

import (
	"strings"
	"testing"
	"time"

	"blog/internal/termclient"
	"blog/terminal"
)

// typeBytes sends keys one byte per channel write, as a client whose
// terminal or network splits them would.
func typeBytes(t testing.TB, s *termclient.Session, keys string) {
	t.Helper()
	for i := range len(keys) {
		typeKeys(t, s, keys[i:i+1])
	}
}

// An escape sequence that arrives a byte at a time is still the key it
// spells (arrows, alt+key, a bracketed paste), not an Esc followed by
// text; and an Esc on its own is still Esc.
func TestEscapeSequencesSplitAtEveryByte(t *testing.T) {
	// Longer than a loaded machine pauses between two writes; an Esc on
	// its own is seen that much later.
	old := terminal.SetEscapeWait(2 * time.Second)
	t.Cleanup(func() { terminal.SetEscapeWait(old) })
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 30)
	waitFor(t, s, "enter read")
	ts.openPost(t, s, goPost)
	waitFor(t, s, "0%")

	// Down arrows scroll the reader; an Esc would have left it.
	for range 3 {
		typeBytes(t, s, "\x1b[B")
	}
	if err := s.Wait(screenWait, func(scr string) bool {
		return strings.Contains(scr, "← Test Blog") && !strings.Contains(scr, "\n 12 Nov 2026")
	}); err != nil {
		t.Fatalf("three split down arrows did not scroll the reader: %v\n%s", err, s.Screen())
	}
	for range 3 {
		typeBytes(t, s, "\x1bOA") // up, as SS3 (application cursor keys)
	}
	waitFor(t, s, "12 Nov 2026")

	// alt+j is no key of the reader: it must not go back and move down.
	typeBytes(t, s, "\x1bj")
	typeKeys(t, s, "G")
	waitFor(t, s, "100%")
	if !strings.Contains(s.Screen(), "← Test Blog") {
		t.Fatalf("a split alt+j left the reader:\n%s", s.Screen())
	}

	// A paste into the composer, markers and all a byte at a time.
	typeKeys(t, s, "c")
	waitFor(t, s, "Leave a comment")
	typeBytes(t, s, "\x1b[200~pasted in pieces\x1b[201~")
	waitFor(t, s, "pasted in pieces")
	if scr := s.Screen(); !strings.Contains(scr, "Leave a comment") || strings.Contains(scr, "[200~") || strings.Contains(scr, "[201~") {
		t.Fatalf("a split paste was not one paste:\n%s", scr)
	}

	// Esc alone closes the composer, and then leaves the post.
	typeKeys(t, s, "\x1b")
	waitFor(t, s, "Draft kept")
	typeKeys(t, s, "\x1b")
	waitFor(t, s, "enter read")
}
