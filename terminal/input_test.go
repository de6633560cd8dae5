package terminal

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// keyLog is a model that keeps the keys Bubble Tea parsed and quits on q
// typed alone.
type keyLog struct{ keys []tea.KeyMsg }

func (k *keyLog) Init() tea.Cmd { return nil }
func (k *keyLog) View() string  { return "" }
func (k *keyLog) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if key, ok := msg.(tea.KeyMsg); ok {
		k.keys = append(k.keys, key)
		if key.String() == "ctrl+q" {
			return k, tea.Quit
		}
	}
	return k, nil
}

// parse runs input through the guard and the session's program, as a
// session does, and returns the keys it made.
func parse(t *testing.T, input ...string) []tea.KeyMsg {
	t.Helper()
	return parseWith(t, false, input...)
}

// parseWith is parse, through Bubble Tea v1's own program and input reader
// when bubbleTea is set.
func parseWith(t *testing.T, bubbleTea bool, input ...string) []tea.KeyMsg {
	t.Helper()
	model := &keyLog{}
	// A pipe, so reads come in the pieces the writer sends, as from SSH.
	pr, pw := io.Pipe()
	var run func() error
	var kill func()
	if bubbleTea {
		var p *tea.Program
		guard := NewInputGuard(pr, func(msg tea.Msg) { p.Send(msg) }, nil)
		p = tea.NewProgram(model, tea.WithInput(guard), tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignalHandler())
		run = func() error { _, err := p.Run(); return err }
		kill = p.Kill
	} else {
		p := NewPainter(model, io.Discard, 80, 24, nil)
		guard := NewInputGuard(pr, p.Send, nil)
		run = func() error { return p.Run(Session{Input: guard, HangUp: func() { _ = pr.Close() }}) }
		kill = p.quit
	}
	go func() {
		for _, piece := range append(input, "\x11") {
			for len(piece) > 0 {
				n := min(len(piece), 32<<10)
				_, _ = io.WriteString(pw, piece[:n])
				piece = piece[n:]
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		kill()
		t.Fatal("the program never saw the end of the input")
	}
	pw.Close()
	return model.keys
}

// A run of text without a space is handed on in short pieces, so Bubble
// Tea never keeps it to parse again: no key carries much of it.
func TestGuardBreaksLongRuns(t *testing.T) {
	run := strings.Repeat("wörd", 1<<18) // 1.25 MB, no space
	keys := parse(t, run+"\x1b[A"+run+"\x1b[1;5B")
	var got strings.Builder
	var arrows []string
	for _, k := range keys {
		switch {
		case k.Type == tea.KeyRunes && !k.Paste:
			if len(k.Runes) > 512 {
				t.Fatalf("a key of %d runes: Bubble Tea kept a run to parse again", len(k.Runes))
			}
			got.WriteString(string(k.Runes))
		case k.Type == tea.KeyCtrlQ:
		default:
			arrows = append(arrows, k.String())
		}
	}
	if got.String() != run+run {
		t.Fatalf("the text changed on the way: %d bytes in, %d out", 2*len(run), got.Len())
	}
	if strings.Join(arrows, " ") != "up ctrl+down" {
		t.Fatalf("escape sequences after long runs parsed as %q", arrows)
	}
}

func TestGuardPastes(t *testing.T) {
	pastes := func(keys []tea.KeyMsg) (out []string, typed string) {
		for _, k := range keys {
			if k.Paste {
				out = append(out, string(k.Runes))
			} else if k.Type == tea.KeyRunes {
				typed += string(k.Runes)
			}
		}
		return out, typed
	}

	// In order with what was typed around them, markers split across
	// reads. (Not right after a marker's ESC when no more input is waiting:
	// that ESC may be the escape key.)
	got, typed := pastes(parse(t, "ab\x1b[2", "00~one\x1b[", "2two\x1b[20", "1~cd\x1b[200", "~\x1b[201~ef"))
	if len(got) != 2 || got[0] != "one\x1b[2two" || got[1] != "" || typed != "abcdef" {
		t.Fatalf("pastes %q, typed %q", got, typed)
	}

	// Too long: the program hears of it at once, as a paste of the first
	// MaxPasteBytes, and the rest is dropped up to the end marker.
	huge := strings.Repeat("x", 4<<20)
	got, typed = pastes(parse(t, "\x1b[200~"+huge+"\x1b[201~after"))
	if len(got) != 1 || len(got[0]) != MaxPasteBytes || typed != "after" {
		t.Fatalf("%d pastes (first %d bytes), typed %q", len(got), len(got[0]), typed)
	}
}

// The painter never writes more than height lines of lineBytes(width),
// whatever the model hands it.
func TestPainterBoundsFrames(t *testing.T) {
	const width, height = 80, 24
	huge := strings.Repeat("\x1b[31mx\x1b[0m", 20_000)
	frame := strings.Repeat(huge+"\n", 100)
	var out bytes.Buffer
	p := NewPainter(nil, &out, width, height, nil)
	p.paint(frame)
	if most := height * (lineBytes(width) + 32); out.Len() > most {
		t.Fatalf("a frame of %d bytes; at most %d", out.Len(), most)
	}
	for _, line := range strings.Split(out.String(), "\r\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Fatalf("a line of %d cells at width %d", w, width)
		}
	}
}
