package terminal

import (
	"io"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsDark(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		dark, ok bool
	}{
		{"rgb:0000/0000/0000", true, true},
		{"rgb:ffff/ffff/ffff", false, true},
		{"rgb:1e1e/1e1e/2e2e", true, true},
		{"rgb:fdfd/f6f6/e3e3", false, true}, // solarized light
		{"rgb:0/0/0", true, true},           // one digit a channel
		{"rgb:f/f/f", false, true},
		{"rgb:ff/ff/ff", false, true},
		{"rgb:fff/fff/fff", false, true},
		{"rgb:00/ff/00", false, true}, // green is bright
		{"rgb:ff/00/00", true, true},  // red alone is not
		{"rgb:0000/0000", false, false},
		{"rgb:0000/0000/0000/0000", false, false},
		{"rgb:00000/0/0", false, false}, // more than 4 digits
		{"rgb://", false, false},
		{"rgb:zz/00/00", false, false},
		{"#000000", false, false},
		{"", false, false},
	} {
		dark, ok := isDark(tc.spec)
		if dark != tc.dark || ok != tc.ok {
			t.Errorf("isDark(%q) = %v, %v; want %v, %v", tc.spec, dark, ok, tc.dark, tc.ok)
		}
	}
}

func TestDA1End(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"\x1b[?62;22c", 9},
		{"ab\x1b[?1;2cde", 9},
		{"\x1b[?c", 4},
		{"\x1b[?62;22", -1}, // not finished yet
		{"\x1b[?62x", -1},   // not DA1
		{"\x1b[62c", -1},    // no question mark
		{"", -1},
		{"typed text", -1},
	} {
		if got := da1End([]byte(tc.in)); got != tc.want {
			t.Errorf("da1End(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// parseAnswers takes the terminal's answers out and gives back every key
// the visitor typed meanwhile, in order.
func TestParseAnswers(t *testing.T) {
	dark, light := true, false
	for _, tc := range []struct {
		name string
		in   string
		dark *bool
		rest string
	}{
		{"both answers, BEL", "\x1b]11;rgb:0000/0000/0000\a\x1b[?62;22c", &dark, ""},
		{"both answers, ST", "\x1b]11;rgb:ffff/ffff/ffff\x1b\\\x1b[?62c", &light, ""},
		{"keys around the answers", "j\x1b]11;rgb:ffff/ffff/ffff\ak\x1b[?1;2cl", &light, "jkl"},
		{"only DA1: no OSC 11 support", "\x1b[?62;22c", nil, ""},
		{"only DA1, keys kept", "q\x1b[?62;22cx", nil, "qx"},
		{"an unreadable colour", "\x1b]11;cmyk:1/2/3/4\a\x1b[?62c", nil, ""},
		{"an unfinished OSC 11 is left as it came", "\x1b]11;rgb:0/0/0", nil, "\x1b]11;rgb:0/0/0"},
		{"nothing", "", nil, ""},
		{"keys only", "hello", nil, "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dark, rest := parseAnswers([]byte(tc.in))
			switch {
			case (dark == nil) != (tc.dark == nil):
				t.Errorf("dark = %v, want %v", dark, tc.dark)
			case dark != nil && *dark != *tc.dark:
				t.Errorf("dark = %v, want %v", *dark, *tc.dark)
			}
			if string(rest) != tc.rest {
				t.Errorf("rest = %q, want %q", rest, tc.rest)
			}
		})
	}
}

// countingReader counts the reads started on r.
type countingReader struct {
	r     io.Reader
	reads atomic.Int32
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.r.Read(p)
}

// Once the query has its answer, the handoff starts no read of its own: one
// left waiting for the visitor's first key would keep a goroutine, and the
// program's reader behind it, for as long as the visitor sits idle.
func TestHandoffReadsOnlyWhileTheQueryAsks(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	in := &countingReader{r: pr}
	h := newHandoff(t.Context(), in)
	go pw.Write([]byte("\x1b]11;rgb:0000/0000/0000\x07"))
	if got := string(<-h.chunks); got != "\x1b]11;rgb:0000/0000/0000\x07" {
		t.Fatalf("first chunk %q", got)
	}
	h.askMore() // no DA1 answer yet
	go pw.Write([]byte("\x1b[?62c"))
	if got := string(<-h.chunks); got != "\x1b[?62c" {
		t.Fatalf("second chunk %q", got)
	}
	h.stop()
	select {
	case _, ok := <-h.chunks:
		if ok {
			t.Fatal("the pump delivered a chunk nobody asked for")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pump is still reading after the answer")
	}
	if n := in.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
	// The program now reads the session directly.
	go pw.Write([]byte("j"))
	buf := make([]byte, 16)
	if n, err := h.Read(buf); err != nil || string(buf[:n]) != "j" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}
