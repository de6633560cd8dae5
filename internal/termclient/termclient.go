// Package termclient is a real SSH client with a terminal emulator on its
// end of the PTY: what the server sends is drawn on a virtual screen that
// tests and the load tool read like a person would. The emulator's answers
// to terminal queries go back to the server, as a real terminal's do.
package termclient

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/vt"
	"golang.org/x/crypto/ssh"
)

// Options describe how to connect.
type Options struct {
	Addr   string
	User   string
	Signer ssh.Signer // nil: log in without a key (keyboard-interactive)
	Width  int
	Height int
	Term   string   // default xterm-256color
	Env    []string // "K=V" pairs sent before the PTY request
	// Command, when set, is run instead of a shell (exec with a PTY).
	Command string
	// Background is what the emulated terminal says its background is.
	Background color.Color
	// Mute drops the emulator's answers to terminal queries, like a
	// terminal that never answers.
	Mute bool
	// HostKeyCallback checks the server's key; default accepts any.
	HostKeyCallback ssh.HostKeyCallback
	Timeout         time.Duration
	// DropRaw keeps no copy of the raw output (Raw returns nothing), so a
	// long session under attack holds only its screen.
	DropRaw bool
}

// NewSigner makes a fresh ed25519 client key.
func NewSigner() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// ClientConfig builds an ssh.ClientConfig for a key (or none).
func ClientConfig(user string, signer ssh.Signer, hostKey ssh.HostKeyCallback, timeout time.Duration) *ssh.ClientConfig {
	if hostKey == nil {
		hostKey = ssh.InsecureIgnoreHostKey() // tests and load runs talk to our own loopback server
	}
	cfg := &ssh.ClientConfig{User: user, HostKeyCallback: hostKey, Timeout: timeout}
	if signer != nil {
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	} else {
		cfg.Auth = []ssh.AuthMethod{ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })}
	}
	return cfg
}

// Session is one interactive SSH session drawn on a virtual screen.
type Session struct {
	mute   bool
	keep   bool // keep raw output
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser

	mu   sync.Mutex
	term *vt.Emulator
	raw  bytes.Buffer
	got  int           // bytes received so far
	more chan struct{} // a token after each read: output arrived
	done chan struct{}
	err  error
}

// Open connects, asks for a PTY and starts the shell (or Command).
func Open(o Options) (*Session, error) {
	if o.Width == 0 {
		o.Width, o.Height = 100, 40
	}
	if o.Term == "" {
		o.Term = "xterm-256color"
	}
	if o.User == "" {
		o.User = "reader"
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Background == nil {
		o.Background = color.Black
	}
	client, err := ssh.Dial("tcp", o.Addr, ClientConfig(o.User, o.Signer, o.HostKeyCallback, o.Timeout))
	if err != nil {
		return nil, err
	}
	sess, err := client.NewSession()
	if err != nil {
		client.Close()
		return nil, err
	}
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		_ = sess.Setenv(k, v)
	}
	if err := sess.RequestPty(o.Term, o.Height, o.Width, ssh.TerminalModes{}); err != nil {
		client.Close()
		return nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		client.Close()
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		client.Close()
		return nil, err
	}
	s := &Session{mute: o.Mute, keep: !o.DropRaw, client: client, sess: sess, stdin: stdin, term: vt.NewEmulator(o.Width, o.Height), more: make(chan struct{}, 1), done: make(chan struct{})}
	s.term.SetDefaultBackgroundColor(o.Background)
	s.term.SetBackgroundColor(o.Background)
	if o.Command != "" {
		err = sess.Start(o.Command)
	} else {
		err = sess.Shell()
	}
	if err != nil {
		client.Close()
		return nil, err
	}
	go s.readOutput(stdout)
	go s.answerQueries()
	return s, nil
}

// readOutput draws everything the server sends.
func (s *Session) readOutput(r io.Reader) {
	defer close(s.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.mu.Lock()
			if s.keep {
				s.raw.Write(buf[:n])
			}
			s.got += n
			_, _ = s.term.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			return
		}
	}
}

