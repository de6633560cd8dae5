package data

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// checkSafe fails unless s is valid UTF-8 without ESC, C0 controls (but '\n'
// when newlines), DEL, C1 controls, bidi controls or zero-width characters.
func checkSafe(t *testing.T, what, s string, newlines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s: invalid UTF-8 in %q", what, s)
	}
	if strings.IndexByte(s, 0x1b) >= 0 {
		t.Fatalf("%s: ESC in %q", what, s)
	}
	for _, r := range s {
		switch {
		case r == '\n' && newlines:
		case r < 0x20, r == 0x7f:
			t.Fatalf("%s: C0 control %U in %q", what, r, s)
		case 0x80 <= r && r <= 0x9f:
			t.Fatalf("%s: C1 control %U in %q", what, r, s)
		}
	}
	checkInvisibles(t, what, s)
}

// checkInvisibles fails on an invisible character in s, but for a joiner
// between two runes that may join and a variation selector right after a
// visible character.
func checkInvisibles(t *testing.T, what, s string) {
	t.Helper()
	rs := []rune(s)
	for i, r := range rs {
		var prev, next rune
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == zwj || r == zwnj:
			if prev == 0 || !joins(prev) || !joins(next) {
				t.Fatalf("%s: joiner %U joins nothing in %q", what, r, s)
			}
		case unicode.Is(unicode.Variation_Selector, r):
			if prev == 0 || blank(prev) || invisible(prev) {
				t.Fatalf("%s: variation selector %U after %U in %q", what, r, prev, s)
			}
		case invisible(r):
			t.Fatalf("%s: invisible %U in %q", what, r, s)
		}
	}
}

func invalidField(err error) string {
	var ie *InvalidError
	if !errors.As(err, &ie) {
		return ""
	}
	if ie.Reason == "" {
		return "(no reason)"
	}
	return ie.Field
}

// seeds are inputs for every fuzz target: the table test inputs plus a few
// nasty ones.
func seeds(f *testing.F) {
	for _, tt := range commentTests {
		if len(tt.in) < 1000 {
			f.Add(tt.in)
		}
	}
	for _, tt := range nameTests {
		if len(tt.in) < 1000 {
			f.Add(tt.in)
		}
	}
	for _, tt := range emailTests {
		if len(tt.in) < 1000 {
			f.Add(tt.in)
		}
	}
	for _, s := range []string{
		"\x1b]8;;\xf0\x9f\x9c\x80\x9c\x80x",    // OSC cut inside a rune
		"\x1bP\xe2\x80\x9cq\x1b\\x",            // DCS with a rune holding 0x9c
		"\x1bX\u00e9sos\x1b\\",                 // SOS with a rune
		"a\u0301\n\n\n\n\u0301b \u0301\n",      // combining marks at line edges
		"e\u200b\u0301",                        // combining mark after a removed char
		"\u00a0\n\u3000x\u2028\u2029y\r\r\r\n", // odd spaces and breaks
		"ann@B\u00fccher.DE",
		"ann@xn--bcher-kva.XN--P1AI",
	} {
		f.Add(s)
	}
}

func FuzzSanitizeComment(f *testing.F) {
	seeds(f)
	f.Fuzz(checkComment)
}

// checkComment checks the properties of SanitizeComment on in.
func checkComment(t *testing.T, in string) {
	out, err := SanitizeComment(in)
	if err != nil {
		if field := invalidField(err); field != "comment" {
			t.Fatalf("SanitizeComment(%q): error %v has field %q", in, err, field)
		}
		return
	}
	checkSafe(t, "SanitizeComment", out, true)
	if strings.ContainsAny(out, "\t\r") {
		t.Fatalf("SanitizeComment(%q) = %q: tab or CR left", in, out)
	}
	if n := utf8.RuneCountInString(out); n < 1 || n > MaxCommentRunes {
		t.Fatalf("SanitizeComment(%q) = %q: %d runes", in, out, n)
	}
	if !norm.NFC.IsNormalString(out) {
		t.Fatalf("SanitizeComment(%q) = %q: not NFC", in, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimRightFunc(l, unicode.IsSpace) != l {
			t.Fatalf("SanitizeComment(%q) = %q: trailing space on a line", in, out)
		}
	}
	if strings.HasPrefix(out, "\n") || strings.HasSuffix(out, "\n") || strings.Contains(out, "\n\n\n\n") {
		t.Fatalf("SanitizeComment(%q) = %q: blank lines left", in, out)
	}
	again, err := SanitizeComment(out)
	if err != nil || again != out {
		t.Fatalf("not idempotent: SanitizeComment(%q) = %q, then %q, %v", in, out, again, err)
	}
	if d := Displayable(out); d != out {
		t.Fatalf("Displayable(SanitizeComment(%q)) = %q, want %q", in, d, out)
	}
}

func FuzzSanitizeName(f *testing.F) {
	seeds(f)
	f.Fuzz(checkName)
}

// checkName checks the properties of SanitizeName on in.
func checkName(t *testing.T, in string) {
	out, err := SanitizeName(in)
	if err != nil {
		if field := invalidField(err); field != "name" {
			t.Fatalf("SanitizeName(%q): error %v has field %q", in, err, field)
		}
		return
	}
	checkSafe(t, "SanitizeName", out, false)
	if n := utf8.RuneCountInString(out); n < 1 || n > MaxNameRunes {
		t.Fatalf("SanitizeName(%q) = %q: %d runes", in, out, n)
	}
	if strings.Join(strings.Fields(out), " ") != out {
		t.Fatalf("SanitizeName(%q) = %q: untidy white space", in, out)
	}
	if !norm.NFC.IsNormalString(out) {
		t.Fatalf("SanitizeName(%q) = %q: not NFC", in, out)
	}
	again, err := SanitizeName(out)
	if err != nil || again != out {
		t.Fatalf("not idempotent: SanitizeName(%q) = %q, then %q, %v", in, out, again, err)
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	seeds(f)
	f.Fuzz(checkEmail)
}

// checkEmail checks the properties of NormalizeEmail on in.
func checkEmail(t *testing.T, in string) {
	out, err := NormalizeEmail(in)
	if err != nil {
		if field := invalidField(err); field != "email" {
			t.Fatalf("NormalizeEmail(%q): error %v has field %q", in, err, field)
		}
		return
	}
	checkSafe(t, "NormalizeEmail", out, false)
	if len(out) > MaxEmailBytes {
		t.Fatalf("NormalizeEmail(%q) = %q: %d bytes", in, out, len(out))
	}
	if strings.Count(out, "@") != 1 || strings.IndexFunc(out, unicode.IsSpace) >= 0 {
		t.Fatalf("NormalizeEmail(%q) = %q", in, out)
	}
	domain := out[strings.IndexByte(out, '@')+1:]
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			t.Fatalf("NormalizeEmail(%q) = %q: byte %q in the domain", in, out, c)
		}
	}
	again, err := NormalizeEmail(out)
	if err != nil || again != out {
		t.Fatalf("not idempotent: NormalizeEmail(%q) = %q, then %q, %v", in, out, again, err)
	}
}

