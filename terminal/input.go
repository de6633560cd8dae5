package terminal

import (
	"bytes"
	"io"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// Bubble Tea v1's input reader (readAnsiInputs) reads 256 bytes at a time
// and, when what it has may be the start of something longer (a bracketed
// paste without its end marker yet, or a run of text without a space or a
// control character reaching the end of a full read), keeps it and parses
// it again, whole, with the next 256 bytes. A 4 MB paste is parsed 16,000
// times over. InputGuard sits between the session and the program so that
// never happens: it takes bracketed pastes out of the stream itself (in
// one pass, bounded) and hands them to the program as the same message
// Bubble Tea would have made, and it ends a read inside a long run of text
// so Bubble Tea emits the run rather than keeping it.

// MaxPasteBytes bounds one bracketed paste. As soon as a paste is longer,
// the program gets a paste of its first MaxPasteBytes (more than any field
// takes, so each refuses it with its own message: "Nothing was pasted:
// ...") and the rest is read and dropped up to the end marker, which a
// hostile client may never send.
const MaxPasteBytes = 64 << 10

const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
	// maxRun is how much of a run of text one read hands on before ending,
	// below Bubble Tea's 256-byte read so the read is short and the run is
	// emitted. No terminal's escape sequence holds this many printable
	// bytes in a row, so the cut is never inside one.
	maxRun = 128
	// guardBuffer is how much is read from the session at a time: as much
	// as Bubble Tea reads, and it stays with the session.
	guardBuffer = 256
)

// InputGuard is the session's input as the program reads it; see above.
type InputGuard struct {
	r io.Reader
	// send delivers a finished paste to the program; tooLong counts pastes
	// cut short.
	send    func(tea.Msg)
	tooLong func()

	buf      []byte // read from r; buf[off:end] is not handled yet
	off, end int
	lastFull bool // the last read from r filled the space it was given

	run      int    // bytes in the current run of text
	inPaste  bool   // between a start and an end marker
	paste    []byte // the paste so far, at most MaxPasteBytes
	overflow bool   // the paste was longer than MaxPasteBytes: drop the rest
	matched  int    // bytes of pasteEnd matched at the end of what was read

	pending tea.Msg // a paste to send once Bubble Tea has flushed
	flushed bool    // the empty read that precedes pending was returned
}

// NewInputGuard reads r for a program: send delivers a finished paste to it
// (p.Send), and tooLong, if set, hears of each paste cut short.
func NewInputGuard(r io.Reader, send func(tea.Msg), tooLong func()) *InputGuard {
	return &InputGuard{r: r, send: send, tooLong: tooLong, buf: make([]byte, guardBuffer)}
}

func (g *InputGuard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if g.pending != nil {
			// An empty read first: Bubble Tea then parses anything it kept
			// from earlier reads, so the paste arrives after it, in order.
			if !g.flushed {
				g.flushed = true
				return 0, nil
			}
			msg := g.pending
			g.pending, g.flushed = nil, false
			g.send(msg)
		}
		if g.inPaste {
			g.consumePaste()
			if !g.inPaste || g.pending != nil {
				continue // finished or cut short: send it
			}
		} else if g.off < g.end {
			if n := g.ground(p); n > 0 {
				return n, nil
			}
			if g.inPaste {
				continue // a paste started
			}
			// Nothing to hand on: a marker's first bytes wait for the rest.
		}
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
}

// holding says whether what is left is the start of a paste marker that
// needs more bytes to tell. ESC and ESC [ alone may be keys (escape,
// alt+[), so they are held only when more input was already waiting.
func (g *InputGuard) holding() bool {
	rest := g.buf[g.off:g.end]
	return len(rest) < len(pasteStart) && (len(rest) >= 3 || g.lastFull) && bytes.HasPrefix([]byte(pasteStart), rest)
}

// fill reads more from r, keeping what is not handled yet.
func (g *InputGuard) fill() error {
	if g.off == g.end {
		g.off, g.end = 0, 0
	} else if g.off > 0 {
		g.end = copy(g.buf, g.buf[g.off:g.end])
		g.off = 0
	}
	space := len(g.buf) - g.end
	n, err := g.r.Read(g.buf[g.end:])
	g.end += n
	g.lastFull = n == space
	if n > 0 {
		return nil
	}
	return err // nil: the caller reads again
}

// ground copies text outside pastes to p, stopping before a paste's start
// marker and after maxRun bytes of one run of text.
func (g *InputGuard) ground(p []byte) int {
	n := 0
	for g.off < g.end && n < len(p) {
		c := g.buf[g.off]
		if c == 0x1b {
			rest := g.buf[g.off:g.end]
			if bytes.HasPrefix(rest, []byte(pasteStart)) {
				if n > 0 {
					return n // the paste starts with the next read
				}
				g.off += len(pasteStart)
				g.inPaste, g.run = true, 0
				return 0
			}
			if g.holding() {
				return n
			}
		}
		if c >= 0xc0 {
			// Never end a read inside a character: Bubble Tea would drop
			// its halves as unknown bytes.
			rest := g.buf[g.off:g.end]
			if !utf8.FullRune(rest) {
				return n // wait for the rest of it
			}
			if _, size := utf8.DecodeRune(rest); n+size > len(p) {
				return n
			}
		}
		switch {
		case c <= ' ' || c == 0x7f:
			g.run = 0
		case g.run >= maxRun && utf8.RuneStart(c):
			g.run = 0
			if n > 0 {
				return n // a short read: Bubble Tea emits the run so far
			}
		default:
			g.run++
		}
		p[n] = c
		n++
		g.off++
	}
	return n
}

// consumePaste takes paste bytes up to the end marker, keeping at most
// MaxPasteBytes and dropping the rest.
func (g *InputGuard) consumePaste() {
	for g.off < g.end {
		if g.matched == 0 {
			rest := g.buf[g.off:g.end]
			i := bytes.IndexByte(rest, 0x1b)
			if i < 0 {
				i = len(rest)
			}
			g.keep(rest[:i])
			g.off += i
			if g.off == g.end || g.pending != nil {
				return
			}
		}
		c := g.buf[g.off]
		g.off++
		if c == pasteEnd[g.matched] {
			g.matched++
			if g.matched == len(pasteEnd) {
				if !g.overflow {
					g.finishPaste()
				}
				g.inPaste, g.overflow, g.matched = false, false, 0
				return
			}
			continue
		}
		// Not the end marker after all: what matched is paste text.
		g.keep([]byte(pasteEnd[:g.matched]))
		g.matched = 0
		if c == 0x1b {
			g.matched = 1
		} else {
			g.keep([]byte{c})
		}
		if g.pending != nil {
			return // the paste just overflowed: say so now
		}
	}
}

func (g *InputGuard) keep(b []byte) {
	if g.overflow {
		return
	}
	if room := MaxPasteBytes - len(g.paste); len(b) > room {
		g.paste = append(g.paste, b[:room]...)
		g.finishPaste()
		g.overflow = true
		if g.tooLong != nil {
			g.tooLong()
		}
		return
	}
	g.paste = append(g.paste, b...)
}

// finishPaste turns the paste into the message Bubble Tea makes of one.
func (g *InputGuard) finishPaste() {
	k := tea.Key{Type: tea.KeyRunes, Paste: true, Runes: make([]rune, 0, utf8.RuneCount(g.paste))}
	for b := g.paste; len(b) > 0; {
		r, w := utf8.DecodeRune(b)
		if r != utf8.RuneError {
			k.Runes = append(k.Runes, r)
		}
		b = b[w:]
	}
	g.pending = tea.KeyMsg(k)
	g.paste = nil
}
