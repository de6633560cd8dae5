package ui

import (
	"io"
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

// Styles are the lipgloss styles for one Look. They are built once per Look
// and shared by every session with that Look, so a session costs no styles.
type Styles struct {
	Look Look

	AppTitle    lipgloss.Style
	Host        lipgloss.Style
	Notice      lipgloss.Style
	Rule        lipgloss.Style
	Selected    lipgloss.Style
	Bar         lipgloss.Style
	PostTitle   lipgloss.Style
	Meta        lipgloss.Style
	Summary     lipgloss.Style
	Dim         lipgloss.Style
	Accent      lipgloss.Style
	Section     lipgloss.Style
	Author      lipgloss.Style
	You         lipgloss.Style
	Body        lipgloss.Style
	HiddenBody  lipgloss.Style
	Error       lipgloss.Style
	Success     lipgloss.Style
	Box         lipgloss.Style
	BoxTitle    lipgloss.Style
	Input       lipgloss.Style
	InputActive lipgloss.Style
	NewMark     lipgloss.Style
	// Plain carries no colour; text inputs build their cursor on it.
	Plain lipgloss.Style
	Help  help.Styles
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
	s := &Styles{Look: l}
	s.AppTitle = r.NewStyle().Bold(true).Foreground(accent)
	s.Host = r.NewStyle().Foreground(muted)
	s.Notice = r.NewStyle().Foreground(warn).Border(lipgloss.RoundedBorder()).BorderForeground(warn).Padding(0, 1)
	s.Rule = r.NewStyle().Foreground(faint)
	s.Selected = r.NewStyle().Foreground(accent)
	s.Bar = r.NewStyle().Foreground(accent).Bold(true)
	s.PostTitle = r.NewStyle().Bold(true).Foreground(text)
	s.Meta = r.NewStyle().Foreground(muted)
	s.Summary = r.NewStyle().Foreground(text)
	s.Dim = r.NewStyle().Foreground(muted)
	s.Accent = r.NewStyle().Foreground(accent)
	s.Section = r.NewStyle().Bold(true).Foreground(accent)
	s.Author = r.NewStyle().Bold(true).Foreground(special)
	s.You = r.NewStyle().Foreground(good)
	s.Body = r.NewStyle().Foreground(text)
	s.HiddenBody = r.NewStyle().Foreground(faint).Italic(true)
	s.Error = r.NewStyle().Foreground(bad)
	s.Success = r.NewStyle().Foreground(good)
	s.Box = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.BoxTitle = r.NewStyle().Bold(true).Foreground(accent)
	s.Input = r.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(faint)
	s.InputActive = r.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(accent)
	s.NewMark = r.NewStyle().Bold(true).Foreground(good)
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
