package data

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
)

// short abbreviates s for failure messages.
func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...(%d bytes)", s[:60], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// wantInvalid checks that err is an *InvalidError for field whose Reason
// starts with reason.
func wantInvalid(t *testing.T, err error, field, reason string) {
	t.Helper()
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *InvalidError", err, err)
	}
	if ie.Field != field {
		t.Errorf("Field = %q, want %q", ie.Field, field)
	}
	if !strings.HasPrefix(ie.Reason, reason) {
		t.Errorf("Reason = %q, want it to start with %q", ie.Reason, reason)
	}
}

var commentTests = []struct {
	name, in, want string
	reason         string // non-empty: refused with a Reason starting with this
}{
	{name: "plain", in: "Nice post, thanks!", want: "Nice post, thanks!"},
	{name: "unicode kept", in: "Grüße aus Köln 🙂 日本語", want: "Grüße aus Köln 🙂 日本語"},
	{name: "SGR colour", in: "\x1b[31mred\x1b[0m text", want: "red text"},
	{name: "SGR with sub-parameters", in: "\x1b[38:2:255:0:0mx\x1b[m", want: "x"},
	{name: "clear screen", in: "\x1b[2Jhello", want: "hello"},
	{name: "cursor movement", in: "a\x1b[10;5Hb\x1b[Ac\x1b[2K\x1b7d\x1b8", want: "abcd"},
	{name: "OSC 8 hyperlink BEL", in: "\x1b]8;;http://evil\x07click\x1b]8;;\x07", want: "click"},
	{name: "OSC 8 hyperlink ST", in: "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", want: "click"},
	{name: "OSC 52 clipboard", in: "copy\x1b]52;c;ZXZpbA==\x07 me", want: "copy me"},
	{name: "OSC 8 with non-ASCII URL", in: "\x1b]8;;http://ü.example/“x”\U0001F700\x07click\x1b]8;;\x07", want: "click"},
	{name: "DCS with non-ASCII payload", in: "\x1bP1$r“\U0001F700yz\x1b\\ok", want: "ok"},
	{name: "SOS with non-ASCII payload", in: "\x1bXsécret\x1b\\ok", want: "ok"},
	{name: "OSC title", in: "\x1b]0;pwned\x07ok", want: "ok"},
	{name: "DCS", in: "\x1bP1$r0m\x1b\\ok", want: "ok"},
	{name: "APC", in: "\x1b_Gf=100;AAAA\x1b\\ok", want: "ok"},
	{name: "charset designation", in: "\x1b(0lqk\x1b(B", want: "lqk"},
	{name: "C1 CSI rune", in: "\u009b31mred\u009b0m", want: "red"},
	{name: "C1 OSC rune with C1 ST", in: "\u009d8;;http://evil\u009cclick\u009d8;;\u009c", want: "click"},
	{name: "C1 DCS rune", in: "\u0090q#0;2;0;0;0\u009cok", want: "ok"},
	{name: "C1 single controls", in: "a\u0085b\u0084c\u008ed", want: "abcd"},
	{name: "raw 8-bit CSI is invalid UTF-8", in: "\x9b31m", reason: "contains invalid UTF-8"},
	{name: "invalid UTF-8", in: "abc\xff", reason: "contains invalid UTF-8"},
	{name: "C0 controls", in: "a\x00b\x07c\x08d\x7fe\x0bf\x0cg\x18h\x1ai", want: "abcdefghi"},
	{name: "lone ESC at end", in: "abc\x1b", want: "abc"},
	{name: "CRLF", in: "one\r\ntwo\r\nthree", want: "one\ntwo\nthree"},
	{name: "lone CR", in: "one\rtwo", want: "one\ntwo"},
	{name: "CR CR LF", in: "one\r\r\ntwo", want: "one\n\ntwo"},
	{name: "tab", in: "a\tb", want: "a    b"},
	{name: "bidi override", in: "file\u202egpj.exe", want: "filegpj.exe"},
	{name: "bidi embeddings", in: "\u202aa\u202bb\u202cc\u202dd", want: "abcd"},
	{name: "bidi isolates", in: "\u2066a\u2067b\u2068c\u2069", want: "abc"},
	{name: "bidi marks", in: "a\u200eb\u200fc\u061cd", want: "abcd"},
	{name: "zero width", in: "\u200da\u200bb\u2060c\ufeffd\u200c", want: "abcd"},
	{name: "joiners stripped where they join nothing", in: "\u200d\u200cx \u200d y\u200d\n\u200cz!\u200d?", want: "x  y\nz!?"},
	{name: "doubled joiner", in: "a\u200d\u200d\u200cb", want: "a\u200cb"},
	{name: "emoji ZWJ family", in: "\U0001F468\u200D\U0001F469\u200D\U0001F467", want: "\U0001F468\u200D\U0001F469\u200D\U0001F467"},
	{name: "emoji ZWJ technologist", in: "\U0001F9D1\U0001F3FD\u200D\U0001F4BB", want: "\U0001F9D1\U0001F3FD\u200D\U0001F4BB"},
	{name: "emoji rainbow flag with VS16", in: "\U0001F3F3\uFE0F\u200D\U0001F308", want: "\U0001F3F3\uFE0F\u200D\U0001F308"},
	{name: "Persian ZWNJ", in: "می\u200Cخواهم", want: "می\u200Cخواهم"},
	{name: "Devanagari ZWJ after virama", in: "क्\u200Dष", want: "क्\u200Dष"},
	{name: "variation selector kept after a character", in: "\u2764\uFE0F ok", want: "\u2764\uFE0F ok"},
	{name: "variation selectors alone or in runs", in: "\uFE0Fa\uFE0F\uFE0F\uFE0F \uFE0Fb\U000E0100\U000E0101", want: "a\uFE0F b\U000E0100"},
	{name: "soft hyphen", in: "in\u00advisible", want: "invisible"},
	{name: "Hangul fillers", in: "a\u3164b\u115Fc\u1160d\uFFA0e", want: "abcde"},
	{name: "tag characters", in: "a\U000E0001\U000E0041\U000E007Fb\U000E0000", want: "ab"},
	{name: "Mongolian vowel separator", in: "a\u180Eb", want: "ab"},
	{name: "invisible operators", in: "a\u2061b\u2062c\u2063d\u2064e", want: "abcde"},
	{name: "interlinear annotation", in: "a\uFFF9b\uFFFAc\uFFFBd", want: "abcd"},
	{name: "other default-ignorables", in: "a\u2065b\u17B4c\u206Ad\U0001D173e", want: "abcde"},
	{name: "NFC", in: "Cafe\u0301", want: "Café"},
	{name: "trailing spaces", in: "a  \nb\t\nc\u00a0", want: "a\nb\nc"},
	{name: "indentation kept", in: "code:\n    x := 1\n\tif x {", want: "code:\n    x := 1\n    if x {"},
	{name: "blank lines trimmed", in: "\n\n  \n\ta\n\n \n", want: "    a"},
	{name: "two blank lines kept", in: "a\n\n\nb", want: "a\n\n\nb"},
	{name: "blank lines collapsed", in: "a\n\n\n\n\n\nb\n \n \n \nc", want: "a\n\n\nb\n\n\nc"},
	{name: "line separators", in: "a\u2028b\u2029c", want: "a\nb\nc"},
	{name: "empty", in: "", reason: "is empty"},
	{name: "only space", in: " \n\t\r\n ", reason: "is empty"},
	{name: "only escapes", in: "\x1b[31m\x1b[0m\x1b]8;;x\x07", reason: "is empty"},
	{name: "only invisible", in: "\u200b\u202e\ufeff", reason: "is empty"},
	{name: "2000 runes", in: strings.Repeat("a", 2000), want: strings.Repeat("a", 2000)},
	{name: "2001 runes", in: strings.Repeat("a", 2001), reason: "is too long: 2001 characters, the limit is 2000"},
	{name: "2000 two-byte runes", in: strings.Repeat("é", 2000), want: strings.Repeat("é", 2000)},
	{name: "2000 four-byte runes", in: strings.Repeat("🙂", 2000), want: strings.Repeat("🙂", 2000)},
	{name: "2001 four-byte runes", in: strings.Repeat("🙂", 2001), reason: "is too long: 2001 characters, the limit is 2000"},
	{name: "counted after NFC", in: strings.Repeat("e\u0301", 2000), want: strings.Repeat("é", 2000)},
	{name: "counted after stripping", in: strings.Repeat("\x1b[1ma", 2000), want: strings.Repeat("a", 2000)},
	{name: "tabs count as 4", in: strings.Repeat("\tx", 401), reason: "is too long: 2005 characters"},
}

