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
func dialSession(addr string, signer ssh.Signer, w, h int, command, ready string, timeout time.Duration) (*session, *waiter, error) {
	client, err := ssh.Dial("tcp", addr, termclient.ClientConfig("reader", signer, nil, timeout))
	if err != nil {
		return nil, nil, err
	}
	s := &session{client: client, done: make(chan struct{})}
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
