package abuse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// SizeCase is one hostile terminal size (finding 1): the PTY request's,
// and optionally a window change after the first frame.
type SizeCase struct {
	Name             string
	Width, Height    uint32 // PTY request
	ResizeW, ResizeH uint32 // window-change; 0 sends none
}

// SizeCases are the sizes of finding 1. The last two start from an
// ordinary terminal and resize.
var SizeCases = []SizeCase{
	{Name: "pty width 4294967295", Width: 4294967295, Height: 40},
	{Name: "pty height 4294967295", Width: 100, Height: 4294967295},
	{Name: "window-change width 4294967295", Width: 100, Height: 40, ResizeW: 4294967295, ResizeH: 40},
	{Name: "window-change width 10000000", Width: 100, Height: 40, ResizeW: 10_000_000, ResizeH: 40},
}

// maxSizeBytes stops reading a session that has proven the point: a
// server bounded to 500x200 sends far less for a frame.
const maxSizeBytes = 64 << 20

// HugeSize runs one size case keyless and returns the widest line the
// server sent, in characters (every character counted as one cell; the
// blog's chrome is narrow characters). It reads until the post list's
// footer has been drawn after the last size, the server closes the
// session, 64 MB have arrived, or the wait runs out.
func HugeSize(ctx context.Context, t Target, c SizeCase) (widest int, err error) {
	client, _, err := dial(ctx, t, nil)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return 0, err
	}
	// The PTY request is sent by hand: RequestPty takes ints, and the
	// point is the full uint32 range.
	if err := ptyRequest(sess, "xterm-256color", c.Width, c.Height); err != nil {
		return 0, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return 0, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return 0, err
	}
	if err := sess.Shell(); err != nil {
		return 0, err
	}
	m := newMeter(stdin)
	go m.read(stdout)
	if err := m.waitText(ctx, "enter read", t.wait()); err != nil {
		return m.widestLine(), err
	}
	if c.ResizeW != 0 {
		m.reset()
		if _, err := sess.SendRequest("window-change", false, windowPayload(c.ResizeW, c.ResizeH)); err != nil {
			return m.widestLine(), err
		}
		if err := m.waitText(ctx, "enter read", t.wait()); err != nil {
			return m.widestLine(), err
		}
	}
	return m.widestLine(), nil
}

func ptyRequest(sess interface {
	SendRequest(string, bool, []byte) (bool, error)
}, term string, w, h uint32) error {
	payload := appendString(nil, term)
	payload = append(payload, windowPayload(w, h)...)
	payload = appendString(payload, "") // no terminal modes
	ok, err := sess.SendRequest("pty-req", true, payload)
	if err == nil && !ok {
		err = errors.New("pty request refused")
	}
	return err
}

// windowPayload is width, height and zero pixel sizes.
func windowPayload(w, h uint32) []byte {
	var b []byte
	for _, v := range []uint32{w, h, 0, 0} {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	n := uint32(len(s))
	return append(append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)), s...)
}

// meter reads a raw terminal stream without an emulator (a 4-billion-
// column screen cannot be emulated): it skips escape sequences, measures
// each line between carriage returns, newlines and cursor positions,
// keeps the last plain text to look for words, and answers the server's
// terminal queries.
type meter struct {
	answer io.Writer

	mu      sync.Mutex
	cond    *sync.Cond
	widest  int
	cur     int
	esc     int // 0 text, 1 after ESC, 2 in CSI, 3 in OSC/DCS string
	tail    []byte
	total   int
	ended   bool
	answers int
}

func newMeter(answer io.Writer) *meter {
	m := &meter{answer: answer}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *meter) read(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m.feed(buf[:n])
		}
		if err != nil || m.bytes() > maxSizeBytes {
			m.mu.Lock()
			m.ended = true
			m.cond.Broadcast()
			m.mu.Unlock()
			if err == nil {
				_, _ = io.Copy(io.Discard, r) // keep the connection's other channels moving
			}
			return
		}
	}
}

func (m *meter) bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

func (m *meter) feed(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.total += len(b)
	// The blog asks for the background colour and device attributes
	// once, at the start; answering the latter ends its wait at once.
	if m.answers == 0 && bytes.Contains(b, []byte("\x1b[c")) {
		m.answers++
		go func() { _, _ = io.WriteString(m.answer, "\x1b]11;rgb:0000/0000/0000\x07\x1b[?62;22c") }()
	}
	for _, c := range b {
		switch m.esc {
		case 1:
			switch c {
			case '[':
				m.esc = 2
			case ']', 'P', '_', '^':
				m.esc = 3
			default:
				m.esc = 0
			}
			continue
		case 2:
			if c >= 0x40 && c <= 0x7e {
				m.esc = 0
				if c == 'H' || c == 'f' {
					// A cursor position starts a new line too: a frame
					// painted on a blank screen begins with "home" alone.
					m.cur = 0
					m.text('\n')
				}
			}
			continue
		case 3:
			if c == 0x07 || c == '\\' {
				m.esc = 0
			}
			continue
		}
		switch {
		case c == 0x1b:
			m.esc = 1
		case c == '\r' || c == '\n':
			m.cur = 0
			m.text('\n')
		case c < 0x20:
		case c < 0x80 || utf8.RuneStart(c):
			m.cur++
			m.widest = max(m.widest, m.cur)
			m.text(c)
		default:
			m.text(c) // continuation byte of a character already counted
		}
	}
	m.cond.Broadcast()
}

// text keeps the last 4 KB of plain text, lines run together with '\n'
// and runs of spaces (a huge window's padding) as one.
// maxTail bounds the plain text a meter keeps.
const maxTail = 256 << 10

func (m *meter) text(c byte) {
	if (c == '\n' || c == ' ') && len(m.tail) > 0 && m.tail[len(m.tail)-1] == c {
		return
	}
	// Room for a whole frame of the widest window (500x200, a screenful of
	// text), so a line near its top is still there when a read that
	// brought the frame has been fed.
	if len(m.tail) >= maxTail {
		m.tail = append(m.tail[:0], m.tail[maxTail/2:]...)
	}
	m.tail = append(m.tail, c)
}

// has reports whether text is in the plain output seen so far.
func (m *meter) has(text string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Contains(m.tail, []byte(text))
}

// reset forgets the text seen so far, before waiting for the next frame.
func (m *meter) reset() {
	m.mu.Lock()
	m.tail = m.tail[:0]
	m.mu.Unlock()
}

func (m *meter) widestLine() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.widest
}

// waitText waits for text in the plain output, the end of the stream, ctx
// or the timeout.
func (m *meter) waitText(ctx context.Context, text string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		m.mu.Lock()
		m.cond.Broadcast()
		m.mu.Unlock()
	})
	defer stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !bytes.Contains(m.tail, []byte(text)) {
		if m.ended {
			if m.total > maxSizeBytes {
				return errors.New("over 64 MB of output for one size")
			}
			return errEnded
		}
		if ctx.Err() != nil {
			return errors.New("timed out waiting for " + text)
		}
		m.cond.Wait()
	}
	return nil
}