func TestSanitizeComment(t *testing.T) {
	for _, tt := range commentTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SanitizeComment(tt.in)
			if tt.reason != "" {
				if err == nil {
					t.Fatalf("SanitizeComment(%s) = %s, want error %q", short(tt.in), short(got), tt.reason)
				}
				wantInvalid(t, err, "comment", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("SanitizeComment(%s): %v", short(tt.in), err)
			}
			if got != tt.want {
				t.Errorf("SanitizeComment(%s) = %s, want %s", short(tt.in), short(got), short(tt.want))
			}
		})
	}
}

func TestSanitizeCommentHugeInputRefusedWithoutScanning(t *testing.T) {
	// 1 MB of invalid UTF-8 and escapes: the size check must come first, so
	// the reason is the length, and it must not take time proportional to it.
	huge := strings.Repeat("\xff\x1b[31mé", 1<<20/8)
	start := time.Now()
	for range 1000 {
		_, err := SanitizeComment(huge)
		if err == nil {
			t.Fatal("1 MB comment accepted")
		}
		wantInvalid(t, err, "comment", "is too long: ")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 refusals of a 1 MB comment took %v", d)
	}
	_, err := SanitizeComment(strings.Repeat("x", maxCommentBytes+1))
	wantInvalid(t, err, "comment", "is too long: more than 4000 characters, the limit is 2000")
}

