package server

import (
	"io"
	"strings"

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
	last   []string // the frame on screen, line by line
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
	if p.last != nil && equalLines(lines, p.last) {
		return
	}
	// A fresh buffer each paint: an idle session keeps no output buffer.
	var b strings.Builder
	if p.clear {
		b.WriteString(ansi.EraseEntireScreen)
		p.clear = false
	}
	b.WriteString(ansi.CursorHomePosition)
	for i, line := range lines {
		if i < len(p.last) && p.last[i] == line {
			if i < len(lines)-1 {
				b.WriteString(ansi.CursorDown1)
			}
			continue
		}
		if p.width > 0 {
			line = ansi.Truncate(line, p.width, "")
		}
		b.WriteString("\r" + line)
		if ansi.StringWidth(line) < p.width {
			b.WriteString(ansi.EraseLineRight)
		}
		if i < len(lines)-1 {
			b.WriteString("\r\n")
		}
	}
	if len(p.last) > len(lines) {
		b.WriteString(ansi.EraseScreenBelow)
	}
	_, _ = io.WriteString(p.out, b.String())
	p.last = lines
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
