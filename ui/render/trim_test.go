package render

import (
	"fmt"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/vt"
	"github.com/muesli/termenv"
)

func TestTrimLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"text   ", "text"},
		{"\x1b[38;5;252mtext\x1b[38;5;252m  \x1b[0m", "\x1b[38;5;252mtext\x1b[0m"},
		// A background makes padding visible: keep it.
		{"\x1b[48;5;236m code \x1b[0m  ", "\x1b[48;5;236m code \x1b[0m"},
		{"\x1b[38;5;203;48;5;236m curl\x1b[38;5;252m \x1b[0m", "\x1b[38;5;203;48;5;236m curl\x1b[38;5;252m \x1b[0m"},
		{"\x1b[4mlink \x1b[24m ", "\x1b[4mlink \x1b[24m"},
		// Sequences undone by a reset before any text are dropped.
		{"\x1b[38;5;252m\x1b[0m\x1b[38;5;252m\x1b[0m  \x1b[1mx\x1b[0m", "\x1b[0m  \x1b[1mx\x1b[0m"},
		// A reset that sets again what was in force changes nothing.
		{"\x1b[0m\x1b[38;5;252mGo was\x1b[0m\x1b[38;5;252m load \x1b[0m\x1b[38;5;252mbalancer\x1b[0m",
			"\x1b[0m\x1b[38;5;252mGo was load balancer\x1b[0m"},
		{"\x1b[0m\x1b[1m\x1b[31mx\x1b[0m\x1b[1m\x1b[31my\x1b[0m\x1b[31mz", "\x1b[0m\x1b[1m\x1b[31mxy\x1b[0m\x1b[31mz"},
		// A change after the reset counts as in force.
		{"\x1b[0m\x1b[31mx\x1b[1my\x1b[0m\x1b[31mz", "\x1b[0m\x1b[31mx\x1b[1my\x1b[0m\x1b[31mz"},
		// Before the line's first reset the state is not known: keep it.
		{"\x1b[31mx\x1b[0m\x1b[31my", "\x1b[31mx\x1b[0m\x1b[31my"},
		// The state at the end of a line survives.
		{"\x1b[1mx \x1b[31m  ", "\x1b[1mx\x1b[31m"},
		// Other escape sequences: leave the line alone.
		{"\x1b]8;;http://x\x07link\x1b]8;;\x07  ", "\x1b]8;;http://x\x07link\x1b]8;;\x07  "},
		{"\x1b[2Jx  ", "\x1b[2Jx  "},
		{"", ""},
	}
	for _, tt := range tests {
		if got := trimPadding(tt.in); got != tt.want {
			t.Errorf("trimPadding(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestTrimLooksTheSame draws glamour's output and the trimmed output on a
// terminal emulator and compares what a reader sees, cell by cell.
func TestTrimLooksTheSame(t *testing.T) {
	for _, p := range library(t).Published() {
		for _, st := range []Style{dark, light, {Profile: termenv.ANSI256, Dark: true}, {Profile: termenv.ANSI}, plain} {
			for _, width := range []int{30, 80} {
				raw, err := renderOnce(p.Body, width, st.normal())
				if err != nil {
					t.Fatal(err)
				}
				trimmed := trimPadding(raw)
				if len(trimmed) >= len(raw) && strings.Contains(raw, "  \n") {
					t.Errorf("%s: nothing trimmed", p.Slug)
				}
				if a, b := screen(raw, width), screen(trimmed, width); a != b {
					t.Errorf("%s at %d (profile %d) looks different after trimming", p.Slug, width, st.Profile)
				}
			}
		}
	}
}

// screen returns what a terminal shows for s: each cell's text and the
// parts of its style that can be seen (a plain space has no visible colour).
func screen(s string, width int) string {
	lines := strings.Count(s, "\n") + 1
	term := vt.NewEmulator(width+10, lines+1)
	term.WriteString(strings.ReplaceAll(s, "\n", "\r\n"))
	var b strings.Builder
	for y := range lines {
		for x := range width + 10 {
			c := term.CellAt(x, y)
			if c == nil {
				continue
			}
			st := c.Style
			blank := (c.Content == " " || c.Content == "") && st.Bg == nil && st.Underline == 0 &&
				st.Attrs&(uv.AttrReverse|uv.AttrStrikethrough) == 0
			if blank {
				b.WriteString(" ")
				continue
			}
			fmt.Fprintf(&b, "%s%v%v%d%d|", c.Content, st.Fg, st.Bg, st.Underline, st.Attrs)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestScreenSeesWhatMatters(t *testing.T) {
	if screen("\x1b[41m \x1b[0m", 4) == screen(" ", 4) {
		t.Error("a space with a background looks blank")
	}
	if screen("\x1b[31mx\x1b[0m", 4) == screen("x", 4) {
		t.Error("colour is invisible")
	}
	if screen("\x1b[31m \x1b[0m", 4) != screen("", 4) {
		t.Error("a coloured plain space looks different from nothing")
	}
}
