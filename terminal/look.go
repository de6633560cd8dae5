// Package terminal is a visitor's terminal at the far end of an SSH session
// channel. It filters and clamps the channel's requests (pty-req,
// window-change, env) before the ssh library sees them, puts a deadline on
// every write to the channel, asks the terminal for its colours, guards the
// program's input against pastes Bubble Tea would parse over and over, and
// paints the program's frames itself, only where they changed.
package terminal

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"blog/ui"

	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
)

// Terminal queries: the background colour (OSC 11) followed by primary
// device attributes (DA1). Every terminal answers DA1, so its answer ends
// the wait even when the terminal ignores OSC 11.
const (
	queryBackground = "\x1b]11;?\x07\x1b[c"
	queryTimeout    = time.Second
)

// QueryLook works out the client's colour profile from the environment it
// sent (TERM, COLORTERM, NO_COLOR) and its background from its answer to a
// query. It returns the session input to hand to the program: nothing the
// visitor typed meanwhile is lost.
func QueryLook(ctx context.Context, s ssh.Session, term string) (ui.Look, io.Reader) {
	env := append(s.Environ(), "TERM="+term)
	out := termenv.NewOutput(io.Discard, termenv.WithEnvironment(environ(env)), termenv.WithTTY(true))
	look := ui.Look{Profile: out.EnvColorProfile(), Dark: true}
	if term == "" || term == "dumb" {
		return ui.Look{Profile: termenv.Ascii, Dark: true}, s
	}
	if _, err := io.WriteString(s, queryBackground); err != nil {
		return look, s
	}
	in := newHandoff(ctx, s)
	var got []byte
	deadline := time.NewTimer(queryTimeout)
	defer deadline.Stop()
wait:
	for {
		select {
		case chunk, ok := <-in.chunks:
			if !ok {
				break wait
			}
			got = append(got, chunk...)
			if da1End(got) >= 0 {
				break wait
			}
			in.askMore()
		case <-deadline.C:
			break wait
		}
	}
	in.stop()
	dark, rest := parseAnswers(got)
	if dark != nil {
		look.Dark = *dark
	}
	in.pending = rest
	return look, in
}

type environ []string

func (e environ) Environ() []string { return e }
func (e environ) Getenv(k string) string {
	for i := len(e) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// da1End returns the index just past a DA1 answer (ESC [ ? ... c), or -1.
func da1End(b []byte) int {
	i := bytes.Index(b, []byte("\x1b[?"))
	if i < 0 {
		return -1
	}
	for j := i + 3; j < len(b); j++ {
		c := b[j]
		if c == 'c' {
			return j + 1
		}
		if (c < '0' || c > '9') && c != ';' {
			return -1
		}
	}
	return -1
}

// parseAnswers takes the OSC 11 and DA1 answers out of b. It reports
// whether the background is dark (nil when the terminal did not say) and
// returns the bytes that were not answers: keys the visitor typed.
func parseAnswers(b []byte) (dark *bool, rest []byte) {
	if i := bytes.Index(b, []byte("\x1b]11;")); i >= 0 {
		end, termLen := bytes.IndexByte(b[i:], '\a'), 1
		if st := bytes.Index(b[i:], []byte("\x1b\\")); st >= 0 && (end < 0 || st < end) {
			end, termLen = st, 2
		}
		if end >= 0 {
			if d, ok := isDark(string(b[i+5 : i+end])); ok {
				dark = &d
			}
			b = append(b[:i:i], b[i+end+termLen:]...)
		}
	}
	if j := da1End(b); j >= 0 {
		i := bytes.Index(b, []byte("\x1b[?"))
		b = append(b[:i:i], b[j:]...)
	}
	return dark, b
}

// isDark reads an OSC 11 colour, "rgb:RRRR/GGGG/BBBB" with 1 to 4 hex
// digits for each channel, and says whether it is a dark background; the
// second result is false when spec is not such a colour.
func isDark(spec string) (bool, bool) {
	spec, ok := strings.CutPrefix(spec, "rgb:")
	if !ok {
		return false, false
	}
	parts := strings.Split(spec, "/")
	if len(parts) != 3 {
		return false, false
	}
	var ch [3]float64
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 {
			return false, false
		}
		v, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return false, false
		}
		ch[i] = float64(v) / float64(uint64(1)<<(4*len(p))-1)
	}
	// Relative luminance; below the middle counts as a dark background.
	l := 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
	return l < 0.5, true
}

// handoff reads the session in a goroutine only while the query waits,
// then hands every byte it read, and its reader, to the program.
type handoff struct {
	ctx    context.Context
	r      io.Reader
	chunks chan []byte
	// more asks the pump for one more read; the query asks while it has
	// no answer yet.
	more    chan struct{}
	done    chan struct{}
	pending []byte
}

func newHandoff(ctx context.Context, r io.Reader) *handoff {
	h := &handoff{ctx: ctx, r: r, chunks: make(chan []byte), more: make(chan struct{}, 1), done: make(chan struct{})}
	go h.pump()
	return h
}

// pump reads one chunk, then another only when the query asks for more,
// until stop. It never starts a read the query did not ask for: a read
// started after the answer came would wait for the visitor's first key,
// keeping this goroutine, and the program's reader waiting on it, for as
// long as the visitor sits idle. A read that is in flight when stop is
// called (the query gave up waiting) still delivers its bytes through Read.
func (h *handoff) pump() {
	defer close(h.chunks)
	for {
		buf := make([]byte, 256)
		n, err := h.r.Read(buf)
		if n > 0 {
			select {
			case h.chunks <- buf[:n]:
			case <-h.done:
				// Nobody waits for the query any more: keep the bytes for Read.
				select {
				case h.chunks <- buf[:n]:
				case <-h.ctx.Done():
				}
				return
			}
		}
		if err != nil {
			return
		}
		select {
		case <-h.more:
		case <-h.done:
			return
		}
	}
}

// askMore has the pump read again; it never blocks.
func (h *handoff) askMore() {
	select {
	case h.more <- struct{}{}:
	default:
	}
}

func (h *handoff) stop() { close(h.done) }

// Read serves leftover bytes, then what the pump still delivers, then the
// session directly.
func (h *handoff) Read(p []byte) (int, error) {
	if len(h.pending) > 0 {
		n := copy(p, h.pending)
		h.pending = h.pending[n:]
		if len(h.pending) == 0 {
			h.pending = nil // the read buffer goes with the last byte
		}
		return n, nil
	}
	if h.chunks != nil {
		chunk, ok := <-h.chunks
		if ok {
			h.pending = chunk
			return h.Read(p)
		}
		h.chunks = nil
	}
	return h.r.Read(p)
}
