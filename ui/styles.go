package ui

import (
	"io"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Look says how a client's terminal shows colour: its colour profile and
// whether its background is dark. It comes from the client, never from the
// server's own terminal.
type Look struct {
	Profile termenv.Profile
	Dark    bool
}

// Styles are the styles for one Look. They are built once per Look and
// shared by every session with that Look, so a session costs no styles.
// Inline styles are Inks: pre-rendered, so drawing a comment thread is
// string concatenation rather than a lipgloss pass (with colour conversion)
// for every piece of text.
type Styles struct {
	Look Look

	AppTitle, Host, Rule, Selected, SelectedTitle, Bar, PostTitle, Meta Ink
	Summary, Dim, Accent, Section, Author, You, Body, HiddenBody        Ink
	Error, Success, BoxTitle, NewMark, HelpKey, HelpDesc, Faint, Mod    Ink

	// Block styles (borders, padding, width) stay lipgloss styles.
	Notice lipgloss.Style
	Box    lipgloss.Style
	// Plain carries no colour; text inputs build their cursor on it.
	Plain lipgloss.Style
	Help  help.Styles
}

// Ink is an inline style rendered once: the escape codes that go before
// and after a piece of text. Style is the lipgloss style it came from, for
// widgets that want one.
type Ink struct {
	Style       lipgloss.Style
	open, close string
}

func inkOf(st lipgloss.Style) Ink {
	const mark = "X" // never part of an escape sequence
	out := st.Render(mark)
	i := strings.Index(out, mark)
	return Ink{Style: st, open: out[:i], close: out[i+len(mark):]}
}

// Render styles one line of text.
func (k Ink) Render(s string) string {
	if s == "" || k.open == "" && k.close == "" {
		return s
	}
	return k.open + s + k.close
}

var (
	stylesMu    sync.Mutex
	stylesByKey = map[Look]*Styles{}
)

// StylesFor returns the shared styles for a Look.
func StylesFor(l Look) *Styles {
	stylesMu.Lock()
	defer stylesMu.Unlock()
	if s, ok := stylesByKey[l]; ok {
		return s
	}
	s := newStyles(l)
	stylesByKey[l] = s
	return s
}

func newStyles(l Look) *Styles {
	// A renderer that writes nowhere: styles only ask it for the profile
	// and the background, which we set from the client. Without colour
	// (NO_COLOR, dumb terminals) we keep bold and reverse video, which
	// NO_COLOR allows, so the cursor and the selection stay visible.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(l.Profile)
	if l.Profile == termenv.Ascii {
		r.SetColorProfile(termenv.ANSI)
	}
	r.SetHasDarkBackground(l.Dark)

	// Colours chosen to read well on both backgrounds; AdaptiveColor picks
	// by the client's background.
	color := func(light, dark string) lipgloss.TerminalColor {
		if l.Profile == termenv.Ascii {
			return lipgloss.NoColor{}
		}
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	var (
		accent  = color("#5A3FC0", "#B7A4FF")
		text    = color("#1F1F24", "#E6E6EA")
		muted   = color("#5F5F6B", "#9A9AA6")
		faint   = color("#9B9BA6", "#5C5C66")
		warn    = color("#8A5A00", "#F2C94C")
		bad     = color("#B00020", "#FF7A85")
		good    = color("#1B7F3B", "#6FDC8C")
		special = color("#0B6E8A", "#67D3F0")
	)
	ink := func(st lipgloss.Style) Ink { return inkOf(st) }
	fg := func(c lipgloss.TerminalColor) lipgloss.Style { return r.NewStyle().Foreground(c) }
	s := &Styles{Look: l}
	s.AppTitle = ink(fg(accent).Bold(true))
	s.Host = ink(fg(muted))
	s.Notice = fg(warn).Border(lipgloss.RoundedBorder()).BorderForeground(warn).Padding(0, 1)
	s.Rule = ink(fg(faint))
	s.Faint = s.Rule
	s.Selected = ink(fg(accent))
	s.SelectedTitle = ink(fg(accent).Bold(true))
	s.Bar = ink(fg(accent).Bold(true))
	s.PostTitle = ink(fg(text).Bold(true))
	s.Meta = ink(fg(muted))
	s.Summary = ink(fg(text))
	s.Dim = ink(fg(muted))
	s.Accent = ink(fg(accent))
	s.Section = ink(fg(accent).Bold(true))
	s.Author = ink(fg(special).Bold(true))
	s.You = ink(fg(good))
	// The moderator badge is reversed, so it stands out without colour
	// too; no name can spell it, since "mod" is a reserved word.
	s.Mod = ink(fg(warn).Bold(true).Reverse(true))
	s.Body = ink(fg(text))
	s.HiddenBody = ink(fg(faint).Italic(true))
	s.Error = ink(fg(bad))
	s.Success = ink(fg(good))
	s.Box = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.BoxTitle = ink(fg(accent).Bold(true))
	s.NewMark = ink(fg(good).Bold(true))
	s.HelpKey = ink(fg(muted).Bold(true))
	s.HelpDesc = ink(fg(faint))
	s.Help = help.Styles{
		Ellipsis:       r.NewStyle().Foreground(faint),
		ShortKey:       r.NewStyle().Foreground(muted).Bold(true),
		ShortDesc:      r.NewStyle().Foreground(faint),
		ShortSeparator: r.NewStyle().Foreground(faint),
		FullKey:        r.NewStyle().Foreground(muted).Bold(true),
		FullDesc:       r.NewStyle().Foreground(faint),
		FullSeparator:  r.NewStyle().Foreground(faint),
	}
	s.Plain = r.NewStyle()
	return s
}
