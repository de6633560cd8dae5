package server

import (
	"slices"
	"testing"

	"github.com/anmitsu/go-shlex"
)

func TestOpensInterface(t *testing.T) {
	for _, tc := range []struct {
		pty  bool
		cmd  []string
		want bool
	}{
		{true, nil, true},
		{true, []string{"read", "welcome"}, true},
		{true, []string{"read"}, false},
		{true, []string{"read", "welcome", "--raw"}, false},
		{true, []string{"ls"}, false},
		{true, []string{"comments", "welcome"}, false},
		{false, nil, false},
		{false, []string{"read", "welcome"}, false},
	} {
		if got := opensInterface(tc.pty, tc.cmd); got != tc.want {
			t.Errorf("opensInterface(pty %v, %q) = %v, want %v", tc.pty, tc.cmd, got, tc.want)
		}
	}
}

// A command without quotes or backslashes splits as the SSH library's
// shell-like lexer splits it; others are left to the lexer.
func TestPlainWordsSplitsAsTheLibrary(t *testing.T) {
	inputs := []string{
		"", " ", "read", "read welcome", "  read   welcome  ", "read\twelcome\n",
		"comments go-for-backend-services --json", "ls --for=me", "a\u00a0b", "a\u2003b",
		"read é-post", "x -- -y", "#comment", "a#b", "a;b", "a|b &c", "$HOME", "~/x", "a*b?",
		"\x00a b", "ab\rcd", "read \x1b[31m", "日本 語",
	}
	for _, raw := range inputs {
		want, err := shlex.Split(raw, true)
		if err != nil {
			t.Fatalf("the library's lexer fails on %q: %v", raw, err)
		}
		got, ok := plainWords(raw)
		if !ok {
			t.Errorf("plainWords(%q) left it to the lexer; it has no quotes or backslashes", raw)
			continue
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("plainWords(%q) = %q, the library gives %q", raw, got, want)
		}
	}
	for _, raw := range []string{`comment "a b"`, `read 'x'`, `read a\ b`} {
		if _, ok := plainWords(raw); ok {
			t.Errorf("plainWords(%q) split it; quotes and backslashes are the lexer's", raw)
		}
	}
}
