package terminal

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
)

// writes keeps every write the painter makes, to check both the bytes and
// the size of each write.
type writes struct {
	sizes []int
	all   strings.Builder
}

func (w *writes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	w.all.Write(p)
	return len(p), nil
}

// frame is the model the painter wraps in these tests: its view is
// whatever the step sets.
type frame struct{ view string }

func (f *frame) Init() tea.Cmd                       { return nil }
func (f *frame) Update(tea.Msg) (tea.Model, tea.Cmd) { return f, nil }
func (f *frame) View() string                        { return f.view }

// Each step paints one frame (after a window change when resize is set)
// and says exactly what reaches the terminal: only the lines that changed,
// nothing for a frame already on screen, a blank screen first and after a
// resize, where rows need no erasing.
func TestPainterWritesOnlyWhatChanged(t *testing.T) {
	const (
		home  = ansi.CursorHomePosition
		row   = "\r" + ansi.EraseEntireLine
		down  = ansi.CUD1
		below = ansi.EraseScreenBelow
		blank = ansi.EraseEntireScreen
	)
	type step struct {
		name   string
		resize *tea.WindowSizeMsg
		view   string
		want   string
	}
	for _, tc := range []struct {
		name          string
		width, height int
		steps         []step
	}{
		{"first frame, then the same again", 20, 5, []step{
			{name: "first", view: "a\nb", want: blank + home + "a\r\n" + "b"},
			{name: "unchanged", view: "a\nb", want: ""},
		}},
		{"one line changes", 20, 5, []step{
			{name: "first", view: "a\nb\nc", want: blank + home + "a\r\n" + "b\r\n" + "c"},
			{name: "middle", view: "a\nB\nc", want: home + down + row + "B\r\n"},
			{name: "last", view: "a\nB\nC", want: home + ansi.CursorDown(2) + row + "C"},
		}},
		{"a shorter frame clears below", 20, 5, []step{
			{name: "first", view: "a\nb\nc", want: blank + home + "a\r\n" + "b\r\n" + "c"},
			{name: "shorter", view: "a\nB", want: home + down + row + "B\r\n" + below},
		}},
		{"a shorter frame whose last line is unchanged keeps it", 20, 5, []step{
			{name: "first", view: "a\nb\nc", want: blank + home + "a\r\n" + "b\r\n" + "c"},
			{name: "shorter", view: "a\nb", want: home + down + "\r\n" + below},
		}},
		{"a longer frame adds lines", 20, 5, []step{
			{name: "first", view: "a", want: blank + home + "a"},
			{name: "longer", view: "a\nb", want: home + down + row + "b"},
		}},
		{"a resize repaints from a blank screen", 20, 5, []step{
			{name: "first", view: "a\nb", want: blank + home + "a\r\n" + "b"},
			{name: "resized", resize: &tea.WindowSizeMsg{Width: 30, Height: 5}, view: "a\nb", want: blank + home + "a\r\n" + "b"},
			{name: "then as before", view: "a\nb", want: ""},
		}},
		{"lines past the window are not drawn", 20, 2, []step{
			{name: "first", view: "a\nb\nc\nd", want: blank + home + "a\r\n" + "b"},
			{name: "a change below the window", view: "a\nb\nc\nD", want: ""},
		}},
		{"an oversized line is cut to the window", 4, 2, []step{
			{name: "first", view: strings.Repeat("x", 5000) + "\nb", want: blank + home + "xxxx\r\n" + "b"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &frame{}
			var out writes
			p := NewPainter(m, &out, tc.width, tc.height, nil)
			for _, st := range tc.steps {
				if st.resize != nil {
					p.resize(st.resize.Width, st.resize.Height)
				}
				m.view = st.view
				out.all.Reset()
				p.paint(m.View())
				if got := out.all.String(); got != st.want {
					t.Errorf("%s: painted %q, want %q", st.name, got, st.want)
				}
			}
		})
	}
}

// After every frame, a terminal shows that frame and nothing else: what
// the painter skips as unchanged is still on screen, and what a shorter
// frame leaves below is gone.
func TestPainterScreenShowsTheFrame(t *testing.T) {
	const width, height = 20, 6
	for _, frames := range [][]string{
		{"a\nb\nc", "a\nb"}, // shorter, the new last line unchanged
		{"a\nb\nc", "a\nB"}, // shorter, the new last line changed
		{"a\nb\nc", "a"},
		{"one\ntwo\nthree", "one\nTWO\nthree", "one", "x\ny\nz\nw", "x\ny\nz\nw"},
		{"hello world\nsecond line", "hi\nsecond line", "hi"},
		{"1\n2\n3\n4\n5\n6\n7\n8", "1\n2\n3", "1\n2\n3\n4\n5\n6\n7\n8"}, // past the window
	} {
		term := vt.NewEmulator(width, height)
		p := NewPainter(nil, term, width, height, nil)
		for i, f := range frames {
			p.paint(f)
			lines := strings.Split(f, "\n")
			want := strings.Join(lines[:min(len(lines), height)], "\n")
			if got := strings.TrimRight(term.String(), "\n"); got != want {
				t.Errorf("frames %q, after frame %d: the screen shows %q, want %q", frames, i, got, want)
			}
		}
	}
}

// Frames whose lines moved up or down (a thread scrolled, a comment added
// at the end) are painted by scrolling the terminal; whatever the moves and
// edits, the screen then shows exactly the frame.
func TestPainterScrollsAndTheScreenShowsTheFrame(t *testing.T) {
	const width, height = 30, 12
	rng := rand.New(rand.NewPCG(1, 2))
	line := func() string {
		if rng.IntN(8) == 0 {
			return "" // blank lines, as between comments
		}
		return fmt.Sprintf("\x1b[1mline\x1b[m %d", rng.IntN(1000))
	}
	for round := range 200 {
		term := vt.NewEmulator(width, height)
		go drainReplies(term)
		var out writes
		p := NewPainter(nil, io.MultiWriter(term, &out), width, height, nil)
		lines := make([]string, height)
		for i := range lines {
			lines[i] = line()
		}
		for step := range 12 {
			// Move a block of rows up or down by a few, as a thread
			// scrolls, then change a few lines, as a new comment or the
			// status line does; sometimes the frame gets shorter.
			top, bottom := rng.IntN(height/2), height/2+rng.IntN(height/2+1)
			shift := rng.IntN(2*height) - height
			moved := slices.Clone(lines)
			for i := top; i < bottom; i++ {
				if j := i + shift; j >= top && j < bottom {
					moved[i] = lines[j]
				} else {
					moved[i] = line()
				}
			}
			for range rng.IntN(3) {
				moved[rng.IntN(height)] = line()
			}
			lines = moved
			frame := lines
			if rng.IntN(10) == 0 {
				frame = lines[:height-1-rng.IntN(3)]
			}
			p.paint(strings.Join(frame, "\n"))
			want := ansi.Strip(strings.Join(frame, "\n"))
			if got := strings.TrimRight(term.String(), "\n"); got != strings.TrimRight(want, "\n") {
				t.Fatalf("round %d, step %d (rows %d-%d moved %d): the screen shows\n%s\nwant\n%s", round, step, top, bottom, shift, got, want)
			}
		}
	}
}

// A new comment at the end of a thread moves the lines above it up: the
// painter scrolls them and writes only the new lines.
func TestPainterScrollWritesOnlyTheNewLines(t *testing.T) {
	const width, height = 100, 40
	var lines []string
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("comment line %02d %s", i, strings.Repeat("text ", 15)))
	}
	var out writes
	p := NewPainter(nil, &out, width, height, nil)
	p.paint(strings.Join(lines[:height], "\n"))
	full := out.all.Len()
	out.all.Reset()
	p.paint(strings.Join(lines[3:height+3], "\n"))
	want := ansi.ResetStyle + ansi.CursorPosition(1, 1) + ansi.DeleteLine(3) + ansi.CursorPosition(1, height-2) + ansi.InsertLine(3)
	if got := out.all.String(); !strings.HasPrefix(got, want) || out.all.Len() > full/8 {
		t.Errorf("moved up by 3: wrote %d bytes (the first frame %d), %q", out.all.Len(), full, got)
	}
}

