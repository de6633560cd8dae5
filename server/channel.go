package server

import (
	"context"
	"strings"
	"sync"

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

// sessionSide is what the session handler gets from sessionChannel.
type sessionSide struct {
	windows windowSink
	// raw is the channel itself, behind the write deadline. The library's
	// session rewrites every write for an emulated PTY ("\n" to "\r\n",
	// copying it twice); frames already end lines with "\r\n" and go here
	// directly.
	raw *timedChannel
	// ctx ends when the channel closes, so a program whose visitor left
	// ends with it even while the connection stays open for others.
	ctx context.Context
	// handler counts the session's handler while it runs, so the session's
	// slot is given back only once nothing of it is left.
	handler sync.WaitGroup
}

// sideSession is the session the middleware chain sees: the library's
// session plus our side of it. (The connection's context is shared by all
// its sessions, so it cannot carry per-session values.)
type sideSession struct {
	ssh.Session
	side *sessionSide
}

// sideOf returns the session's side, or nil for a session that has none.
func sideOf(sess ssh.Session) *sessionSide {
	if ss, ok := sess.(*sideSession); ok {
		return ss.side
	}
	return nil
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
	var hasPty, started bool
	env := 0
	for r := range reqs {
		ok := true
		switch r.Type {
		case "pty-req":
			var payload []byte
			payload, ok = clampPtyRequest(r.Payload)
			if ok && !hasPty && !started {
				hasPty = true
				r.Payload = payload
				ch.reply(r, true)
				r.WantReply = false
				out <- r
				continue
			}
			ok = false
		case "window-change":
			var size tea.WindowSizeMsg
			size, ok = parseWindowChange(r.Payload)
			if ok && hasPty {
				c.side.windows.resize(size)
			}
			ok = ok && hasPty
		case "env":
			var kv struct{ Key, Value string }
			if gossh.Unmarshal(r.Payload, &kv) == nil && !started && env < maxEnvVars && keepEnv(kv.Key, kv.Value) {
				env++
				ch.reply(r, true)
				r.WantReply = false
				out <- r
				continue
			}
			ok = false
		case "shell", "exec":
			if !started && (r.Type == "shell" || len(r.Payload) <= maxExecBytes) {
				started = true
				c.side.handler.Add(1) // the library starts the handler for this request
				ch.reply(r, true)
				r.WantReply = false
				out <- r
				continue
			}
			ok = false
		default:
			// Agent and X11 forwarding, subsystems, signals, breaks and
			// anything else: not for a blog.
			ok = false
		}
		ch.reply(r, ok)
	}
}

// keepEnv says whether an environment variable is one the blog reads (the
// terminal's colours and the reader's language and zone), small enough.
func keepEnv(name, value string) bool {
	if len(name)+len(value) > maxEnvBytes {
		return false
	}
	switch name {
	case "TERM", "COLORTERM", "NO_COLOR", "LANG", "TZ":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}

// clampPtyRequest rewrites a pty-req payload with its size clamped and its
// terminal modes dropped (the emulated PTY ignores them, and a client may
// send thousands), so the library never sees a size we would not draw.
func clampPtyRequest(payload []byte) ([]byte, bool) {
	var req struct {
		Term                    string
		Columns, Rows           uint32
		PixelWidth, PixelHeight uint32
		Modes                   string
	}
	if gossh.Unmarshal(payload, &req) != nil || len(req.Term) > maxTermBytes {
		return nil, false
	}
	req.Columns, req.Rows = clamp(req.Columns, MaxWidth), clamp(req.Rows, MaxHeight)
	req.Modes = "\x00" // TTY_OP_END: no modes
	return gossh.Marshal(&req), true
}

// parseWindowChange reads a window-change payload, clamped.
func parseWindowChange(payload []byte) (tea.WindowSizeMsg, bool) {
	var w struct{ Width, Height, PixelWidth, PixelHeight uint32 }
	if gossh.Unmarshal(payload, &w) != nil {
		return tea.WindowSizeMsg{}, false
	}
	return tea.WindowSizeMsg{Width: int(clamp(w.Width, MaxWidth)), Height: int(clamp(w.Height, MaxHeight))}, true
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
