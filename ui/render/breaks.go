package render

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// Glamour v1 wraps prose twice: reflow's wordwrap wraps each paragraph and
// heading, then x/ansi's Wordwrap wraps every enclosing block (the
// document, a quote, a list) again at the same width. Both break after
// some punctuation without checking that it still fits: reflow breaks
// after "-" and never counts it, x/ansi breaks after " ,.;-+|" and lets
// the character run a cell past the limit. A line a cell too wide is then
// wrapped again by the block around it, leaving a word on a line of its
// own ("... it is" / "a" / "default choice ...").
//
// So before rendering, those characters in prose are swapped for
// private-use runes that both wrappers count as one cell of a word, and
// swapped back after: prose then breaks only at spaces, where both count
// right, and a line is never wrapped a second time. A no-break space is
// swapped too: reflow breaks at it, and counts its two bytes as two cells. Code and tables (laid
// out by lipgloss, which counts right) keep their characters, and so do
// bare URLs, which the parser finds by them: such a URL with a hyphen may
// still be wrapped twice.

// breakers are the characters swapped, each with its stand-in from the end
// of Supplementary Private Use Area-B, where fonts put nothing.
var breakers = []struct {
	char  byte
	stand string
}{
	{'-', "\U0010FFF0"},
	{',', "\U0010FFF1"},
	{'.', "\U0010FFF2"},
	{';', "\U0010FFF3"},
	{'+', "\U0010FFF4"},
	{'|', "\U0010FFF5"},
}

// noBreak is a no-break space, written or as an entity, and its stand-in.
const (
	noBreak      = "\u00a0"
	noBreakName  = "&nbsp;"
	noBreakStand = "\U0010FFF6"
)

// markdown parses as glamour does, to find the prose.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM, extension.DefinitionList))

// guardBreaks returns body with the breaking characters of its prose
// swapped for stand-ins, and the replacer that swaps them back. A stand-in
// the body already holds is not used.
func guardBreaks(body string) (string, *strings.Replacer) {
	src := []byte(body)
	stand := map[byte]string{}
	var back []string
	for _, b := range breakers {
		if !strings.Contains(body, b.stand) {
			stand[b.char] = b.stand
			back = append(back, b.stand, string(b.char))
		}
	}
	guardSpace := !strings.Contains(body, noBreakStand)
	if guardSpace {
		back = append(back, noBreakStand, noBreak)
	}
	if len(back) == 0 {
		return body, strings.NewReplacer()
	}
	doc := markdown.Parser().Parse(text.NewReader(src))
	var out strings.Builder
	out.Grow(len(body) + len(body)/16)
	done := 0 // bytes of src already copied to out
	// url writes u, found in src at or after done, with its breaking
	// characters from the one at from swapped.
	url := func(u []byte, from int) {
		p := bytes.Index(src[done:], u)
		if len(u) == 0 || p < 0 {
			return
		}
		p += done
		out.Write(src[done:p])
		for i, c := range u {
			if s, ok := stand[c]; ok && i >= from {
				out.WriteString(s)
			} else {
				out.WriteByte(c)
			}
		}
		done = p + len(u)
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n.Kind() {
		case ast.KindLink:
			// The target follows the text in the source.
			if !entering {
				url(n.(*ast.Link).Destination, 0)
			}
			return ast.WalkContinue, nil
		case ast.KindAutoLink:
			// Between angle brackets a URL may hold anything; a bare one
			// is found by its characters, so it keeps them.
			if u := n.(*ast.AutoLink).Label(src); entering && bytes.Contains(src[done:], append([]byte{'<'}, u...)) {
				url(u, 0)
			}
			return ast.WalkSkipChildren, nil
		}
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case east.KindTable, ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock:
			return ast.WalkSkipChildren, nil
		case ast.KindText:
		default:
			return ast.WalkContinue, nil
		}
		seg := n.(*ast.Text).Segment
		if seg.Start < done {
			return ast.WalkContinue, nil // text already passed; never expected
		}
		out.Write(src[done:seg.Start])
		for i := seg.Start; i < seg.Stop; i++ {
			if guardSpace {
				if rest := src[i:seg.Stop]; bytes.HasPrefix(rest, []byte(noBreak)) || bytes.HasPrefix(rest, []byte(noBreakName)) {
					out.WriteString(noBreakStand)
					i += len(noBreak) - 1
					if rest[0] == '&' {
						i += len(noBreakName) - len(noBreak)
					}
					continue
				}
			}
			if s, ok := stand[src[i]]; ok && swappable(n, src, seg, i) {
				out.WriteString(s)
			} else {
				out.WriteByte(src[i])
			}
		}
		done = seg.Stop
		return ast.WalkContinue, nil
	})
	out.Write(src[done:])
	return out.String(), strings.NewReplacer(back...)
}

// swappable reports whether src[i], in text node n spanning seg, may be
// swapped without changing how the Markdown parses. The stand-ins are
// letters to Markdown, not punctuation, so a character next to another
// node (emphasis decides by the punctuation around its delimiters; a bare
// URL ends at punctuation), next to a delimiter left as text, after a
// backslash, or ending an entity stays as it is.
func swappable(n ast.Node, src []byte, seg text.Segment, i int) bool {
	if i == seg.Start && n.PreviousSibling() != nil && n.PreviousSibling().Kind() != ast.KindText {
		return false
	}
	if i == seg.Stop-1 && n.NextSibling() != nil && n.NextSibling().Kind() != ast.KindText {
		return false
	}
	near := func(j int) byte {
		if j < 0 || j >= len(src) {
			return ' '
		}
		return src[j]
	}
	if strings.IndexByte(`*_~\`, near(i-1)) >= 0 || strings.IndexByte(`*_~`, near(i+1)) >= 0 {
		return false
	}
	return src[i] != ';' || !endsEntity(src[:i])
}

// endsEntity reports whether b ends with "&name" or "&#digits", so that a
// ';' after it closes an entity.
func endsEntity(b []byte) bool {
	for j := len(b) - 1; j >= 0 && len(b)-j <= 32; j-- {
		c := b[j]
		switch {
		case c == '&':
			return j < len(b)-1
		case c == '#', c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return false
}
