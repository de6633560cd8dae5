package ui

import (
	"strconv"
	"strings"
	"time"

	"blog/data"
	"blog/internal/zone"

	"github.com/charmbracelet/x/ansi"
)

func itoa(n int) string { return strconv.Itoa(n) }

// maxEchoColumns bounds what the interface shows of text a client chose
// (a slug from the command line), so it cannot fill the screen.
const maxEchoColumns = 40

// quoted shows text from a client on one line, in quotes: without escape
// sequences, control or invisible characters, and at most w columns.
func quoted(s string, w int) string {
	if len(s) > 4*w {
		s = s[:4*w] // cut before cleaning, so a huge argument costs nothing
	}
	s = strings.Join(strings.Fields(data.Displayable(s)), " ")
	return "\"" + truncate(s, w) + "\""
}

// truncate shortens s (which may hold styling) to w columns with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// wrap word-wraps plain text to w columns, breaking long words too.
func wrap(s string, w int) []string {
	if w < 1 {
		w = 1
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// spread puts left and right on one line of width w.
func spread(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+rw+1 > w {
		left = truncate(left, max(w-rw-1, 0))
		lw = ansi.StringWidth(left)
	}
	gap := max(w-lw-rw, 1)
	return left + strings.Repeat(" ", gap) + right
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// ago says how long ago t was, in words a reader skims; past a month, the
// time itself in the visitor's zone, with the zone.
func ago(t, now time.Time, loc *time.Location) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute", "minutes") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour", "hours") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day", "days") + " ago"
	}
	return zone.Stamp(t, loc)
}

// noteLine shows a one-line message in w columns: an error or good news.
func noteLine(st *Styles, text string, bad bool, w int) string {
	if text == "" {
		return ""
	}
	if bad {
		return st.Error.Render(truncate(text, w))
	}
	return st.Success.Render(truncate(text, w))
}
