package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"blog/internal/termclient"

	"github.com/charmbracelet/x/vt"
	"golang.org/x/crypto/ssh"
)

// session is one interactive SSH session with a PTY. It reads everything
// the server sends, answers terminal queries, and tells waiters when a
// text (or any output at all) arrives, timestamped as it is read.
type session struct {
	replica int // index into Config.addrs
	client  *ssh.Client
	ssh     *ssh.Session
	stdin   io.WriteCloser
	done    chan struct{}

	mu    sync.Mutex
	scan  textScanner
	waits []*waiter
	// tokens, when not nil, records when each burst token first showed.
	tokens *tokenLog
	// screen, when not nil, emulates the whole screen (for the burst's
	// convergence check on a sample of sessions).
	screen *vt.Emulator
}

// waiter fires once, when its text has arrived after it was registered
// (nil text: when any output has).
type waiter struct {
	text []byte
	seen []byte // text read since registration, last len(text)-1 bytes kept
	at   chan time.Time
}

// dialSession connects, asks for a PTY of w x h and starts the shell, or
// command when set; ready is registered before anything can arrive.
// With emulate, the session also draws the whole screen from the start.
func dialSession(addr string, signer ssh.Signer, w, h int, command, ready string, timeout time.Duration, emulate bool) (*session, *waiter, error) {
	client, err := ssh.Dial("tcp", addr, termclient.ClientConfig("reader", signer, nil, timeout))
	if err != nil {
		return nil, nil, err
	}
	s := &session{client: client, done: make(chan struct{})}
	if emulate {
		s.emulate(w, h)
	}
	first := s.add(ready) // before any output can arrive
	if err := s.start(w, h, command); err != nil {
		client.Close()
		return nil, nil, err
	}
	return s, first, nil
}

func (s *session) start(w, h int, command string) error {
	var err error
	if s.ssh, err = s.client.NewSession(); err != nil {
		return err
	}
	if err = s.ssh.RequestPty("xterm-256color", h, w, ssh.TerminalModes{}); err != nil {
		return err
	}
	if s.stdin, err = s.ssh.StdinPipe(); err != nil {
		return err
	}
	stdout, err := s.ssh.StdoutPipe()
	if err != nil {
		return err
	}
	go s.read(stdout)
	if command != "" {
		return s.ssh.Start(command)
	}
	return s.ssh.Shell()
}

// expect registers a waiter for text arriving from now on ("" for any
// output).
func (s *session) expect(text string) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(text)
}

func (s *session) add(text string) *waiter {
	w := &waiter{at: make(chan time.Time, 1)}
	if text != "" {
		w.text = []byte(text)
	}
	s.waits = append(s.waits, w)
	return w
}

func (s *session) read(r io.Reader) {
	defer close(s.done)
	buf := make([]byte, 32<<10)
	var text, reply []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			now := time.Now()
			s.mu.Lock()
			text, reply = s.scan.feed(buf[:n], text[:0], reply[:0])
			s.waits = notify(s.waits, text, now)
			if s.tokens != nil {
				s.tokens.feed(text, now)
			}
			if s.screen != nil {
				_, _ = s.screen.Write(buf[:n])
			}
			s.mu.Unlock()
			if len(reply) > 0 {
				_, _ = s.stdin.Write(reply)
			}
		}
		if err != nil {
			return
		}
	}
}

// notify fires the waiters whose text is now complete and returns the rest.
func notify(waits []*waiter, text []byte, now time.Time) []*waiter {
	kept := waits[:0]
	for _, w := range waits {
		if w.text == nil {
			w.at <- now
			continue
		}
		w.seen = append(w.seen, text...)
		if bytes.Contains(w.seen, w.text) {
			w.at <- now
			continue
		}
		if keep := len(w.text) - 1; len(w.seen) > keep {
			w.seen = append(w.seen[:0], w.seen[len(w.seen)-keep:]...)
		}
		kept = append(kept, w)
	}
	clear(waits[len(kept):])
	return kept
}

var errEnded = errors.New("session ended")

// wait returns when w fired, or fails at the timeout, when ctx ends or
// when the session does.
func (s *session) wait(ctx context.Context, w *waiter, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case at := <-w.at:
		return at, nil
	case <-ctx.Done():
		s.drop(w)
		return time.Time{}, ctx.Err()
	case <-t.C:
		s.drop(w)
		if w.text == nil {
			return time.Time{}, fmt.Errorf("no output within %s", timeout)
		}
		return time.Time{}, fmt.Errorf("%q not seen within %s", w.text, timeout)
	case <-s.done:
		select {
		case at := <-w.at:
			return at, nil
		default:
			return time.Time{}, errEnded
		}
	}
}

func (s *session) drop(w *waiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.waits {
		if x == w {
			s.waits = append(s.waits[:i], s.waits[i+1:]...)
			return
		}
	}
}

func (s *session) typeKeys(k string) error {
	_, err := io.WriteString(s.stdin, k)
	return err
}

func (s *session) close() {
	_ = s.stdin.Close()
	_ = s.ssh.Close()
	_ = s.client.Close()
}

// emulate starts drawing the session's screen. The
// text scanner answers the terminal's queries, so the emulator's own
// answers are read and dropped.
func (s *session) emulate(w, h int) {
	e := vt.NewEmulator(w, h)
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := e.Read(buf); err != nil {
				return
			}
		}
	}()
	s.screen = e
}

func (s *session) emulated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen != nil
}

// screenText is the emulated screen's text ("" when not emulated).
func (s *session) screenText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.screen == nil {
		return ""
	}
	return s.screen.String()
}

// trackTokens starts recording the burst tokens (prefix followed by
// tokenHex hex digits) this session shows.
func (s *session) trackTokens(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = &tokenLog{prefix: []byte(prefix), seen: map[string]time.Time{}}
}

// tokenTimes is a copy of when each token first showed.
func (s *session) tokenTimes() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		return nil
	}
	out := make(map[string]time.Time, len(s.tokens.seen))
	for k, v := range s.tokens.seen {
		out[k] = v
	}
	return out
}

// tokenHex is how many hex digits follow a token's prefix.
const tokenHex = 12

// tokenLog finds tokens in a session's text as it arrives, including one
// split between two reads.
type tokenLog struct {
	prefix []byte
	tail   []byte // the end of the last text, in case a token starts there
	seen   map[string]time.Time
}

func (t *tokenLog) feed(text []byte, now time.Time) {
	buf := append(t.tail, text...)
	n := len(t.prefix) + tokenHex
	for i := 0; ; {
		j := bytes.Index(buf[i:], t.prefix)
		if j < 0 {
			break
		}
		at := i + j
		if at+n > len(buf) {
			break // maybe split: kept in the tail
		}
		tok := buf[at : at+n]
		if isHex(tok[len(t.prefix):]) {
			if _, ok := t.seen[string(tok)]; !ok {
				t.seen[string(tok)] = now
			}
		}
		i = at + 1
	}
	keep := min(len(buf), n-1)
	t.tail = append(t.tail[:0], buf[len(buf)-keep:]...)
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
