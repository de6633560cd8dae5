package ui

import (
	"strings"
	"sync"
	"unsafe"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// keyMap holds every binding; each screen picks the ones it shows.
type keyMap struct {
	Up, Down, PageDown, PageUp, HalfDown, HalfUp, Top, Bottom key.Binding
	Open, Back, Filter, ClearFilter, Quit, ForceQuit, Help    key.Binding
	Comment, Subscribe, Delete, NextComment, PrevComment      key.Binding
	Reply, Edit                                               key.Binding
	Hide, Ban, JumpNew, Resume, Copy                          key.Binding
	Send, Tab, Close, Submit                                  key.Binding
}

var keys = keyMap{
	Up:          key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
	Down:        key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
	PageDown:    key.NewBinding(key.WithKeys(" ", "f", "pgdown"), key.WithHelp("space/f", "page down")),
	PageUp:      key.NewBinding(key.WithKeys("b", "pgup"), key.WithHelp("b", "page up")),
	HalfDown:    key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
	HalfUp:      key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
	Top:         key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
	Bottom:      key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "end")),
	Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "read")),
	Back:        key.NewBinding(key.WithKeys("esc", "h", "left"), key.WithHelp("esc", "back")),
	Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
	ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	ForceQuit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
	Comment:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "comment")),
	Subscribe:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "subscribe")),
	NextComment: key.NewBinding(key.WithKeys("n", "tab"), key.WithHelp("n/N", "select comment")),
	PrevComment: key.NewBinding(key.WithKeys("N", "shift+tab"), key.WithHelp("N", "previous comment")),
	Delete:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete mine")),
	Reply:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reply")),
	Edit:        key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit mine (10 min)")),
	Hide:        key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "hide/unhide")),
	Ban:         key.NewBinding(key.WithKeys("B"), key.WithHelp("B", "ban author 24h")),
	JumpNew:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "first new comment")),
	Resume:      key.NewBinding(key.WithKeys("'"), key.WithHelp("'", "where you stopped")),
	Copy:        key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy ssh link")),
	Send:        key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "post")),
	Tab:         key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "name/text")),
	Close:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	Submit:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
}

// helpKeys adapts a list of bindings to bubbles/help.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

var (
	homeHelp = helpKeys{
		short: []key.Binding{keys.Up, keys.Down, keys.Open, keys.Filter, keys.Subscribe, keys.Help, keys.Quit},
		full: [][]key.Binding{
			{keys.Up, keys.Down, keys.Top, keys.Bottom},
			{keys.Open, keys.Filter, keys.ClearFilter},
			{keys.Subscribe, keys.Help, keys.Quit, keys.ForceQuit},
		},
	}
	// scrollHelp and pageHelp only label the short help bar.
	scrollHelp = key.NewBinding(key.WithKeys("j"), key.WithHelp("j/k", "scroll"))
	pageHelp   = key.NewBinding(key.WithKeys(" "), key.WithHelp("space/b", "page"))
	readerHelp = helpKeys{
		short: []key.Binding{scrollHelp, pageHelp, keys.Comment, keys.Subscribe, keys.Back, keys.Help, keys.Quit},
		full: [][]key.Binding{
			{keys.Up, keys.Down, keys.PageDown, keys.PageUp, keys.HalfDown, keys.HalfUp, keys.Top, keys.Bottom},
			{keys.Comment, keys.NextComment, keys.Reply, keys.Edit, keys.Delete, keys.Subscribe},
			{keys.JumpNew, keys.Resume, keys.Copy},
			{keys.Back, keys.Help, keys.Quit, keys.ForceQuit},
		},
	}
	adminHelp = []key.Binding{keys.Hide, keys.Ban}
)

// shortHelp is the one-line key bar, cut to the window with an ellipsis.
// (bubbles/help overflows when not even the ellipsis fits.)
func (m *Model) shortHelp(bindings []key.Binding) string {
	k := helpBarKey{m.st, unsafe.SliceData(bindings), len(bindings), m.width}
	helpBars.mu.Lock()
	bar, ok := helpBars.drawn[k]
	helpBars.mu.Unlock()
	if ok {
		return bar
	}
	bar = drawHelpBar(m.st, bindings, m.width-2)
	helpBars.mu.Lock()
	if len(helpBars.drawn) >= maxHelpBars {
		clear(helpBars.drawn) // widths and looks enough to fill it are rare
	}
	helpBars.drawn[k] = bar
	helpBars.mu.Unlock()
	return bar
}

// helpBars are the key bars drawn so far, shared by every session: one is
// on every frame, and the bindings, width and look decide it. The key
// slices are package variables, so their address names them.
var helpBars = struct {
	mu    sync.Mutex
	drawn map[helpBarKey]string
}{drawn: map[helpBarKey]string{}}

// maxHelpBars bounds helpBars: at most about 300 bytes each.
const maxHelpBars = 4096

type helpBarKey struct {
	st       *Styles
	bindings *key.Binding
	n, width int
}

func drawHelpBar(st *Styles, bindings []key.Binding, width int) string {
	sep := st.Faint.Render(" • ")
	var b strings.Builder
	used := 0
	for _, kb := range bindings {
		item := st.HelpKey.Render(kb.Help().Key) + " " + st.HelpDesc.Render(kb.Help().Desc)
		if used > 0 {
			item = sep + item
		}
		w := ansi.StringWidth(item)
		if used+w > width {
			if used+2 <= width {
				b.WriteString(st.Faint.Render(" …"))
			}
			break
		}
		b.WriteString(item)
		used += w
	}
	return b.String()
}
