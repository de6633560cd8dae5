package server

import (
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"
)

// sideKey finds a session's sessionSide in its ssh.Context.
const sideKey ctxKey = "blog-session-side"

// sessionSide is what the session handler gets from sessionChannel.
type sessionSide struct {
	windows windowSink
	// raw is the channel itself. The library's session rewrites every
	// write for an emulated PTY ("\n" to "\r\n", copying it twice); frames
	// already end lines with "\r\n" and go here directly.
	raw gossh.Channel
}

// sessionChannel sees a session's requests before the ssh library does, in
// one goroutine per session: it answers agent and X11 forwarding with "no"
// and hands window changes straight to the session's program (so no
// goroutine per session waits on the library's window channel).
type sessionChannel struct {
	gossh.NewChannel
	side *sessionSide
}

func (c sessionChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	c.side.raw = ch // before the library starts the handler that reads it
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			switch r.Type {
			case "auth-agent-req@openssh.com", "x11-req":
				reply(r, false)
				continue
			case "window-change":
				var w struct{ Width, Height, PixelWidth, PixelHeight uint32 }
				if err := gossh.Unmarshal(r.Payload, &w); err != nil {
					reply(r, false)
					continue
				}
				c.side.windows.resize(tea.WindowSizeMsg{Width: int(w.Width), Height: int(w.Height)})
				reply(r, true)
				continue
			}
			out <- r
		}
	}()
	return ch, out, nil
}

func reply(r *gossh.Request, ok bool) {
	if r.WantReply {
		_ = r.Reply(ok, nil)
	}
}

// windowSink delivers window sizes to a session's program, keeping the
// latest one until the program exists.
type windowSink struct {
	mu      sync.Mutex
	p       *tea.Program
	pending *tea.WindowSizeMsg
}

func (w *windowSink) resize(msg tea.WindowSizeMsg) {
	w.mu.Lock()
	p := w.p
	if p == nil {
		w.pending = &msg
	}
	w.mu.Unlock()
	if p != nil {
		p.Send(msg) // in order; returns at once once the program has ended
	}
}

// attach sends sizes to p from now on, starting with any that came early.
func (w *windowSink) attach(p *tea.Program) {
	w.mu.Lock()
	w.p = p
	pending := w.pending
	w.pending = nil
	w.mu.Unlock()
	if pending != nil && p != nil {
		go p.Send(*pending) // the program is not running yet
	}
}