// A client that has just made its window smaller gets frames for the old
// size until its window change arrives: moving rows must stay within the
// screen it has (a scrolling region past its last row crashed x/vt).
func TestPainterScrollsWithinASmallerScreen(t *testing.T) {
	term := vt.NewEmulator(30, 8)
	go drainReplies(term)
	p := NewPainter(&frame{}, term, 30, 30, nil)
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	for shift := range 5 {
		p.paint(strings.Join(lines[shift:shift+30], "\n"))
	}
	p.resize(30, 8)
	p.paint(strings.Join(lines[10:18], "\n"))
	if got, want := strings.TrimRight(term.String(), "\n"), strings.Join(lines[10:18], "\n"); got != want {
		t.Errorf("after the window change the screen shows\n%s\nwant\n%s", got, want)
	}
}

func drainReplies(term *vt.Emulator) {
	buf := make([]byte, 64)
	for {
		if _, err := term.Read(buf); err != nil {
			return
		}
	}
}

// A big frame goes out in writes of at most maxWrite bytes: the SSH channel
// and cipher keep a buffer as big as the largest write.
func TestPainterWritesInPieces(t *testing.T) {
	var out writes
	p := NewPainter(nil, &out, 200, 100, nil)
	p.paint(strings.Repeat(strings.Repeat("y", 200)+"\n", 100))
	if out.all.Len() < 200*100 {
		t.Fatalf("painted %d bytes of a 20,000-cell frame", out.all.Len())
	}
	for _, n := range out.sizes {
		if n > maxWrite {
			t.Fatalf("a write of %d bytes; at most %d", n, maxWrite)
		}
	}
}

