package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// Over real SSH, at a few widths (100 among them, where paragraphs used to
// be wrapped twice), every screen of the Go post keeps its frame (header
// on the first row, keys on the last: a line too wide would have pushed
// them), and no line of the first paragraph ends where the next word would
// fit. The ui's property test covers every width and height, every post
// and every line of prose, in-process.
func TestLayoutOverSSH(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, w := range []int{40, 100, 137} {
		const h = 40
		s := ts.open(t, nil, w, h)
		waitFor(t, s, "enter read")
		ts.openPost(t, s, goPost)
		for page := 0; ; page++ {
			framed := func(scr string) bool {
				rows := strings.Split(scr, "\n")
				return len(rows) == h && strings.Contains(rows[0], "← Test Blog") && strings.Contains(rows[0], "%") && strings.Contains(rows[h-1], "scroll")
			}
			if err := s.Wait(screenWait, framed); err != nil {
				t.Fatalf("%d columns, page %d: the frame is broken: %v", w, page, err)
			}
			rows := strings.Split(s.Screen(), "\n")
			if page == 0 {
				// The first paragraph: from below the title, the meta line
				// and a blank row to the next blank row.
				start := 2
				for start < h && !strings.Contains(rows[start], "min read") {
					start++
				}
				end := start + 2
				for end < h && strings.TrimSpace(rows[end]) != "" {
					end++
				}
				checkParagraphs(t, fmt.Sprintf("%d columns", w), rows[start+2:end], min(w-2, 100)+1)
			}
			if strings.Contains(rows[0], "100%") {
				break
			}
			if page > 50 {
				t.Fatalf("%d columns: no end of the post after %d pages", w, page)
			}
			last := rows[0]
			typeKeys(t, s, "f")
			if err := s.Wait(screenWait, func(scr string) bool { return strings.Split(scr, "\n")[0] != last }); err != nil {
				t.Fatalf("%d columns: paging: %v", w, err)
			}
		}
		s.Close()
	}
}

// checkParagraphs fails on a row of prose followed by one whose first word
// would have fitted on it.
func checkParagraphs(t *testing.T, where string, rows []string, width int) {
	t.Helper()
	if len(rows) < 2 {
		t.Fatalf("%s: no paragraph in %q", where, rows)
	}
	for i := 0; i+1 < len(rows); i++ {
		l, n := strings.TrimRight(rows[i], " "), strings.TrimRight(rows[i+1], " ")
		word, _, _ := strings.Cut(n[1:], " ")
		if ansi.StringWidth(l)+1+ansi.StringWidth(word) <= width {
			t.Errorf("%s: row ends early, %q would fit after it:\n%q\n%q", where, word, l, n)
		}
	}
}
