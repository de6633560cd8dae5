package terminal

import (
	"bytes"
	"encoding/binary"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// sshString encodes s as an SSH string: a uint32 length, then the bytes.
func sshString(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// ptyRequest builds a pty-req payload: TERM, width, height, pixel sizes and
// the encoded terminal modes.
func ptyRequest(term string, w, h uint32, modes string) []byte {
	b := sshString(term)
	b = append(b, u32s(w, h, 640, 480)...)
	return append(b, sshString(modes)...)
}

func TestClampPtyRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		ok      bool
		want    []byte // the rewritten payload
	}{
		{"a size within bounds", ptyRequest("xterm", 80, 24, "\x00"), true, ptyRequest("xterm", 80, 24, "\x00")},
		{"too wide and too tall", ptyRequest("xterm", 1<<20, 1<<20, "\x00"), true, ptyRequest("xterm", MaxWidth, MaxHeight, "\x00")},
		{"zero is one", ptyRequest("xterm", 0, 0, "\x00"), true, ptyRequest("xterm", 1, 1, "\x00")},
		{"modes are dropped", ptyRequest("xterm", 80, 24, string(bytes.Repeat([]byte{1, 0, 0, 0, 1}, 1000))+"\x00"), true, ptyRequest("xterm", 80, 24, "\x00")},
		{"the longest TERM", ptyRequest(string(bytes.Repeat([]byte("x"), maxTermBytes)), 80, 24, ""), true, ptyRequest(string(bytes.Repeat([]byte("x"), maxTermBytes)), 80, 24, "\x00")},
		{"TERM too long", ptyRequest(string(bytes.Repeat([]byte("x"), maxTermBytes+1)), 80, 24, ""), false, nil},
		{"cut short in the sizes", ptyRequest("xterm", 80, 24, "")[:15], false, nil},
		{"no modes string", ptyRequest("xterm", 80, 24, "")[:9+16], false, nil},
		{"bytes after the modes", append(ptyRequest("xterm", 80, 24, ""), 0), false, nil},
		{"a length past the end", u32s(1 << 31), false, nil},
		{"empty", nil, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := clampPtyRequest(tc.payload)
			if ok != tc.ok || !bytes.Equal(got, tc.want) {
				t.Errorf("clampPtyRequest = %x, %v; want %x, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseWindowChange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    tea.WindowSizeMsg
		ok      bool
	}{
		{"ordinary", u32s(120, 40, 0, 0), tea.WindowSizeMsg{Width: 120, Height: 40}, true},
		{"clamped", u32s(1<<32-1, 1<<32-1, 0, 0), tea.WindowSizeMsg{Width: MaxWidth, Height: MaxHeight}, true},
		{"zero is one", u32s(0, 0, 0, 0), tea.WindowSizeMsg{Width: 1, Height: 1}, true},
		{"short", u32s(120, 40, 0), tea.WindowSizeMsg{}, false},
		{"long", u32s(120, 40, 0, 0, 0), tea.WindowSizeMsg{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseWindowChange(tc.payload)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseWindowChange = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestReadString(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		s, rest string
		ok      bool
	}{
		{"a string and more", append(sshString("TERM"), "rest"...), "TERM", "rest", true},
		{"empty string", sshString(""), "", "", true},
		{"length past the end", append(u32s(5), "abcd"...), "", "", false},
		{"a huge length", append(u32s(1<<32-1), "abcd"...), "", "", false},
		{"no length", []byte{0, 0, 1}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rest, ok := readString(tc.in)
			if string(s) != tc.s || string(rest) != tc.rest || ok != tc.ok {
				t.Errorf("readString = %q, %q, %v; want %q, %q, %v", s, rest, ok, tc.s, tc.rest, tc.ok)
			}
		})
	}
}

func TestKeepEnv(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), maxEnvBytes))
	for _, tc := range []struct {
		name, value string
		keep        bool
	}{
		{"TERM", "xterm-256color", true},
		{"COLORTERM", "truecolor", true},
		{"NO_COLOR", "1", true},
		{"LANG", "de_DE.UTF-8", true},
		{"TZ", "Europe/Berlin", true},
		{"LC_ALL", "C", true},
		{"LC_TIME", "en_GB.UTF-8", true},
		{"LC_", "", true},
		{"PATH", "/bin", false},
		{"LD_PRELOAD", "/tmp/x.so", false},
		{"term", "xterm", false},
		{"LANG", long, false}, // name and value over maxEnvBytes
		{"LANG", long[:maxEnvBytes-4], true},
	} {
		if got := keepEnv([]byte(tc.name), []byte(tc.value)); got != tc.keep {
			t.Errorf("keepEnv(%q, %d bytes) = %v, want %v", tc.name, len(tc.value), got, tc.keep)
		}
	}
}
