package terminal

import (
	"context"
	"encoding/binary"
	"io"
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

// channelKey finds a session's Channel in its context.
type channelKey struct{}

// Channel is what the session handler gets from an intercepted session
// channel, beyond what the ssh library gives it: the channel's latest
// window size, its raw output, and a count of the handler it started.
type Channel struct {
	windows Windows
	// raw is the channel itself, behind the write deadline. The library's
	// session rewrites every write for an emulated PTY ("\n" to "\r\n",
	// copying it twice); frames already end lines with "\r\n" and go here
	// directly.
	raw *timedChannel
	// handler counts the session's handler while it runs, so the session's
	// slot is given back only once nothing of it is left.
	handler sync.WaitGroup
	// filter is the session's request filter, once the channel is accepted.
	filter *requestFilter
}

// Intercept wraps a new session channel so that its requests go through
// the filter below and every write to it runs under writeTimeout; cut is
// called when a write overstays it, and must close the connection. Hand
// the wrapped channel to the ssh library's session handler, with the
// context from Channel.Context.
func Intercept(nc gossh.NewChannel, writeTimeout time.Duration, cut func()) (gossh.NewChannel, *Channel) {
	ch := &Channel{}
	timed := func(c gossh.Channel) *timedChannel { return newTimedChannel(c, writeTimeout, cut) }
	return interceptedChannel{NewChannel: nc, ch: ch, timed: timed}, ch
}

// Output is the channel itself, behind the write deadline, for frames.
func (c *Channel) Output() io.Writer { return c.raw }

// Windows keeps the channel's latest window size for its program.
func (c *Channel) Windows() *Windows { return &c.windows }

// HandlerDone tells the channel that the session handler it started has
// returned; WaitHandler waits for that, when the channel started one.
func (c *Channel) HandlerDone() { c.handler.Done() }

// WaitHandler waits until the handler started for the channel has
// returned, then takes the channel off the write deadline's watch: nothing
// writes to it after that, and the watch would keep the closed session's
// memory until the watchdog's next round.
func (c *Channel) WaitHandler() {
	c.handler.Wait()
	if c.raw != nil {
		c.raw.stop()
	}
}

// ServeRequests filters the session's requests from where the library's
// session handler left them until the channel closes. Call it on the
// goroutine that ran the library's handler, once that has returned: the
// library's request loop ends as soon as the session has started (nothing
// after that is for it), so this goroutine goes on with the filter's loop
// instead of a second goroutine doing it while this one waits.
func (c *Channel) ServeRequests() {
	if c.filter != nil {
		c.filter.serve()
	}
}

// Context is the session's own context. The library gives every session
// of a connection the connection's context (conn), so it can carry nothing
// per session and ends only with the connection; this one holds the
// Channel and ends with channel, which the caller cancels when the
// session's channel closes, so a program whose visitor left ends with it
// even while the connection stays open for others.
func (c *Channel) Context(conn ssh.Context, channel context.Context) ssh.Context {
	return &channelContext{Context: conn, channel: channel, ch: c}
}

type channelContext struct {
	ssh.Context // the connection's: user, addresses, values
	channel     context.Context
	ch          *Channel
}

func (c *channelContext) Done() <-chan struct{}       { return c.channel.Done() }
func (c *channelContext) Err() error                  { return c.channel.Err() }
func (c *channelContext) Deadline() (time.Time, bool) { return c.channel.Deadline() }

// Value asks the channel's context, which asks the connection's: so a
// context derived from this one (the program's) sees the channel's end
// directly, with no goroutine to watch it.
func (c *channelContext) Value(key any) any {
	if key == (channelKey{}) {
		return c.ch
	}
	return c.channel.Value(key)
}

// ChannelOf returns the session's Channel, or nil for a session whose
// channel was not intercepted.
func ChannelOf(sess ssh.Session) *Channel {
	ch, _ := sess.Context().Value(channelKey{}).(*Channel)
	return ch
}

// interceptedChannel sees a session's requests before the ssh library does,
// never waiting on the session's program: the library's mux delivers the
// client's window adjustments on the same goroutine that queues requests,
// so a request loop stuck behind a program stuck writing would wedge the
// session for good. The filter clamps terminal sizes, keeps the latest
// window size for the program, filters the environment, and answers
// everything a blog does not need with "no". Every reply is written here,
// under the write deadline; what it passes on to the library needs no
// reply.
//
// Until the session starts, a goroutine of its own runs the filter and
// hands what it lets through to the library's request loop. Once it has
// passed the shell or exec request (or the requests end) it closes the
// library's channel, so the library's loop returns, and ends; the
// goroutine that ran the library's loop then runs the filter for the rest
// of the session (Channel.ServeRequests). Nothing after the start is for
// the library, so it never needs the channel again, and an idle session
// keeps one goroutine for its requests rather than two.
type interceptedChannel struct {
	gossh.NewChannel
	ch    *Channel
	timed func(gossh.Channel) *timedChannel
}

func (c interceptedChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	tc := c.timed(ch)
	c.ch.raw = tc // before the library starts the handler that reads it
	out := make(chan *gossh.Request)
	f := &requestFilter{ch: c.ch, tc: tc, reqs: reqs, out: out}
	c.ch.filter = f
	go f.serveStart()
	return tc, out, nil
}

// requestFilter is one session's request filter and what it remembers
// between requests. One goroutine at a time runs it: first serveStart,
// then, after serveStart has closed out, ServeRequests.
type requestFilter struct {
	ch   *Channel
	tc   *timedChannel
	reqs <-chan *gossh.Request
	out  chan<- *gossh.Request // the library's request loop, until the start

	hasPty, started bool
	env             int
}

// serveStart filters requests until the session has started or the
// requests end, then closes the library's channel. Closing it is the last
// thing it does: the library's loop sees the close only after everything
// this goroutine wrote, and the goroutine that goes on with the filter
// starts after the library's loop has returned.
func (f *requestFilter) serveStart() {
	defer close(f.out)
	for !f.started {
		r, ok := <-f.reqs
		if !ok {
			return
		}
		f.handle(r)
	}
}

// serve filters requests until they end.
func (f *requestFilter) serve() {
	for r := range f.reqs {
		f.handle(r)
	}
}

func (f *requestFilter) handle(r *gossh.Request) {
	// pass answers yes and hands the request on; the library's own reply
	// is then a no-op, so nothing it does for us writes to the client.
	// Only requests before the start are passed, while serveStart runs and
	// out is open.
	pass := func(r *gossh.Request) {
		f.tc.reply(r, true)
		r.WantReply = false
		f.out <- r
	}
	switch r.Type {
	case "pty-req":
		if payload, ok := clampPtyRequest(r.Payload); ok && !f.hasPty && !f.started {
			f.hasPty, r.Payload = true, payload
			pass(r)
			return
		}
	case "window-change":
		if size, ok := parseWindowChange(r.Payload); ok && f.hasPty {
			f.ch.windows.resize(size)
			f.tc.reply(r, true)
			return
		}
	case "env":
		name, rest, okName := readString(r.Payload)
		value, rest, okValue := readString(rest)
		if okName && okValue && len(rest) == 0 && !f.started && f.env < maxEnvVars && keepEnv(name, value) {
			f.env++
			pass(r)
			return
		}
	case "shell", "exec":
		if !f.started && (r.Type == "shell" || len(r.Payload) <= maxExecBytes) {
			f.started = true
			f.ch.handler.Add(1) // the library starts the handler for this request
			pass(r)
			return
		}
	}
	// Anything else, and anything over a bound: agent and X11
	// forwarding, subsystems, signals, breaks are not for a blog.
	f.tc.reply(r, false)
}

// keepEnv says whether an environment variable is one the blog reads (the
// terminal's colours and the reader's language and zone) and small enough
// to keep.
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

// parseWindowChange reads a window-change payload and clamps the size.
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

// clamp keeps a terminal dimension between 1 and most.
func clamp(v, most uint32) uint32 {
	return min(max(v, 1), most)
}

// windowNudge tells a program that a new window size is waiting in its
// Windows; the painter turns it into the latest tea.WindowSizeMsg.
type windowNudge struct{}

// Windows keeps a session's latest window size for its program. The
// request loop only stores the size; the program is nudged by at most one
// goroutine at a time, which takes whatever size is latest when the
// program gets to it, so a burst of a thousand resizes is one repaint and
// never a thousand blocked sends.
type Windows struct {
	mu      sync.Mutex
	send    func(tea.Msg) // the program's Send
	latest  tea.WindowSizeMsg
	pending bool // latest has not been taken yet
	nudging bool // a nudge is on its way to p
}

func (w *Windows) resize(msg tea.WindowSizeMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest, w.pending = msg, true
	w.nudgeLocked()
}

// Attach nudges the program through send from now on, starting with any
// size that came early; nil stops the nudges.
func (w *Windows) Attach(send func(tea.Msg)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.send = send
	w.nudgeLocked()
}

func (w *Windows) nudgeLocked() {
	if w.send == nil || !w.pending || w.nudging {
		return
	}
	w.nudging = true
	// Send returns once the program has repainted for the nudge, or has
	// ended.
	go w.send(windowNudge{})
}

// take returns the latest size, if the program has not had it yet.
func (w *Windows) take() (tea.WindowSizeMsg, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nudging = false
	msg, ok := w.latest, w.pending
	w.pending = false
	return msg, ok
}
