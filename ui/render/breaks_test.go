package render

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// At 98 columns (a 100-column window) glamour alone wrapped the Go post's
// first paragraph at 99 and then again at 98, leaving "a" on its own line.
func TestNoWordLeftAlone(t *testing.T) {
	out, err := render(goPost(t).Body, 98, dark)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(ansi.Strip(out), "\n")
	for i, l := range lines[:4] {
		if w := ansi.StringWidth(l); w > 98 || (i < 3 && w < 80) {
			t.Errorf("line %d of %d columns: %q", i, w, l)
		}
	}
	if !strings.HasPrefix(lines[2], "a default choice") {
		t.Errorf("third line %q", lines[2])
	}
}

func TestGuardSwapsProse(t *testing.T) {
	md := "a-b, c.d; e+f | g\u00a0h&nbsp;i `j-k`"
	body, unguard := guardBreaks(md)
	if strings.ContainsAny(body, "-,.;+|\u00a0") || strings.Contains(body, "&nbsp;") {
		t.Errorf("guarded %q", body)
	}
	if back := unguard.Replace(body); back != strings.ReplaceAll(md, "&nbsp;", "\u00a0") {
		t.Errorf("unguarded %q", back)
	}
}

// The stand-ins change where prose may break and nothing else: rendered
// too wide to wrap, a guarded body reads as the body does.
func TestGuardChangesNoMarkdown(t *testing.T) {
	for _, md := range []string{
		"_under_. *star*, **strong**-ish and ~~gone~~; a-b.",
		"Entities: &amp; &lt;x&gt; &#45; &#x2d; &nbsp;and\u00a0no-break, ok;",
		`Escapes: \- \. \, \| \+ \; and \\- too.`,
		"Bare URLs: https://a-b.example.com/x-y/z.html, www.example-site.org/p-q. And a@b-c.example.",
		"Links: [a-b, c.d](https://x-y.example/a-b.html) and <https://z.example/a-b> and ![alt-text.](img-1.png).",
		"Code `a-b, c.d; e+f | g` and code blocks:\n\n```go\nx := a-b // c.d, e;\n```\n\n    y := -1\n",
		"| a-b | c.d |\n| --- | --- |\n| e,f | g;h |\n",
		"- item-one.\n- item, two;\n  1. nested-three.\n\n> quote-d, text.\n\n## Head-ing, with. dots\n\nterm\n: defi-nition.",
		"1-2. not a list\n\n+ plus-list\n\n2019. A year\n\n-dash start\n\n--\n",
	} {
		body, unguard := guardBreaks(md)
		for _, st := range []Style{dark, plain} {
			want, err := renderOnce(md, MaxWidth, st)
			if err != nil {
				t.Fatal(err)
			}
			got, err := renderOnce(body, MaxWidth, st)
			if err != nil {
				t.Fatal(err)
			}
			if got = unguard.Replace(got); got != want {
				t.Errorf("%q renders differently guarded:\n got %q\nwant %q", md, ansi.Strip(got), ansi.Strip(want))
			}
		}
	}
}