var nameTests = []struct {
	name, in, want string
	reason         string
}{
	{name: "plain", in: "Ann", want: "Ann"},
	{name: "trimmed", in: "  Ann Lee \t", want: "Ann Lee"},
	{name: "newline", in: "Ann\nLee", want: "Ann Lee"},
	{name: "CRLF", in: "Ann\r\nLee", want: "Ann Lee"},
	{name: "tabs", in: "Ann\t\tLee", want: "Ann Lee"},
	{name: "space runs", in: "Ann   \u3000\u00a0 Lee", want: "Ann Lee"},
	{name: "escape", in: "\x1b[31mAnn\x1b[0m", want: "Ann"},
	{name: "OSC 8", in: "\x1b]8;;http://evil\x07Ann\x1b]8;;\x07", want: "Ann"},
	{name: "C1 CSI", in: "\u009b2JAnn", want: "Ann"},
	{name: "bidi", in: "Ann\u202eeeL", want: "AnneeL"},
	{name: "zero width", in: "A\u200bn\u200d n\u200c", want: "An n"},
	{name: "joiner in a name", in: "\U0001F469\u200D\U0001F4BB Ann", want: "\U0001F469\u200D\U0001F4BB Ann"},
	{name: "Hangul filler only", in: "\u3164", reason: "has no visible characters"},
	{name: "Hangul fillers around", in: "\u3164\uFFA0Ann\u115F\u1160", want: "Ann"},
	{name: "Braille blank", in: "\u2800 \u2800", reason: "has no visible characters"},
	{name: "Braille blank between words", in: "Ann\u2800Lee", want: "Ann Lee"},
	{name: "joiners only", in: "\u200d\u200c\u200d", reason: "has no visible characters"},
	{name: "marks only", in: "\u0301\u0308", reason: "has no visible characters"},
	{name: "tag characters only", in: "\U000E0041\U000E0042", reason: "has no visible characters"},
	{name: "soft hyphens only", in: "\u00ad\u00ad", reason: "has no visible characters"},
	{name: "reserved", in: "admin", reason: "is reserved"},
	{name: "reserved upper case and space", in: "ADMIN ", reason: "is reserved"},
	{name: "reserved with digits", in: "Adm1n", reason: "is reserved"},
	{name: "reserved spaced out", in: "a d m i n", reason: "is reserved"},
	{name: "reserved full width", in: "Ａｄｍｉｎ", reason: "is reserved"},
	{name: "reserved with accents", in: "Ädmîn", reason: "is reserved"},
	{name: "reserved Cyrillic lookalikes", in: "аdmіn", reason: "is reserved"},
	{name: "reserved rn for m", in: "adrnin", reason: "is reserved"},
	{name: "reserved l for i", in: "ADMlN", reason: "is reserved"},
	{name: "reserved punctuation", in: "r.o.o.t", reason: "is reserved"},
	{name: "reserved zero for o", in: "R00T", reason: "is reserved"},
	{name: "reserved with invisible", in: "mod\u00aderator", reason: "is reserved"},
	{name: "reserved others", in: "Sys0p", reason: "is reserved"},
	{name: "badge imitated", in: "ada [mod]", reason: "is reserved"},
	{name: "title in a name", in: "Admin Ada", reason: "is reserved"},
	{name: "long S folds", in: "ſyſtem", reason: "is reserved"},
	{name: "words containing a title are fine", in: "Badminton Modern", want: "Badminton Modern"},
	{name: "rooted is fine", in: "Rooted Owners Club", want: "Rooted Owners Club"},
	{name: "NFC", in: "Jose\u0301", want: "José"},
	{name: "empty", in: "", want: DefaultName},
	{name: "all space", in: " \t\n ", want: DefaultName},
	{name: "only escapes", in: "\x1b[31m\u200b", reason: "has no visible characters"},
	{name: "32 runes", in: strings.Repeat("n", 32), want: strings.Repeat("n", 32)},
	{name: "32 multi-byte runes", in: strings.Repeat("名", 32), want: strings.Repeat("名", 32)},
	{name: "33 runes", in: strings.Repeat("n", 33), reason: "is too long: 33 characters, the limit is 32"},
	{name: "33 multi-byte runes", in: strings.Repeat("ñ", 33), reason: "is too long: 33 characters, the limit is 32"},
	{name: "spaces collapsed before counting", in: "a" + strings.Repeat(" ", 40) + "b", want: "a b"},
	{name: "invalid UTF-8", in: "Ann\xc3", reason: "contains invalid UTF-8"},
	{name: "huge", in: strings.Repeat("n", 1<<20), reason: "is too long: more than"},
}

