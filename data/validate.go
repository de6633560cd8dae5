package data

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi/parser"
	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// Raw size caps, checked before anything scans the input, so that a huge
// paste costs O(1). Each is generous: a rune takes at most 4 bytes in UTF-8,
// and escape sequences (stripped later) may make a legitimate input longer.
const (
	maxCommentBytes = 4 * MaxCommentRunes * 2
	maxNameBytes    = 4 * MaxNameRunes * 8
	maxLocalBytes   = 64  // RFC 5321, 4.5.3.1.1
	maxDomainBytes  = 253 // RFC 1035, without the trailing dot
	maxLabelBytes   = 63
)

// Reasons shown to the visitor.
const (
	reasonInvalidUTF8 = "contains invalid UTF-8"
	reasonEmpty       = "is empty"
	reasonNotEmail    = "doesn't look like an email address"
	reasonEmailName   = "use just the address, without a name"
	reasonInvisible   = "has no visible characters"
	reasonReserved    = "is reserved for the blog's staff; please choose another"
)

func invalid(field, reason string) error {
	return &InvalidError{Field: field, Reason: reason}
}

func tooLong(field string, n, limit int) error {
	return invalid(field, fmt.Sprintf("is too long: %d characters, the limit is %d", n, limit))
}

// tooLongRaw refuses an input of n bytes without counting its runes: a rune
// is at most 4 bytes, so it has more than n/4-1 of them.
func tooLongRaw(field string, n, limit int) error {
	return invalid(field, fmt.Sprintf("is too long: more than %d characters, the limit is %d", (n-1)/4, limit))
}

// SanitizeComment checks and cleans a comment body. It returns the cleaned
// text or an *InvalidError (Field "comment") with a plain-words Reason.
//
// Escape sequences (CSI, OSC, DCS, ..., in 7-bit and C1 form) are removed
// whole; other control characters except '\n' are removed; "\r\n" and a lone
// '\r' become '\n'; a tab becomes 4 spaces; invisible characters are removed
// (see invisible; joiners are kept where they join two letters or emoji, a
// variation selector right after a visible character); the text is
// NFC-normalised; trailing spaces on each
// line, leading and trailing blank lines, and blank lines beyond 2 in a row
// are dropped. The result has between 1 and MaxCommentRunes runes.
func SanitizeComment(s string) (string, error) {
	const field = "comment"
	if len(s) > maxCommentBytes {
		return "", tooLongRaw(field, len(s), MaxCommentRunes)
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, reasonInvalidUTF8)
	}
	t := tidyLines(norm.NFC.String(clean(s, false)))
	if t == "" {
		return "", invalid(field, reasonEmpty)
	}
	if n := utf8.RuneCountInString(t); n > MaxCommentRunes {
		return "", tooLong(field, n, MaxCommentRunes)
	}
	return t, nil
}

// SanitizeName checks and cleans a display name like SanitizeComment (Field
// "name"), but every run of white space, newlines and tabs included, becomes
// one space and the name is trimmed. An empty or all-space name becomes
// DefaultName; any other name must keep at least one visible character
// (Hangul fillers, for one, are removed as invisible) and must not read as
// a staff title (see reservedName). The result has at most MaxNameRunes
// runes.
func SanitizeName(s string) (string, error) {
	const field = "name"
	if len(s) > maxNameBytes {
		return "", tooLongRaw(field, len(s), MaxNameRunes)
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, reasonInvalidUTF8)
	}
	if strings.TrimSpace(s) == "" {
		return DefaultName, nil
	}
	t := strings.Join(strings.FieldsFunc(norm.NFC.String(clean(s, true)), blank), " ")
	t = tidyJoiners(t) // the joiners beside a removed space join nothing now
	if !hasVisible(t) {
		return "", invalid(field, reasonInvisible)
	}
	if n := utf8.RuneCountInString(t); n > MaxNameRunes {
		return "", tooLong(field, n, MaxNameRunes)
	}
	if reservedName(t) {
		return "", invalid(field, reasonReserved)
	}
	return t, nil
}

