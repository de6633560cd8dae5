package server

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Terminal sizes are clamped to these before anything else sees them: the
// widest and tallest windows the interface draws. A client that says more
// gets this much; one that says 0 gets 1 (and the "too small" message).
const (
	MaxWidth  = 500
	MaxHeight = 200
)

// Per-session bounds on what a client may send in requests.
const (
	maxEnvVars   = 16   // env requests kept per session
	maxEnvBytes  = 256  // name plus value of one kept variable
	maxTermBytes = 64   // TERM in the PTY request
	maxExecBytes = 4096 // an exec request's command line
)

// sideKey finds a session's sessionSide in its context.
const sideKey ctxKey = "blog-session-side"

// sessionSide is what the session handler gets from sessionChannel.
type sessionSide struct {
	windows windowSink
	// raw is the channel itself, behind the write deadline. The library's
	// session rewrites every write for an emulated PTY ("\n" to "\r\n",
	// copying it twice); frames already end lines with "\r\n" and go here
	// directly.
	raw *timedChannel
	// handler counts the session's handler while it runs, so the session's
	// slot is given back only once nothing of it is left.
	handler sync.WaitGroup
}

// sessionContext is a session's own context. The library gives every
// session of a connection the connection's context, so it can carry
// nothing per session and ends only with the connection; this one holds
// the session's side and ends when the session's channel closes, so a
// program whose visitor left ends with it even while the connection stays
// open for others.
type sessionContext struct {
	ssh.Context // the connection's: user, addresses, values
	channel     context.Context
	side        *sessionSide
}

func (c *sessionContext) Done() <-chan struct{}       { return c.channel.Done() }
func (c *sessionContext) Err() error                  { return c.channel.Err() }
func (c *sessionContext) Deadline() (time.Time, bool) { return c.channel.Deadline() }

// Value asks the channel's context, which asks the connection's: so a
// context derived from this one (the program's) sees the channel's end
// directly, with no goroutine to watch it.
func (c *sessionContext) Value(key any) any {
	if key == sideKey {
		return c.side
	}
	return c.channel.Value(key)
}

// sideOf returns the session's side, or nil for a session that has none.
func sideOf(sess ssh.Session) *sessionSide {
	side, _ := sess.Context().Value(sideKey).(*sessionSide)
	return side
}

// sessionChannel sees a session's requests before the ssh library does, in
// one goroutine per session that never waits on the session's program: the
// library's mux delivers the client's window adjustments on the same
// goroutine that queues requests, so a request loop stuck behind a program
// stuck writing would wedge the session for good. It clamps terminal
// sizes, keeps the latest window size for the program, filters the
// environment, and answers everything a blog does not need with "no".
// Every reply is written here, under the write deadline; what it passes on
// to the library needs no reply.
type sessionChannel struct {
	gossh.NewChannel
	side  *sessionSide
	timed func(gossh.Channel) *timedChannel
}

func (c sessionChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	tc := c.timed(ch)
	c.side.raw = tc // before the library starts the handler that reads it
	out := make(chan *gossh.Request)
	go c.serveRequests(tc, reqs, out)
	return tc, out, nil
}

func (c sessionChannel) serveRequests(ch *timedChannel, reqs <-chan *gossh.Request, out chan<- *gossh.Request) {
	defer close(out)
	// pass answers yes and hands the request on; the library's own reply
	// is then a no-op, so nothing it does for us writes to the client.
	pass := func(r *gossh.Request) {
		ch.reply(r, true)
		r.WantReply = false
		out <- r
	}
	var hasPty, started bool
	env := 0
	for r := range reqs {
		switch r.Type {
		case "pty-req":
			if payload, ok := clampPtyRequest(r.Payload); ok && !hasPty && !started {
				hasPty, r.Payload = true, payload
				pass(r)
				continue
			}
		case "window-change":
			if size, ok := parseWindowChange(r.Payload); ok && hasPty {
				c.side.windows.resize(size)
				ch.reply(r, true)
				continue
			}
		case "env":
			name, rest, okName := readString(r.Payload)
			value, rest, okValue := readString(rest)
			if okName && okValue && len(rest) == 0 && !started && env < maxEnvVars && keepEnv(name, value) {
				env++
				pass(r)
				continue
			}
		case "shell", "exec":
			if !started && (r.Type == "shell" || len(r.Payload) <= maxExecBytes) {
				started = true
				c.side.handler.Add(1) // the library starts the handler for this request
				pass(r)
				continue
			}
		}
		// Anything else, and anything over a bound: agent and X11
		// forwarding, subsystems, signals, breaks are not for a blog.
		ch.reply(r, false)
	}
}