func FuzzDisplayable(f *testing.F) {
	seeds(f)
	f.Fuzz(checkDisplayable)
}

// checkDisplayable checks the properties of Displayable on in.
func checkDisplayable(t *testing.T, in string) {
	out := Displayable(in)
	checkSafe(t, "Displayable", out, true)
	if strings.ContainsAny(out, "\t\r") {
		t.Fatalf("Displayable(%q) = %q: tab or CR left", in, out)
	}
	if again := Displayable(out); again != out {
		t.Fatalf("not idempotent: Displayable(%q) = %q, then %q", in, out, again)
	}
	// Text that needs no cleaning passes unchanged.
	if utf8.ValidString(in) && strings.IndexFunc(in, func(r rune) bool {
		return r != '\n' && (unicode.IsControl(r) || invisible(r) || r == '\u2028' || r == '\u2029')
	}) < 0 && out != in {
		t.Fatalf("Displayable(%q) = %q, want it unchanged", in, out)
	}
}

// soupTokens are the pieces TestPropertiesTokenSoup builds inputs from:
// escape-sequence fragments, C1 controls as runes and as raw bytes, runes
// whose UTF-8 form holds 0x9c (ST) or other C1 bytes, combining marks, odd
// white space, bidi and zero-width characters, and email-ish pieces.
var soupTokens = []string{
	"\x1b", "\x1b[", "\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x1b\\", "\x1b(",
	"[", "]", ";", "8;;", "52;c;", "31m", "2J", "H", "\x07", "\x9c", "\x9b", "\x90",
	"\u009b", "\u009c", "\u009d", "\u0090", "\u0085", "\u0098",
	"\u201c", "\U0001F700", "\u05dc", "\u0100", "é", "🙂", "日",
	"\u0301", "\u0327", "\u0344", "\u0f73", "e", "a", "A", "0", "-", ".", "@", "xn--", "com",
	" ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u2029", "\u2000",
	"\u202e", "\u2066", "\u200b", "\u200d", "\u200c", "\ufeff", "\u061c",
	"\ufe0f", "\U000E0100", "\u00ad", "\u3164", "\u115f", "\uffa0", "\U000E0041", "\u180e", "\u2061",
	"\ufff9", "\u2800", "\u034f", "\U0001F468", "\U0001F3FD", "م", "क", "्", "1", "l", "d", "m", "n", "i", "о",
	"\x00", "\x7f", "\x18", "\x1a", "\xff", "\xc3", "\xe2\x80", "<", ">", "\"", "(",
}

// TestPropertiesTokenSoup checks the fuzz properties on many inputs built
// from soupTokens, deterministically, so plain `go test` covers escape and
// rune boundary cases that random byte mutation seldom reaches.
func TestPropertiesTokenSoup(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range n {
		b.Reset()
		for range 1 + rng.IntN(12) {
			b.WriteString(soupTokens[rng.IntN(len(soupTokens))])
		}
		in := b.String()
		checkComment(t, in)
		checkName(t, in)
		checkEmail(t, in)
		checkDisplayable(t, in)
	}
	// Email-shaped soup: a local part, one '@' and a domain, mostly from
	// email-ish pieces so that many are accepted.
	local := []string{"a", "B", "0", ".", "-", "+", "_", "é", "\"", " ", "\u200b", "(", "<"}
	domain := []string{"a", "Z", "9", "-", ".", ".", "ü", "xn--", "ẞ", "\u0301", "_", "\u202e", "\u3002"}
	accepted := 0
	for range n {
		b.Reset()
		for range 1 + rng.IntN(4) {
			b.WriteString(local[rng.IntN(len(local))])
		}
		b.WriteString("@")
		for range 1 + rng.IntN(10) {
			b.WriteString(domain[rng.IntN(len(domain))])
		}
		if _, err := NormalizeEmail(b.String()); err == nil {
			accepted++
		}
		checkEmail(t, b.String())
	}
	if accepted == 0 {
		t.Error("no email-shaped input was accepted; the generator is useless")
	}
}
