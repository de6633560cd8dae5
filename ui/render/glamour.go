package render

import (
	"strings"

	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/x/ansi"
)

// render returns body rendered so that no line is wider than width.
// Prose is guarded against glamour's double wrapping (guardBreaks); what
// glamour leaves wider than width (a long code line, a word or URL longer
// than the line) is wrapped here, keeping its styles.
func render(body string, width int, st Style) (string, error) {
	// A tab would be drawn at the terminal's tab stops, not where width
	// counts expect it. Tabs mostly indent code, where four columns is what
	// CommonMark reads them as.
	body, unguard := guardBreaks(strings.ReplaceAll(body, "\t", "    "))
	raw, err := renderOnce(body, width, st)
	if err != nil {
		return "", err
	}
	out := trimPadding(unguard.Replace(raw))
	if widest(out) > width {
		out = wrapWide(out, width)
	}
	return out, nil
}

// renderOnce builds a renderer per call: that costs ~0.04 ms against ~15 ms
// for rendering the Go post (BenchmarkNewTermRenderer), and unlike a shared
// renderer (not safe for concurrent use) it lets posts render in parallel.
func renderOnce(body string, wrap int, st Style) (string, error) {
	r, err := glamour.NewTermRenderer(
		glamour.WithStyles(st.config()),
		glamour.WithColorProfile(st.Profile),
		glamour.WithChromaFormatter(st.chromaFormatter()),
		glamour.WithWordWrap(wrap),
	)
	if err != nil {
		return "", err
	}
	return r.Render(body)
}

func widest(s string) int {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, ansi.StringWidth(line))
	}
	return w
}

// wrapWide wraps the lines wider than width, keeping their styles.
func wrapWide(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if ansi.StringWidth(line) > width {
			lines[i] = ansi.Wrap(line, width, "-")
		}
	}
	return strings.Join(lines, "\n")
}