func TestSanitizeName(t *testing.T) {
	for _, tt := range nameTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SanitizeName(tt.in)
			if tt.reason != "" {
				if err == nil {
					t.Fatalf("SanitizeName(%s) = %s, want error %q", short(tt.in), short(got), tt.reason)
				}
				wantInvalid(t, err, "name", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("SanitizeName(%s): %v", short(tt.in), err)
			}
			if got != tt.want {
				t.Errorf("SanitizeName(%s) = %s, want %s", short(tt.in), short(got), short(tt.want))
			}
		})
	}
}

// longestEmail is exactly MaxEmailBytes (254) long and valid.
var longestEmail = strings.Repeat("l", 64) + "@" + strings.Repeat("a", 63) + "." +
	strings.Repeat("b", 63) + "." + strings.Repeat("c", 57) + ".com"

var emailTests = []struct {
	name, in, want string
	reason         string
}{
	{name: "good", in: "ann@example.com", want: "ann@example.com"},
	{name: "subdomain and plus", in: "ann.lee+blog@mail.example.co.uk", want: "ann.lee+blog@mail.example.co.uk"},
	{name: "domain lowered, local case kept", in: "Ann.Lee@EXAMPLE.Com", want: "Ann.Lee@example.com"},
	{name: "spaces trimmed", in: "  ann@example.com \t\n", want: "ann@example.com"},
	{name: "digits and hyphens", in: "a1@mail-1.example9.org", want: "a1@mail-1.example9.org"},
	{name: "punycode", in: "ann@xn--bcher-kva.de", want: "ann@xn--bcher-kva.de"},
	{name: "punycode TLD", in: "ann@example.xn--p1ai", want: "ann@example.xn--p1ai"},
	{name: "IDN converted", in: "ann@Bücher.de", want: "ann@xn--bcher-kva.de"},
	{name: "IDN upper case", in: "ann@ÜBER.de", want: "ann@xn--ber-goa.de"},
	{name: "IDN TLD", in: "ann@example.рф", want: "ann@example.xn--p1ai"},
	{name: "non-ASCII local part kept, NFC", in: "Jose\u0301@example.com", want: "José@example.com"},
	{name: "254 bytes", in: longestEmail, want: longestEmail},
	{name: "255 bytes", in: "l" + longestEmail, reason: "is too long: 255 characters, the limit is 254"},
	{name: "huge", in: strings.Repeat("a", 1<<20) + "@example.com", reason: "is too long"},
	{name: "display name", in: "Ann <ann@example.com>", reason: "use just the address, without a name"},
	{name: "quoted display name", in: `"Ann Lee" <ann@example.com>`, reason: "use just the address, without a name"},
	{name: "angle brackets", in: "<ann@example.com>", reason: "use just the address, without a name"},
	{name: "comment", in: "ann@example.com (Ann)", reason: "doesn't look like an email address"},
	{name: "two @", in: "ann@lee@example.com", reason: "doesn't look like an email address"},
	{name: "no @", in: "ann.example.com", reason: "doesn't look like an email address"},
	{name: "missing TLD", in: "ann@example", reason: "doesn't look like an email address"},
	{name: "one-letter TLD", in: "ann@example.c", reason: "doesn't look like an email address"},
	{name: "numeric TLD", in: "ann@example.123", reason: "doesn't look like an email address"},
	{name: "trailing dot", in: "ann@example.com.", reason: "doesn't look like an email address"},
	{name: "empty label", in: "ann@example..com", reason: "doesn't look like an email address"},
	{name: "label starts with hyphen", in: "ann@-example.com", reason: "doesn't look like an email address"},
	{name: "label ends with hyphen", in: "ann@example-.com", reason: "doesn't look like an email address"},
	{name: "underscore in domain", in: "ann@ex_ample.com", reason: "doesn't look like an email address"},
	{name: "domain literal", in: "ann@[192.0.2.1]", reason: "doesn't look like an email address"},
	{name: "empty local part", in: "@example.com", reason: "doesn't look like an email address"},
	{name: "empty domain", in: "ann@", reason: "doesn't look like an email address"},
	{name: "local part too long", in: strings.Repeat("l", 65) + "@example.com", reason: "doesn't look like an email address"},
	{name: "space in local part", in: "ann lee@example.com", reason: "doesn't look like an email address"},
	{name: "quoted local part", in: `"ann"@example.com`, reason: "doesn't look like an email address"},
	{name: "double dot", in: "ann..lee@example.com", reason: "doesn't look like an email address"},
	{name: "control char", in: "ann\x00@example.com", reason: "doesn't look like an email address"},
	{name: "escape", in: "\x1b[31mann@example.com", reason: "doesn't look like an email address"},
	{name: "zero width", in: "ann\u200b@example.com", reason: "doesn't look like an email address"},
	{name: "bidi in domain", in: "ann@exam\u202eple.com", reason: "doesn't look like an email address"},
	{name: "invalid UTF-8", in: "ann\xff@example.com", reason: "contains invalid UTF-8"},
	{name: "empty", in: "  ", reason: "is empty"},
}

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range emailTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if tt.reason != "" {
				if err == nil {
					t.Fatalf("NormalizeEmail(%s) = %s, want error %q", short(tt.in), short(got), tt.reason)
				}
				wantInvalid(t, err, "email", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("NormalizeEmail(%s): %v", short(tt.in), err)
			}
			if got != tt.want {
				t.Errorf("NormalizeEmail(%s) = %s, want %s", short(tt.in), short(got), short(tt.want))
			}
		})
	}
}

