package abuse

import (
	"io"
	"strings"
	"testing"
)

// The meter measures lines as a terminal shows them: escape sequences
// (split across reads too) take no room, and a wide character counts once.
func TestMeterMeasuresLinesWithoutEscapes(t *testing.T) {
	m := newMeter(io.Discard)
	for _, chunk := range []string{"\x1b[1;38;5;1", "2mab\x1b[0mc\r\n", "\x1b]11;?\x07\x1b[c", "xy→z  " + strings.Repeat(" ", 100) + "enter", " read\r\x1b[2Kshort"} {
		m.feed([]byte(chunk))
	}
	if w := m.widestLine(); w != 4+2+100+5+5 {
		t.Errorf("widest line %d", w)
	}
	if !m.has("abc\nxy→z enter read\nshort") {
		t.Errorf("plain text %q", m.tail)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:22": true, "[::1]:22": true, "localhost:22": false, "10.0.0.1:22": false, "127.0.0.2:22": false} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
