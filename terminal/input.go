package terminal

import (
	"bytes"
	"io"
	"sync/atomic"
	"time"
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
	// maxEscHold is the longest start of an escape sequence held back
	// waiting for its end: longer than any key's sequence.
	maxEscHold = 32
)

// escapeWait is how long the start of an escape sequence waits for the
// rest of it. A client may send a sequence in pieces (an arrow key as
// ESC, then [B), and Bubble Tea takes the end of each read as the end of
// a key, so ESC alone would be Esc. Held a moment, the pieces make the key
// again; an Esc pressed alone arrives that much later, as in vim
// (ttimeoutlen) or tmux (escape-time). Nanoseconds, so tests may lengthen
// it while sessions run.
var escapeWait atomic.Int64

func init() { escapeWait.Store(int64(50 * time.Millisecond)) }

// InputGuard is the session's input as the program reads it; see above.
type InputGuard struct {
	r io.Reader
	// send delivers a finished paste to the program; tooLong counts pastes
	// cut short.
	send    func(tea.Msg)
	tooLong func()

	buf      []byte // read from r; buf[off:end] is not handled yet
	off, end int

	run      int    // bytes in the current run of text
	inPaste  bool   // between a start and an end marker
	paste    []byte // the paste so far, at most MaxPasteBytes
	overflow bool   // the paste was longer than MaxPasteBytes: drop the rest
	matched  int    // bytes of pasteEnd matched at the end of what was read

	pending tea.Msg // a paste to send once Bubble Tea has flushed
	flushed bool    // the empty read that precedes pending was returned

	// While an escape's start is held, r is read in the background so the
	// wait can end: waiting brings that read's result, into spare.
	waiting chan readResult
	spare   []byte
	release bool // the wait ended: hand the held start on as it is
}

type readResult struct {
	n   int
	err error
}

// NewInputGuard reads r for a program: send delivers a finished paste to it
// (Painter.Send), and tooLong, if set, hears of each paste cut short.
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

// holding says whether what is left, all that was read, is the start of
// an escape sequence without its end: ESC, ESC O, or ESC [ and parameters
// without the final byte (this includes a paste marker's first bytes).
func (g *InputGuard) holding() bool {
	rest := g.buf[g.off:g.end]
	if g.release || len(rest) == 0 || rest[0] != 0x1b || len(rest) > maxEscHold {
		return false
	}
	switch {
	case len(rest) == 1:
		return true
	case rest[1] == 'O':
		return len(rest) == 2
	case rest[1] == '[':
		for _, c := range rest[2:] {
			if c < 0x20 || c > 0x3f {
				return false // a final byte, or not a sequence at all
			}
		}
		return true
	}
	return false
}

// fill reads more from r, keeping what is not handled yet. While the start
// of an escape sequence is held it waits at most escapeWait, then has the
// start handed on as it is.
func (g *InputGuard) fill() error {
	if g.off == g.end {
		g.off, g.end = 0, 0
	} else if g.off > 0 {
		g.end = copy(g.buf, g.buf[g.off:g.end])
		g.off = 0
	}
	if g.waiting == nil && !g.holding() {
		n, err := g.r.Read(g.buf[g.end:])
		g.end += n
		if n > 0 {
			return nil
		}
		return err // nil: the caller reads again
	}
	if g.waiting == nil {
		if g.spare == nil {
			g.spare = make([]byte, len(g.buf)-maxEscHold)
		}
		g.waiting = make(chan readResult, 1)
		go func(r io.Reader, buf []byte, done chan<- readResult) {
			n, err := r.Read(buf)
			done <- readResult{n, err}
		}(g.r, g.spare, g.waiting)
	}
	var expired <-chan time.Time
	if g.holding() {
		t := time.NewTimer(time.Duration(escapeWait.Load()))
		defer t.Stop()
		expired = t.C
	}
	select {
	case res := <-g.waiting:
		g.waiting = nil
		g.release = false
		g.end += copy(g.buf[g.end:], g.spare[:res.n])
		if res.n > 0 {
			return nil
		}
		return res.err
	case <-expired:
		g.release = true // ground hands the start on; the read goes on
		return nil
	}
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

// SetEscapeWait sets how long the start of an escape sequence waits for its
// rest and returns the wait it replaces. Tests over SSH on a loaded machine
// make it longer than the pauses between their writes.
func SetEscapeWait(d time.Duration) time.Duration {
	return time.Duration(escapeWait.Swap(int64(d)))
}
