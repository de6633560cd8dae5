package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"blog/data"
	"blog/terminal"
	"blog/ui"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// leaveTimeout bounds the one mark a session makes after its program
// ends: the visit's reading position. It is queued (see visitbatch), and
// only written by the session itself when the queue is full or closed.
const leaveTimeout = 2 * time.Second

// shutdownMsg asks a program to end because the server is stopping.
type shutdownMsg struct{}

// author is who a session acts as: the fingerprint of the key the client
// authenticated with (read after authentication, never a key merely
// offered) and the remote IP.
func author(s ssh.Session) data.Author {
	a := data.Author{IP: remoteIP(s.RemoteAddr())}
	if k := s.PublicKey(); k != nil {
		a.KeyFingerprint = gossh.FingerprintSHA256(k)
	}
	return a
}

func remoteIP(addr net.Addr) string {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// isAdmin reports whether the session's key is a moderator's, from an
// address its line allows and before the line expires.
func (s *Server) isAdmin(sess ssh.Session) bool {
	k := sess.PublicKey()
	if k == nil {
		return false
	}
	ip, now := remoteIP(sess.RemoteAddr()), time.Now()
	for _, a := range s.cfg.AdminKeys {
		if a.allows(k, ip, now) {
			return true
		}
	}
	return false
}

// enterSession counts a session in, unless the server is draining. The
// check and the count share a lock with the start of shutdown, so every
// session that starts is either counted before shutdown waits for the
// count or refused: none slips past the wait, and the count never grows
// from zero while shutdown is waiting on it.
func (s *Server) enterSession() bool {
	s.admit.Lock()
	defer s.admit.Unlock()
	if s.draining.Load() {
		return false
	}
	s.sessions.Add(1)
	return true
}

// handle is the innermost middleware: a terminal gets the interface, a
// command or a pipe gets plain text.
func (s *Server) handle(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if !s.enterSession() {
			fmt.Fprintln(sess.Stderr(), "The server is restarting. Please reconnect in a moment.")
			_ = sess.Exit(1)
			return
		}
		defer s.sessions.Done()
		s.quiet.touch()
		defer s.quiet.touch()
		if refusal := sessionStarted(sess.Context()); refusal != "" {
			fmt.Fprintln(sess.Stderr(), refusal)
			_ = sess.Exit(1)
			return
		}
		pty, _, isPty := sess.Pty()
		if opensInterface(isPty, commandOf(sess)) {
			s.runTUI(sess, pty)
		} else {
			_ = sess.Exit(s.runCommand(sess))
		}
		next(sess)
	}
}

// opensInterface says whether a session gets the interface rather than a
// command's plain text: it has a terminal, and either no command or
// "read SLUG", which opens the interface at that post. Everything else,
// "read" without a slug included, runs as a command. The session handler
// and the session metrics both ask here, so they never disagree.
func opensInterface(isPty bool, cmd []string) bool {
	return isPty && (len(cmd) == 0 || cmd[0] == "read" && len(cmd) == 2)
}

// runTUI runs one Bubble Tea program for the session.
//
// It is split in three so that what stays on the session's goroutine while
// the program runs is small: a goroutine's stack only shrinks back to a
// size four times what it holds, and this frame is held for the whole
// session. A few dozen bytes more here once doubled every session's stack
// for this goroutine, from 8 to 16 KB.
func (s *Server) runTUI(sess ssh.Session, pty ssh.Pty) {
	t, input := s.startTUI(sess, pty)
	defer t.detach() // also if the program panics past the painter's own recovery
	err := t.model.Run(terminal.Session{
		Input:  input,
		Filter: t.filter,
		Before: terminal.Enter, // with the first frame
		End:    func() { s.endTUI(t) },
		// A quit hangs the session up (with the exit status the library
		// would send), so the read the session's goroutine is waiting in
		// returns.
		HangUp: func() { _ = sess.Exit(0) },
		Done:   sess.Context().Done(),
	})
	if err != nil { // a panic in an update, a command or endTUI
		s.log.Error("session panic", "panic", err.Error())
	}
}

// tui is one session's program and what is wired to it.
type tui struct {
	model    *terminal.Painter
	visitor  *ui.Model
	out      io.Writer
	windows  *terminal.Windows
	hub      *hub
	stopping atomic.Bool // the server is restarting; set by the filter, on a sender's goroutine
}

