package server

import (
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Bubble Tea's standard renderer redraws on a ticker (up to 120 times a
// second) whether or not anything changed, so a thousand idle readers keep
// a core busy. We run programs without it and paint here instead: after
// each update, only the lines that changed, and nothing at all while a
// session is idle. A keypress is painted at once rather than on the next
// tick.

// Terminal modes a session needs: alternate screen, hidden cursor, mouse
// wheel (cell motion, SGR encoding) and bracketed paste.
const (
	enterTerminal = ansi.SetAltScreenSaveCursorMode + ansi.HideCursor + ansi.SetButtonEventMouseMode + ansi.SetSgrExtMouseMode + ansi.SetBracketedPasteMode + ansi.EraseEntireScreen
	leaveTerminal = ansi.ResetBracketedPasteMode + ansi.ResetSgrExtMouseMode + ansi.ResetButtonEventMouseMode + ansi.ShowCursor + ansi.ResetAltScreenSaveCursorMode
)

// painter wraps a model and writes its frames itself.
type painter struct {
	tea.Model
	out    io.Writer
	width  int
	height int
	last   []uint64 // hashes of the lines on screen
	clear  bool     // the window changed: repaint from a blank screen
}

func newPainter(m tea.Model, out io.Writer, width, height int) *painter {
	return &painter{Model: m, out: out, width: width, height: height}
}

func (p *painter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		p.width, p.height = ws.Width, ws.Height
		p.last, p.clear = nil, true
	}
	var cmd tea.Cmd
	p.Model, cmd = p.Model.Update(msg)
	return p, cmd
}

// View paints the wrapped model's frame and gives Bubble Tea nothing to do.
func (p *painter) View() string {
	p.paint(p.Model.View())
	return ""
}

func (p *painter) paint(frame string) {
	lines := strings.Split(frame, "\n")
	if p.height > 0 && len(lines) > p.height {
		lines = lines[:p.height]
	}
	hashes := make([]uint64, len(lines))
	for i, l := range lines {
		hashes[i] = maphash.String(lineSeed, l)
	}
	if p.last != nil && slices.Equal(hashes, p.last) {
		return
	}
	// Buffers are shared through a pool: an idle session keeps none, and
	// a busy one makes no garbage.
	buf := paintBuffers.Get().(*[]byte)
	b := (*buf)[:0]
	if p.clear {
		b = append(b, ansi.EraseEntireScreen...)
		p.clear = false
	}
	b = append(b, ansi.CursorHomePosition...)
	for i, line := range lines {
		if i < len(p.last) && p.last[i] == hashes[i] {
			if i < len(lines)-1 {
				b = append(b, ansi.CursorDown1...)
			}
			continue
		}
		// Clear the row, then write: no need to measure each line, which
		// was a fifth of the cost of opening a session. The ui fits every
		// line to the window; its tests check that at several sizes.
		b = append(b, "\r"+ansi.EraseEntireLine...)
		b = append(b, line...)
		if i < len(lines)-1 {
			b = append(b, "\r\n"...)
		}
	}
	if len(p.last) > len(lines) {
		b = append(b, ansi.EraseScreenBelow...)
	}
	// In pieces: the SSH channel and cipher each keep a buffer as big as
	// the largest write, for the life of the session.
	for out := b; len(out) > 0; {
		n := min(len(out), maxWrite)
		_, _ = p.out.Write(out[:n])
		out = out[n:]
	}
	if cap(b) <= maxPooled {
		*buf = b
		paintBuffers.Put(buf)
	}
	p.last = hashes
}

// paintBuffers hold frames being written; maxPooled keeps a frame from a
// huge terminal from pinning its buffer.
var paintBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 64 << 10

// maxWrite bounds one write to the session.
const maxWrite = 2048

// lineSeed keys the line hashes; a collision would leave one line stale
// until it changes again (odds 2^-64 a line).
var lineSeed = maphash.MakeSeed()