// blank reports what separates the words of a name: white space and the
// Braille blank, which draws nothing but is not white space.
func blank(r rune) bool { return unicode.IsSpace(r) || r == '\u2800' }

// hasVisible reports whether s has a character that draws something on
// its own: not a space, a mark, a joiner or a variation selector.
func hasVisible(s string) bool {
	for _, r := range s {
		if !blank(r) && !unicode.IsMark(r) && !invisible(r) {
			return true
		}
	}
	return false
}

// reservedNames are titles no commenter may take, so none can pass for
// the blog's staff; a moderator's comments carry a badge instead.
var reservedNames = map[string]bool{
	"admin": true, "administrator": true, "moderator": true, "mod": true,
	"operator": true, "root": true, "sysop": true, "system": true,
	"staff": true, "owner": true,
}

// badgeWords may not appear even as one word of a longer name, so that no
// "ada [mod]" imitates the badge shown beside a moderator's name.
var badgeWords = map[string]bool{"admin": true, "administrator": true, "moderator": true, "mod": true}

// lookalikes maps characters that pass for a Latin letter in a name to
// that letter, after case folding and compatibility decomposition: digits
// and signs ("adm1n"), Cyrillic and Greek homoglyphs, and l for i (the
// reserved words have no l).
var lookalikes = strings.NewReplacer(
	"0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b",
	"@", "a", "$", "s", "!", "i", "|", "i", "l", "i", "ı", "i",
	"а", "a", "в", "b", "е", "e", "і", "i", "ј", "j", "к", "k", "м", "m",
	"н", "h", "о", "o", "р", "p", "с", "c", "т", "t", "у", "y", "х", "x",
	"ѕ", "s", "ԁ", "d", "һ", "h", "ɑ", "a", "α", "a", "ο", "o", "ι", "i",
	"ν", "v", "ρ", "p", "τ", "t", "κ", "k", "μ", "u", "ѵ", "v",
)

var fold = cases.Fold()

// reservedName reports whether name reads as a reserved title: compared
// after NFKC (full-width letters), case folding, removing accents and
// mapping lookalikes, either as a whole with every non-letter dropped
// ("a d m i n", "Adm1n") or, for the badge words, word by word.
func reservedName(name string) bool {
	s := norm.NFKD.String(fold.String(norm.NFKC.String(name)))
	s = lookalikes.Replace(strings.Map(func(r rune) rune {
		if unicode.IsMark(r) || invisible(r) {
			return -1
		}
		return r
	}, s))
	var all strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if badgeWords[w] {
			return true
		}
		all.WriteString(w)
	}
	joined := all.String()
	return reservedNames[joined] || reservedNames[strings.NewReplacer("rn", "m", "vv", "w").Replace(joined)]
}

// NormalizeEmail validates and normalises an address (Field "email"). Only a
// bare address is accepted ("ann@example.com", not "Ann <ann@example.com>").
// The local part keeps its case (it is only NFC-normalised); the domain is
// lower-cased, and an internationalised domain is converted to its punycode
// (xn--) form.
func NormalizeEmail(s string) (string, error) {
	const field = "email"
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(field, reasonEmpty)
	}
	if len(s) > MaxEmailBytes {
		if len(s) > 4*MaxEmailBytes {
			return "", tooLongRaw(field, len(s), MaxEmailBytes)
		}
		return "", tooLong(field, utf8.RuneCountInString(s), MaxEmailBytes)
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, reasonInvalidUTF8)
	}
	if strings.ContainsAny(s, "<>") {
		return "", invalid(field, reasonEmailName)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || invisible(r) {
			return "", invalid(field, reasonNotEmail)
		}
	}
	if strings.Count(s, "@") != 1 {
		return "", invalid(field, reasonNotEmail)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", invalid(field, reasonNotEmail)
	}
	if addr.Name != "" {
		return "", invalid(field, reasonEmailName)
	}
	if addr.Address != s {
		// Quoted local parts, comments and the like.
		return "", invalid(field, reasonNotEmail)
	}
	at := strings.IndexByte(s, '@')
	local, domain := norm.NFC.String(s[:at]), s[at+1:]
	if local == "" || len(local) > maxLocalBytes {
		return "", invalid(field, reasonNotEmail)
	}
	domain, ok := normalizeDomain(domain)
	if !ok {
		return "", invalid(field, reasonNotEmail)
	}
	out := local + "@" + domain
	if len(out) > MaxEmailBytes { // punycode made it longer
		return "", tooLong(field, utf8.RuneCountInString(out), MaxEmailBytes)
	}
	return out, nil
}