// keepEnv says whether an environment variable is one the blog reads (the
// terminal's colours and the reader's language and zone), small enough.
func keepEnv(name, value []byte) bool {
	if len(name)+len(value) > maxEnvBytes {
		return false
	}
	switch string(name) {
	case "TERM", "COLORTERM", "NO_COLOR", "LANG", "TZ":
		return true
	}
	return strings.HasPrefix(string(name), "LC_")
}

// clampPtyRequest rewrites a pty-req payload with its size clamped and its
// terminal modes dropped (the emulated PTY ignores them, and a client may
// send thousands), so the library never sees a size we would not draw.
// Parsed by hand: this runs on every session's request goroutine, whose
// stack reflection would grow for good.
func clampPtyRequest(payload []byte) ([]byte, bool) {
	term, rest, ok := readString(payload)
	if !ok || len(term) > maxTermBytes || len(rest) < 16 {
		return nil, false
	}
	if _, after, ok := readString(rest[16:]); !ok || len(after) != 0 {
		return nil, false
	}
	out := make([]byte, 0, 4+len(term)+16+4+1)
	out = binary.BigEndian.AppendUint32(out, uint32(len(term)))
	out = append(out, term...)
	out = binary.BigEndian.AppendUint32(out, clamp(binary.BigEndian.Uint32(rest), MaxWidth))
	out = binary.BigEndian.AppendUint32(out, clamp(binary.BigEndian.Uint32(rest[4:]), MaxHeight))
	out = append(out, rest[8:16]...)                       // pixel sizes
	out = append(binary.BigEndian.AppendUint32(out, 1), 0) // modes: TTY_OP_END only
	return out, true
}

// parseWindowChange reads a window-change payload, clamped.
func parseWindowChange(payload []byte) (tea.WindowSizeMsg, bool) {
	if len(payload) != 16 {
		return tea.WindowSizeMsg{}, false
	}
	return tea.WindowSizeMsg{
		Width:  int(clamp(binary.BigEndian.Uint32(payload), MaxWidth)),
		Height: int(clamp(binary.BigEndian.Uint32(payload[4:]), MaxHeight)),
	}, true
}

// readString reads one SSH string (a uint32 length, then the bytes).
func readString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func clamp(v, most uint32) uint32 {
	return min(max(v, 1), most)
}

// windowNudge tells a program that a new window size is waiting in its
// windowSink; the painter turns it into the latest tea.WindowSizeMsg.
type windowNudge struct{}

// windowSink keeps a session's latest window size for its program. The
// request loop only stores the size; the program is nudged by at most one
// goroutine at a time, which takes whatever size is latest when the
// program gets to it, so a burst of a thousand resizes is one repaint and
// never a thousand blocked sends.
type windowSink struct {
	mu      sync.Mutex
	p       *tea.Program
	latest  tea.WindowSizeMsg
	pending bool // latest has not been taken yet
	nudging bool // a nudge is on its way to p
}

func (w *windowSink) resize(msg tea.WindowSizeMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest, w.pending = msg, true
	w.nudgeLocked()
}

// attach nudges p from now on, starting with any size that came early.
func (w *windowSink) attach(p *tea.Program) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.p = p
	w.nudgeLocked()
}

func (w *windowSink) nudgeLocked() {
	if w.p == nil || !w.pending || w.nudging {
		return
	}
	w.nudging = true
	// Send returns once the program takes the nudge or has ended.
	go w.p.Send(windowNudge{})
}

// take returns the latest size, if the program has not had it yet.
func (w *windowSink) take() (tea.WindowSizeMsg, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nudging = false
	msg, ok := w.latest, w.pending
	w.pending = false
	return msg, ok
}