// startTUI builds the session's program, attaches it to the hub and to
// the window sizes. It returns the input the program reads.
func (s *Server) startTUI(sess ssh.Session, pty ssh.Pty) (*tui, io.Reader) {
	ch := terminal.ChannelOf(sess)
	ctx := sess.Context() // ends when the session's channel closes
	look, input := terminal.QueryLook(ctx, sess, pty.Term)
	us := ui.Session{
		Author: author(sess),
		Admin:  s.isAdmin(sess),
		Look:   look,
		Width:  pty.Window.Width,
		Height: pty.Window.Height,
	}
	us.Context = ctx // a disconnect cancels the session's storage calls
	us.Location = visitorZone(sess)
	if cmd := commandOf(sess); len(cmd) == 2 {
		us.Slug = cmd[1]
	} else {
		us.Slug = permalinkSlug(sess.User(), s.posts) // ssh SLUG@host
	}
	t := &tui{out: sess, hub: s.hub}
	if ch != nil {
		t.out, t.windows = ch.Output(), ch.Windows()
	}
	t.visitor = ui.New(&s.uiCfg, us)
	t.model = terminal.NewPainter(t.visitor, t.out, us.Width, us.Height, t.windows)
	guard := terminal.NewInputGuard(input, t.model.Send, func() {
		s.metrics.RejectedInputs.WithLabelValues("paste_too_long").Inc()
	})
	if t.windows != nil {
		t.windows.Attach(t.model.Send)
	}
	// Last: from here live events wait for the program's start (Send
	// waits until the model is initialised), and runTUI's detach is what
	// takes the program off the hub, so nothing may fail between the two.
	s.hub.add(t.model)
	return t, guard
}

// filter turns the server's shutdown notice into the program's end.
func (t *tui) filter(msg tea.Msg) tea.Msg {
	if _, ok := msg.(shutdownMsg); ok {
		t.stopping.Store(true)
		return tea.QuitMsg{}
	}
	return msg
}

// detach takes the program off the hub and the window sizes, and closes
// its painter to live events. It may run more than once.
func (t *tui) detach() {
	if t.windows != nil {
		t.windows.Attach(nil)
	}
	t.hub.remove(t.model)
	t.model.Close()
}

// endTUI runs once the program has ended: it marks the visit and
// restores the terminal.
func (s *Server) endTUI(t *tui) {
	t.detach() // no live event touches the model or the channel after this
	// The program has ended, so nothing else touches the model: mark the
	// post being read as left, with where the visitor stopped, under a
	// context of its own (the session's has ended with a hang-up).
	lctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	if err := t.visitor.Leave(lctx); err != nil {
		s.log.Warn("mark visit on leaving", "err", err)
	}
	cancel()
	_, _ = io.WriteString(t.out, terminal.Leave)
	if t.stopping.Load() {
		fmt.Fprint(t.out, "\r\nThe server is restarting. Please reconnect in a moment.\r\n")
	}
}

// recoverPanics keeps a panic in one session from taking the server down.
func (s *Server) recoverPanics(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("session panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				fmt.Fprintln(sess.Stderr(), "\r\nSorry, something went wrong on our side. Please reconnect.")
				_ = sess.Exit(1)
			}
		}()
		next(sess)
	}
}

// logSessions records connect and disconnect; never keys, emails or text.
func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		pty, _, isPty := sess.Pty()
		a := author(sess)
		attrs := []any{"remote", sess.RemoteAddr().String(), "key", a.KeyFingerprint, "command", commandName(commandOf(sess)), "pty", isPty}
		if isPty {
			attrs = append(attrs, "term", pty.Term, "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height))
		}
		kind := "command"
		if opensInterface(isPty, commandOf(sess)) {
			kind = "tui"
		}
		s.metrics.SessionsOpen.WithLabelValues(kind).Inc()
		s.metrics.SessionsTotal.WithLabelValues(kind).Inc()
		s.log.Info("connect", attrs...)
		next(sess)
		s.metrics.SessionsOpen.WithLabelValues(kind).Dec()
		s.metrics.SessionDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		s.log.Info("disconnect", append(attrs, "duration", time.Since(start).Round(time.Millisecond).String())...)
	}
}

// commandName logs only the command word: arguments may hold an email.
func commandName(cmd []string) string {
	if len(cmd) == 0 {
		return ""
	}
	if len(cmd[0]) > 32 {
		return cmd[0][:32]
	}
	return cmd[0]
}

// commandOf is the session's command split into words, as sess.Command
// gives it. The library splits the raw command anew at every call, with a
// shell-like lexer and a 4 KB buffer each time, and a session asks four
// times; at thousands of opens a second that was a sixth of all the
// server allocated, and 1.4% of its CPU. A command without quotes or
// backslashes (nearly every one: "read SLUG") splits as the lexer would
// split it, at white space. Another is split by the library once and kept
// in the connection's context under the raw command it came from, since a
// connection's sessions share that context and one of them may run
// another command. Callers must not modify the slice.
func commandOf(sess ssh.Session) []string {
	raw := sess.RawCommand()
	if words, ok := plainWords(raw); ok {
		return words
	}
	ctx := sess.Context()
	if p, ok := ctx.Value(commandKey{}).(*splitCommand); ok && p.raw == raw {
		return p.args
	}
	args := sess.Command()
	ctx.SetValue(commandKey{}, &splitCommand{raw: raw, args: args})
	return args
}

// plainWords splits raw at white space, if it holds nothing the shell's
// rules treat apart (quotes and backslashes): then that is the split.
func plainWords(raw string) ([]string, bool) {
	if strings.ContainsAny(raw, `"'\`) {
		return nil, false
	}
	return strings.Fields(raw), true
}

type commandKey struct{}

type splitCommand struct {
	raw  string
	args []string
}