// fitLine cuts a line to the window's width, then to most bytes, always
// ending a cut line with a style reset and never inside a character.
func TestFitLine(t *testing.T) {
	for _, tc := range []struct {
		name        string
		line        string
		width, most int
		want        string
	}{
		{"cut to width", "abcdef", 3, 100, "abc"},
		{"wide characters count two cells", "日本語です", 5, 100, "日本"},
		{"escapes kept within the width", "\x1b[31mab\x1b[0mcd", 3, 100, "\x1b[31mab\x1b[0mc"},
		{"cut to bytes ends with a reset", strings.Repeat("\x1b[31mx", 10), 10, 20, "\x1b[31mx\x1b[31mx\x1b[31m" + ansi.ResetStyle},
		{"never inside a character", "ééééé", 5, 8, "éé" + ansi.ResetStyle},
		{"zero width counts as one", "abc", 0, 100, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fitLine(tc.line, tc.width, tc.most); got != tc.want {
				t.Errorf("fitLine(%q, %d, %d) = %q, want %q", tc.line, tc.width, tc.most, got, tc.want)
			}
		})
	}
}

func TestLineBytes(t *testing.T) {
	for _, tc := range []struct{ width, want int }{
		{0, 1024 + 32}, {1, 1024 + 32}, {80, 1024 + 32*80}, {500, 1024 + 32*500},
	} {
		if got := lineBytes(tc.width); got != tc.want {
			t.Errorf("lineBytes(%d) = %d, want %d", tc.width, got, tc.want)
		}
	}
}

// Painters showing the very same frame (readers at the same place) share
// its lines and hashes instead of splitting it each.
func TestPaintersShareAFrame(t *testing.T) {
	frame := strings.Repeat("a shared line\n", 30) + "the end"
	var a, b writes
	pa, pb := NewPainter(nil, &a, 80, 24, nil), NewPainter(nil, &b, 80, 24, nil)
	pa.paint(frame)
	pb.paint(frame)
	if &pa.last[0] != &pb.last[0] || a.all.String() != b.all.String() {
		t.Fatal("two painters of one frame split it twice")
	}
	// A frame with the same text at another address is split again, and
	// painted alike.
	again := strings.Clone(frame)
	var c writes
	pc := NewPainter(nil, &c, 80, 24, nil)
	pc.paint(again)
	if &pc.last[0] == &pa.last[0] || c.all.String() != a.all.String() {
		t.Fatal("a copy of the frame was not painted on its own")
	}
}