// normalizeDomain lower-cases d (converting an internationalised name to
// punycode) and reports whether it is a plausible public host name: at least
// two dot-separated labels of [a-z0-9-], none starting or ending with '-',
// and a top-level label of at least two letters (or a punycode label).
func normalizeDomain(d string) (string, bool) {
	ascii := true
	for i := 0; i < len(d); i++ {
		if d[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		d = strings.ToLower(d)
	} else {
		var err error
		if d, err = idna.Lookup.ToASCII(d); err != nil {
			return "", false
		}
		d = strings.ToLower(d)
	}
	if d == "" || len(d) > maxDomainBytes {
		return "", false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelBytes || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return d, true
	}
	if len(tld) < 2 {
		return "", false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return "", false
		}
	}
	return d, true
}

// Displayable makes stored text safe to print into a terminal again (defence
// in depth at render time). Invalid UTF-8 becomes U+FFFD; escape sequences
// are removed whole; "\r\n" and '\r' become '\n'; a tab becomes 4 spaces;
// every other control character and invisible character is removed (as in
// SanitizeComment). It does not normalise or trim.
func Displayable(s string) string {
	return clean(strings.ToValidUTF8(s, "\uFFFD"), false)
}

// DisplayName is a stored name made safe to show, like Displayable, on one
// line; a name with nothing visible left (one stored before a rule that
// now removes its characters) shows as DefaultName.
func DisplayName(name string) string {
	name = strings.Join(strings.FieldsFunc(Displayable(name), blank), " ")
	if !hasVisible(name) {
		return DefaultName
	}
	return name
}

const (
	zwnj = '\u200C' // ZERO WIDTH NON-JOINER
	zwj  = '\u200D' // ZERO WIDTH JOINER
)

// invisible reports the characters that draw nothing and are removed
// everywhere, since they can hide or reorder what a reader sees, or make
// two names look alike: the format characters (Unicode category Cf: bidi
// controls, zero-width spaces and joiners, soft hyphen, invisible
// operators, interlinear annotation, tag characters, the Mongolian vowel
// separator, ...), the other default-ignorable code points (Hangul
// fillers, Khmer inherent vowels, ...) and variation selectors. clean
// keeps two kinds where they mean something: a joiner between two letters
// or emoji (emoji sequences, Persian and Indic text) and a variation
// selector right after a visible character.
//
// The combining grapheme joiner is default-ignorable too, but NFC itself
// inserts it to break very long runs of combining marks; like any mark it
// only hangs on the character before it, so it stays.
func invisible(r rune) bool {
	if r < 0x10000 {
		return bmpInvisible[r/64]&(1<<(r%64)) != 0
	}
	return unicode.Is(invisibles, r)
}

var invisibles = rangetable.Merge(unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)

// bmpInvisible is invisibles for the Basic Multilingual Plane as a bit
// set, so that drawing a comment costs no table search a character.
var bmpInvisible = func() (set [0x10000 / 64]uint64) {
	for _, rg := range invisibles.R16 {
		for r := uint32(rg.Lo); r <= uint32(rg.Hi); r += uint32(rg.Stride) {
			set[r/64] |= 1 << (r % 64)
		}
	}
	set[0x034F/64] &^= 1 << (0x034F % 64) // the combining grapheme joiner stays
	return set
}()

// joins reports whether a joiner next to r may join something: letters,
// marks (a virama, an emoji's variation selector) and symbols (emoji).
func joins(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.So, unicode.Sk) && !invisible(r) || unicode.Is(unicode.Variation_Selector, r)
}