// answerQueries forwards the emulator's replies (background colour, device
// attributes) to the server. The emulator blocks until they are read.
func (s *Session) answerQueries() {
	buf := make([]byte, 1024)
	for {
		n, err := s.term.Read(buf)
		if n > 0 && !s.mute {
			if _, werr := s.stdin.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Screen is the visible text, trailing spaces trimmed.
func (s *Session) Screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term.String()
}

// Raw is every byte the server sent so far.
func (s *Session) Raw() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.raw.Bytes())
}

// Received is how many bytes the server has sent so far.
func (s *Session) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// WaitOutput waits until more than n bytes have arrived in all (see
// Received), for timing a keypress to its frame. One caller at a time.
func (s *Session) WaitOutput(n int, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for s.Received() <= n {
		select {
		case <-s.more:
		case <-s.done:
			if s.Received() > n {
				return nil
			}
			return errors.New("session ended")
		case <-t.C:
			return fmt.Errorf("no output within %s", timeout)
		}
	}
	return nil
}

// Done is closed when the server closes the session's output.
func (s *Session) Done() <-chan struct{} { return s.done }

// Wait waits until cond holds for the screen, or fails after timeout with
// the last screen in the error.
func (s *Session) Wait(timeout time.Duration, cond func(screen string) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		scr := s.Screen()
		if cond(scr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s; screen:\n%s", timeout, scr)
		}
		select {
		case <-s.done:
			if cond(s.Screen()) {
				return nil
			}
			return fmt.Errorf("session ended; screen:\n%s", s.Screen())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// WaitFor waits until text is on screen.
func (s *Session) WaitFor(text string, timeout time.Duration) error {
	return s.Wait(timeout, func(scr string) bool { return strings.Contains(scr, text) })
}

// Type sends keys as a terminal would: text, or escape sequences such as
// "\x1b" (esc) or "\r" (enter).
func (s *Session) Type(keys string) error {
	_, err := io.WriteString(s.stdin, keys)
	return err
}

// Paste sends text as a bracketed paste.
func (s *Session) Paste(text string) error {
	return s.Type("\x1b[200~" + text + "\x1b[201~")
}

// Resize changes the window size on both ends.
func (s *Session) Resize(w, h int) error {
	s.mu.Lock()
	s.term.Resize(w, h)
	s.mu.Unlock()
	return s.sess.WindowChange(h, w)
}

// Drop closes the connection at once without closing the session's input
// first: unlike Close, it is safe while another goroutine is typing, whose
// write then fails.
func (s *Session) Drop() error { return s.client.Close() }

// Close ends the session and the connection.
func (s *Session) Close() error {
	_ = s.stdin.Close()
	_ = s.sess.Close()
	err := s.client.Close()
	// Closing the emulator's input pipe ends answerQueries without racing
	// on the emulator's own closed flag.
	if c, ok := s.term.InputPipe().(io.Closer); ok {
		_ = c.Close()
	}
	return err
}

// Exec runs a command without a PTY and returns its stdout, stderr and
// exit status.
func Exec(addr string, signer ssh.Signer, command string, stdin io.Reader) (stdout, stderr string, code int, err error) {
	return ExecFrom("", addr, signer, command, stdin)
}

// ExecFrom is Exec from the local address from (an IP; "" for any), so a
// load run on one machine can speak for many loopback addresses.
func ExecFrom(from, addr string, signer ssh.Signer, command string, stdin io.Reader) (stdout, stderr string, code int, err error) {
	config := ClientConfig("reader", signer, nil, 10*time.Second)
	d := net.Dialer{Timeout: config.Timeout}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return "", "", -1, err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		conn.Close()
		return "", "", -1, err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", "", -1, err
	}
	defer sess.Close()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errOut, stdin
	err = sess.Run(command)
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0, nil
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitStatus(), nil
	}
	return out.String(), errOut.String(), -1, err
}

// Dial opens a bare client connection (for protocol-level tests).
func Dial(addr string, signer ssh.Signer) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, ClientConfig("reader", signer, nil, 10*time.Second))
}
