package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// CopyMsg asks the server to put Text on the visitor's own clipboard: it
// writes an OSC 52 sequence to that visitor's terminal, and only when the
// visitor pressed y. The text is the blog's own (a post's ssh command
// line), never anything another visitor wrote.
type CopyMsg struct{ Text string }

// Permalink is the command line that opens slug: ssh SLUG@HOST, with the
// options the blog's host line carries ("-p 2222 blog.example").
func Permalink(host, slug string) string {
	f := strings.Fields(host)
	if len(f) == 0 {
		f = []string{"localhost"}
	}
	last := f[len(f)-1]
	if _, h, ok := strings.Cut(last, "@"); ok {
		last = h // a user name in the host line gives way to the slug
	}
	f[len(f)-1] = slug + "@" + last
	return "ssh " + strings.Join(f, " ")
}

// copyCommand copies the open post's ssh command line to the visitor's
// clipboard and says so.
func (r *readerState) copyCommand(m *Model) tea.Cmd {
	line := Permalink(m.cfg.Host, r.post.Slug)
	m.setStatus("Copied "+line+" to your clipboard (if your terminal allows OSC 52).", false)
	return func() tea.Msg { return CopyMsg{Text: line} }
}
