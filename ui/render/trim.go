package render

import (
	"slices"
	"strconv"
	"strings"
)

// trimPadding removes what glamour writes but a terminal never shows: the
// spaces that pad every line to the wrap width (when nothing makes a space
// visible: background, reverse, underline, strike-through, overline) and
// SGR sequences that a reset later in the same run of sequences undoes.
// That is about 40% of a rendered post. Lines holding anything but SGR
// sequences are left alone.
func trimPadding(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		trimLine(&b, line)
	}
	// Clone: the builder's buffer is sized for s, and the cache keeps this.
	return strings.Clone(b.String())
}

// token is a run of text drawn in one SGR state, or one SGR sequence.
type token struct {
	s            string
	sgr          bool
	reset        bool // SGR 0: forgets everything before it
	visibleSpace bool // text drawn where a space shows
}

func trimLine(b *strings.Builder, line string) {
	toks, ok := tokenize(line)
	if !ok {
		b.WriteString(line)
		return
	}
	// Drop invisible trailing spaces, keeping every sequence: the SGR state
	// at the end of the line must not change.
	for i := len(toks) - 1; i >= 0; i-- {
		t := &toks[i]
		if t.sgr {
			continue
		}
		if !t.visibleSpace {
			t.s = strings.TrimRight(t.s, " ")
		}
		if t.s != "" {
			break
		}
	}
	// In a run of sequences with no text between, those before the last
	// reset have no effect. A run that resets and then sets again just
	// what was in force (glamour resets and restores the colour around
	// every word) changes nothing, and goes too. inForce is what was set
	// since the line's last reset; nil until the line has reset, since
	// the state a line starts in is not known here.
	var inForce []string
	for i := 0; i < len(toks); {
		if !toks[i].sgr {
			b.WriteString(toks[i].s)
			i++
			continue
		}
		j, from := i, i
		for ; j < len(toks) && (toks[j].sgr || toks[j].s == ""); j++ {
			if toks[j].reset {
				from = j
			}
		}
		run := sgrsOf(toks[from:j])
		switch {
		case toks[from].reset && inForce != nil && slices.Equal(run[1:], inForce):
			// The same state again: nothing to write.
		case toks[from].reset:
			inForce = run[1:]
			writeAll(b, run)
		default:
			if inForce != nil {
				inForce = append(inForce, run...)
			}
			writeAll(b, run)
		}
		i = j
	}
}

// sgrsOf returns the sequences of a run, without its empty text tokens.
func sgrsOf(toks []token) []string {
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.sgr {
			out = append(out, t.s)
		}
	}
	return out
}

func writeAll(b *strings.Builder, ss []string) {
	for _, s := range ss {
		b.WriteString(s)
	}
}

// tokenize splits a line into text runs and SGR sequences, and reports
// false if the line holds any other escape sequence.
func tokenize(line string) ([]token, bool) {
	var toks []token
	var st sgrState
	for len(line) > 0 {
		esc := strings.IndexByte(line, 0x1b)
		if esc != 0 {
			if esc < 0 {
				esc = len(line)
			}
			toks = append(toks, token{s: line[:esc], visibleSpace: st.spaceVisible()})
			line = line[esc:]
			continue
		}
		end := strings.IndexByte(line, 'm')
		if len(line) < 2 || line[1] != '[' || end < 0 || strings.Trim(line[2:end], "0123456789;") != "" {
			return nil, false
		}
		params := line[2:end]
		st.apply(params)
		toks = append(toks, token{s: line[:end+1], sgr: true, reset: params == "" || strings.Trim(params, "0") == ""})
		line = line[end+1:]
	}
	return toks, true
}

// sgrState tracks the attributes that make a space visible.
type sgrState struct {
	bg, reverse, underline, strike, overline bool
}

func (s *sgrState) spaceVisible() bool {
	return s.bg || s.reverse || s.underline || s.strike || s.overline
}

func (s *sgrState) apply(params string) {
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		n, _ := strconv.Atoi(ps[i]) // "" reads as 0, as in SGR
		switch {
		case n == 0:
			*s = sgrState{}
		case n == 38 || n == 48 || n == 58: // extended colour: skip its arguments
			if n == 48 {
				s.bg = true
			}
			if i+1 < len(ps) && ps[i+1] == "5" {
				i += 2
			} else if i+1 < len(ps) && ps[i+1] == "2" {
				i += 4
			}
		case n >= 40 && n <= 47, n >= 100 && n <= 107:
			s.bg = true
		case n == 49:
			s.bg = false
		case n == 7:
			s.reverse = true
		case n == 27:
			s.reverse = false
		case n == 4, n == 21:
			s.underline = true
		case n == 24:
			s.underline = false
		case n == 9:
			s.strike = true
		case n == 29:
			s.strike = false
		case n == 53:
			s.overline = true
		case n == 55:
			s.overline = false
		}
	}
}