// tidyJoiners keeps ZWJ and ZWNJ only between two runes that joins allows
// (one joiner of a doubled pair goes).
func tidyJoiners(s string) string {
	if !strings.ContainsRune(s, zwj) && !strings.ContainsRune(s, zwnj) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // last rune kept; 0 at the start
	for i, r := range s {
		if r == zwj || r == zwnj {
			next, n := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if prev == 0 || n == 0 || !joins(prev) || !joins(next) {
				continue
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// clean removes escape sequences, control characters (except line breaks)
// and invisible characters from s, which must be valid UTF-8, keeping
// joiners and variation selectors where they belong (see invisible). Line
// breaks ("\r\n", '\r', '\n', U+2028, U+2029) become '\n', or a space when
// oneLine; a tab becomes 4 spaces, or one space when oneLine. The result
// is valid UTF-8 and clean is idempotent.
func clean(s string, oneLine bool) string {
	if plain(s) {
		return s
	}
	if hasEscapes(s) {
		s = stripEscapes(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	nl, tab := "\n", "    "
	if oneLine {
		nl, tab = " ", " "
	}
	var prev rune // last rune written; 0 at the start
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteString(nl)
			prev = '\n'
		case r == '\n', r == '\u2028', r == '\u2029':
			b.WriteString(nl)
			prev = '\n'
		case r == '\t':
			b.WriteString(tab)
			prev = ' '
		case r == utf8.RuneError && size == 1, unicode.IsControl(r):
			// drop
		case invisible(r):
			switch {
			case r == zwj, r == zwnj:
				b.WriteRune(r) // tidyJoiners decides
				prev = r
			case unicode.Is(unicode.Variation_Selector, r):
				// Only right after a character it can vary: no runs of
				// them, none after a space, a joiner or at the start.
				if prev != 0 && !blank(prev) && !invisible(prev) {
					b.WriteRune(r)
					prev = r
				}
			}
		default:
			b.WriteRune(r)
			prev = r
		}
	}
	return tidyJoiners(b.String())
}

// plain reports whether s is printable ASCII and '\n' only, which clean
// leaves as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c >= 0x7F {
			return false
		}
	}
	return true
}

// stripEscapes removes ANSI/VT escape sequences whole (CSI, OSC, DCS, SOS,
// PM, APC and plain ESC sequences, introduced by ESC or by the 8-bit C1
// controls U+0080-U+009F). s must be valid UTF-8; so is the result.
//
// It runs the DEC/VT500 state machine of charmbracelet/x/ansi/parser, but
// over runes rather than bytes: ansi.Strip works on bytes, so it takes the
// UTF-8 encoded C1 runes a terminal acts on for plain text, and it mistakes
// a continuation byte 0x9C (as in U+201C) inside an OSC or DCS payload for
// the end of the string. Here a rune up to U+009F is fed to the table as the
// byte it stands for; a rune from U+00A0 up is payload inside an OSC, DCS,
// SOS, PM or APC string and is printable text anywhere else (it also ends a
// malformed CSI or ESC sequence).
func stripEscapes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	state := parser.GroundState
	for _, r := range s {
		if r >= 0xA0 {
			switch state {
			case parser.OscStringState, parser.DcsStringState,
				parser.SosStringState, parser.PmStringState, parser.ApcStringState:
				continue // payload
			}
			state = parser.GroundState
			b.WriteRune(r)
			continue
		}
		next, action := parser.Table.Transition(state, byte(r))
		switch action {
		case parser.PrintAction, parser.ExecuteAction:
			// Printable ASCII, or a control character executed in any
			// state (it does not end the sequence); clean drops controls.
			b.WriteRune(r)
		}
		state = next
	}
	return b.String()
}

// hasEscapes reports whether s (valid UTF-8) holds ESC or a C1 control
// (U+0080-U+009F, encoded as 0xC2 0x80-0x9F), which start escape sequences.
func hasEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x1B:
			return true
		case 0xC2:
			if i+1 < len(s) && s[i+1] <= 0x9F {
				return true
			}
		}
	}
	return false
}

// tidyLines trims trailing white space on each line, drops leading and
// trailing blank lines and keeps at most 2 blank lines in a row.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if len(out) > 0 { // leading blank lines are dropped
				blank++
			}
			continue
		}
		for range min(blank, 2) {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n") // trailing blank lines were never added
}
