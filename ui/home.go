package ui

import (
	"strings"
	"unicode/utf8"

	"blog/data"
	"blog/posts"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// homeState is the post list with its filter.
type homeState struct {
	all       []posts.Post // the library's shared snapshot; never modified
	version   uint64
	shown     []posts.Post // all, or the filter's matches
	cursor    int
	top       int // first visible item
	filter    string
	filtering bool
}

// linesPerItem is title, meta, summary and a blank line.
const linesPerItem = 4

func (h *homeState) refresh(lib *posts.Library) {
	if v := lib.Version(); h.all != nil && v == h.version {
		return
	} else {
		h.version = v
	}
	h.all = lib.Published()
	h.applyFilter()
}

func (h *homeState) applyFilter() {
	if h.filter == "" {
		h.shown = h.all
	} else {
		q := strings.ToLower(h.filter)
		h.shown = nil
		for _, p := range h.all {
			if matches(p, q) {
				h.shown = append(h.shown, p)
			}
		}
	}
	h.cursor = min(h.cursor, max(len(h.shown)-1, 0))
}

func matches(p posts.Post, q string) bool {
	if strings.Contains(strings.ToLower(p.Title), q) || strings.Contains(strings.ToLower(p.Summary), q) {
		return true
	}
	for _, t := range p.Tags {
		if strings.Contains(strings.ToLower(t), q) {
			return true
		}
	}
	return false
}

func (h *homeState) key(m *Model, k tea.KeyMsg) tea.Cmd {
	h.refresh(m.cfg.Posts)
	if h.filtering {
		return h.filterKey(m, k)
	}
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Up):
		h.move(-1)
	case key.Matches(k, keys.Down):
		h.move(1)
	case key.Matches(k, keys.Top):
		h.cursor = 0
	case key.Matches(k, keys.Bottom):
		h.cursor = max(len(h.shown)-1, 0)
	case key.Matches(k, keys.Open):
		if len(h.shown) > 0 {
			return m.openPost(h.shown[h.cursor])
		}
	case key.Matches(k, keys.Filter):
		h.filtering = true
	case key.Matches(k, keys.ClearFilter):
		h.filter = ""
		h.applyFilter()
	case key.Matches(k, keys.Subscribe):
		return m.openSubscribe()
	case key.Matches(k, keys.Help):
		m.showHelp = true
	}
	return nil
}

func (h *homeState) filterKey(m *Model, k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		h.filtering, h.filter = false, ""
	case tea.KeyEnter:
		h.filtering = false
		if len(h.shown) > 0 {
			return m.openPost(h.shown[h.cursor])
		}
	case tea.KeyUp, tea.KeyDown:
		h.move(map[tea.KeyType]int{tea.KeyUp: -1, tea.KeyDown: 1}[k.Type])
		return nil
	case tea.KeyBackspace:
		if r := []rune(h.filter); len(r) > 0 {
			h.filter = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		if len(h.filter) < maxFilterBytes && !k.Paste {
			h.filter = cutBytes(h.filter+printable(string(k.Runes[:min(len(k.Runes), maxFilterBytes)])), maxFilterBytes)
		}
	}
	h.applyFilter()
	return nil
}

// maxFilterBytes bounds the filter: titles are short.
const maxFilterBytes = 64

// cutBytes shortens s to at most n bytes without splitting a rune.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// printable keeps only characters that are safe to echo into a terminal,
// on one line.
func printable(s string) string {
	return strings.ReplaceAll(data.Displayable(s), "\n", "")
}

func (h *homeState) move(d int) {
	h.cursor = max(0, min(h.cursor+d, len(h.shown)-1))
}

func (h *homeState) mouse(msg tea.MouseMsg) {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		h.move(-1)
	case tea.MouseButtonWheelDown:
		h.move(1)
	}
}

func (h *homeState) view(m *Model) string {
	h.refresh(m.cfg.Posts)
	st, w := m.st, m.width
	inner := w - 2
	var b strings.Builder
	b.Grow(m.frameSize) // one allocation, not a doubling series

	b.WriteString(" " + spread(st.AppTitle.Render(m.cfg.Title), st.Host.Render("ssh "+m.cfg.Host), inner) + "\n")
	used := 1
	if m.cfg.Notice != "" {
		box := st.Notice.Width(inner - 2).Render(m.cfg.Notice)
		for _, l := range strings.Split(box, "\n") {
			b.WriteString(" " + l + "\n")
			used++
		}
	}
	b.WriteString("\n")
	used++

	switch {
	case h.filtering || h.filter != "":
		cursor := ""
		if h.filtering {
			cursor = "█"
		}
		b.WriteString(" " + st.Accent.Render("Filter: ") + h.filter + cursor + st.Dim.Render("  ("+plural(len(h.shown), "match", "matches")+")") + "\n\n")
		used += 2
	}

	footer := m.footer(homeHelp)
	overlay := m.homeOverlay()
	avail := m.height - used - lipgloss.Height(footer) - lipgloss.Height(overlay) + 1
	visible := max(avail/linesPerItem, 0)
	if h.cursor < h.top {
		h.top = h.cursor
	}
	if visible > 0 && h.cursor >= h.top+visible {
		h.top = h.cursor - visible + 1
	}

	lines := 0
	counts := m.cfg.counts()
	if len(h.shown) == 0 && avail > 0 {
		msg := "No posts yet."
		if h.filter != "" {
			msg = "No post matches \"" + h.filter + "\". Press esc to clear the filter."
		}
		b.WriteString(" " + st.Dim.Render(msg) + "\n")
		lines++
	}
	for i := h.top; i < len(h.shown) && i < h.top+visible; i++ {
		p := h.shown[i]
		bar := "  "
		title := st.PostTitle
		if i == h.cursor {
			bar = st.Bar.Render("▌ ")
			title = st.SelectedTitle
		}
		meta := p.Date.Format("2 Jan 2006") + " · " + itoa(p.Minutes) + " min read"
		if len(p.Tags) > 0 {
			meta += " · " + strings.Join(p.Tags, ", ")
		}
		meta += " · " + plural(counts[p.Slug], "comment", "comments")
		dot, news := m.visitMarks(p.Slug)
		b.WriteString(" " + bar + dot + title.Render(truncate(p.Title, inner-2-lipgloss.Width(dot))) + "\n")
		b.WriteString(" " + bar + st.Meta.Render(truncate(meta, inner-2-lipgloss.Width(news))) + news + "\n")
		b.WriteString(" " + bar + st.Summary.Render(truncate(p.Summary, inner-2)) + "\n\n")
		lines += linesPerItem
	}
	if more := len(h.shown) - h.top - visible; more > 0 && lines < avail {
		b.WriteString("   " + st.Dim.Render("↓ "+plural(more, "more post", "more posts")) + "\n")
		lines++
	}
	for ; lines < avail; lines++ {
		b.WriteString("\n")
	}
	b.WriteString(overlay)
	b.WriteString(footer)
	return b.String()
}

// visitMarks are what the post list shows of the visitor's visits: a dot
// before a post they never opened, and after the meta line "unread" or how
// many comments came since they last read it. Keyless visitors, and
// visitors whose visits are not read yet, see neither.
func (m *Model) visitMarks(slug string) (dot, news string) {
	if !m.tracksVisits() || !m.visits.loaded {
		return "", ""
	}
	v, seen := m.visits.bySlug[slug]
	switch {
	case !seen:
		return m.st.NewMark.Render("● "), " · " + m.st.NewMark.Render("unread")
	case v.New > 0:
		return "", " · " + m.st.NewMark.Render(itoa(v.New)+" new")
	}
	return "", ""
}
