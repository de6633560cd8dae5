package terminal

import (
	"strings"
	"testing"
	"time"
)

// bytewise splits keys into one-byte writes.
func bytewise(keys ...string) []string {
	var out []string
	for _, k := range keys {
		for i := range len(k) {
			out = append(out, k[i:i+1])
		}
	}
	return out
}

// Each byte in a read of its own (a pipe hands on one write per read), the
// sequences still parse as the keys they spell, not as Esc and text. The
// wait for an escape's rest is long here, so a loaded machine's pauses
// between writes cannot end it.
func TestGuardJoinsSplitEscapes(t *testing.T) {
	defer escapeWait.Store(escapeWait.Swap(int64(time.Minute)))
	keys := parse(t, bytewise("\x1b[B", "\x1bOA", "\x1bj", "\x1b[1;5C", "\x1b[<64;10;5M", "\x1b[200~hi there\x1b[201~", "x")...)
	var got []string
	for _, k := range keys {
		got = append(got, k.String())
	}
	want := "down up alt+j ctrl+right [hi there] x ctrl+q"
	if strings.Join(got, " ") != want {
		t.Fatalf("split keys parsed as %q, want %q", got, want)
	}
}
