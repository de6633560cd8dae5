package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
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

// noEnvironment is every program's environment (see runTUI).
var noEnvironment = []string{}

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
		if opensInterface(isPty, sess.Command()) {
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
func (s *Server) runTUI(sess ssh.Session, pty ssh.Pty) {
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
	if cmd := sess.Command(); len(cmd) == 2 {
		us.Slug = cmd[1]
	} else {
		us.Slug = permalinkSlug(sess.User(), s.posts) // ssh SLUG@host
	}
	var out io.Writer = sess
	var windows *terminal.Windows
	if ch != nil {
		out, windows = ch.Output(), ch.Windows()
	}
	visitor := ui.New(&s.uiCfg, us)
	model := terminal.NewPainter(visitor, out, us.Width, us.Height, windows)
	var p *tea.Program
	guard := terminal.NewInputGuard(input, func(msg tea.Msg) { p.Send(msg) }, func() {
		s.metrics.RejectedInputs.WithLabelValues("paste_too_long").Inc()
	})
	var stopping bool
	p = tea.NewProgram(model,
		tea.WithInput(guard),
		tea.WithOutput(sess),
		tea.WithoutRenderer(),
		tea.WithoutSignalHandler(),
		// Bubble Tea v1 keeps a copy of the server's own environment in
		// every program that is given none, and never reads it: an empty
		// one costs nothing.
		tea.WithEnvironment(noEnvironment),
		tea.WithContext(ctx),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if _, ok := msg.(shutdownMsg); ok {
				stopping = true
				return tea.Quit()
			}
			return msg
		}),
	)
	model.Attach(p.Send)
	s.hub.add(p, model.Deliver)
	defer s.hub.remove(p)
	defer model.Close() // also if the program panics past Bubble Tea's own recovery

	if windows != nil {
		windows.Attach(p)
		defer windows.Attach(nil)
	}
	_, _ = io.WriteString(out, terminal.Enter)
	if _, err := p.Run(); err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		s.log.Warn("session ended with error", "err", err)
	}
	model.Close() // no live event touches the model or the channel after this
	if failure := model.Failure(); failure != "" {
		s.log.Error("session panic", "panic", failure)
	}
	// The program has ended, so nothing else touches the model: mark the
	// post being read as left, with where the visitor stopped, under a
	// context of its own (the session's has ended with a hang-up).
	lctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	if err := visitor.Leave(lctx); err != nil {
		s.log.Warn("mark visit on leaving", "err", err)
	}
	cancel()
	_, _ = io.WriteString(out, terminal.Leave)
	if stopping {
		fmt.Fprint(out, "\r\nThe server is restarting. Please reconnect in a moment.\r\n")
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
		attrs := []any{"remote", sess.RemoteAddr().String(), "key", a.KeyFingerprint, "command", commandName(sess.Command()), "pty", isPty}
		if isPty {
			attrs = append(attrs, "term", pty.Term, "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height))
		}
		kind := "command"
		if opensInterface(isPty, sess.Command()) {
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