func TestDisplayable(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello\nworld", "hello\nworld"},
		{"unicode kept", "Grüße 🙂 e\u0301", "Grüße 🙂 e\u0301"}, // no NFC at render time
		{"spaces kept", "  a  \n\n\n\n", "  a  \n\n\n\n"},
		{"SGR", "\x1b[1mbold\x1b[0m", "bold"},
		{"OSC 8", "\x1b]8;;http://evil\x07click\x1b]8;;\x07", "click"},
		{"OSC 52", "a\x1b]52;c;ZXZpbA==\x07b", "ab"},
		{"clear screen", "\x1b[2Jx", "x"},
		{"C1 CSI rune", "\u009b31mx", "x"},
		{"OSC with runes holding byte 0x9c", "\x1b]8;;http://x/\u201c\U0001F700y\x07z", "z"},
		{"unterminated OSC", "a\x1b]52;c;ZXZpbA==", "a"},
		{"tab", "a\tb", "a    b"},
		{"CR", "a\r\nb\rc", "a\nb\nc"},
		{"controls", "a\x00\x07\x08\x7f\u0085b", "ab"},
		{"bidi and zero width", "\u200da\u202e\u2066\u200b\ufeffb\u200d", "ab"},
		{"joiners kept where they join", "\U0001F468\u200D\U0001F469 می\u200Cخواهم", "\U0001F468\u200D\U0001F469 می\u200Cخواهم"},
		{"new invisibles", "a\u00ad\u3164\U000E0041\u180E\u2061\uFFF9b", "ab"},
		{"invalid UTF-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"raw 8-bit CSI becomes U+FFFD", "\x9b31m", "\ufffd31m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Displayable(tt.in); got != tt.want {
				t.Errorf("Displayable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// benchComment is a realistic comment of about 500 characters, with a little
// non-ASCII text, a few line breaks and a trailing newline.
var benchComment = strings.Repeat("Thanks for the write-up! I tried the approach on my own server and it "+
	"works nicely, though I had to raise the connection pool size — the "+
	"default was too small for ~40 sessions.\r\n\r\n", 3) + "Grüße, Ann 🙂\n"

func BenchmarkSanitizeComment(b *testing.B) {
	b.SetBytes(int64(len(benchComment)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SanitizeComment(benchComment); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSanitizeCommentASCII(b *testing.B) {
	s := strings.Repeat("This is a plain ASCII comment line with nothing special in it.\n", 8)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SanitizeComment(s); err != nil {
			b.Fatal(err)
		}
	}
}

// invisible answers from a bit set for the Basic Multilingual Plane; it
// must agree with the tables it was made from.
func TestInvisibleBitSetMatchesTables(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := r != '\u034F' && unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
		if invisible(r) != want {
			t.Fatalf("invisible(%U) = %v", r, !want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"ada":                 "ada",
		"\u3164\u115f":        DefaultName, // stored before fillers were removed
		"a\nb\x1b[2J\u202e c": "a b c",
		"":                    DefaultName,
	} {
		if got := DisplayName(in); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}
