// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) in
// process for tests, on loopback. It keeps what it accepts and can answer
// each message with a temporary or permanent refusal, or drop the
// connection in the middle of DATA.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Action is how the server answers one message.
type Action int

const (
	Accept   Action = iota // 250
	TempFail               // 451 4.3.0
	PermFail               // 550 5.1.1
	Drop                   // read part of DATA, then close the connection
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port on 127.0.0.1

	srv *smtp.Server
	mu  sync.Mutex
	// decide answers the n-th DATA (1-based) for the message to rcpt.
	decide   func(rcpt string, n int) Action
	seen     map[string]int
	messages []Message
	changed  chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{seen: map[string]int{}, changed: make(chan struct{})}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 4 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Tries is how many times a message to rcpt reached DATA, whatever the
// answer.
func (s *Server) Tries(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[rcpt]
}

// URL is the smtp:// URL of the server.
func (s *Server) URL() string { return "smtp://" + s.Addr }

// Decide sets how messages are answered; nil accepts all.
func (s *Server) Decide(f func(rcpt string, n int) Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decide = f
}

// Messages returns a copy of what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Wait returns the accepted messages once pred holds for them, failing the
// test after timeout.
func (s *Server) Wait(t testing.TB, timeout time.Duration, pred func([]Message) bool) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, ch := append([]Message(nil), s.messages...), s.changed
		s.mu.Unlock()
		if pred(msgs) {
			return msgs
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("smtptest: condition not met after %v; %d messages", timeout, len(msgs))
			return nil
		}
	}
}

// WaitN waits for at least n messages.
func (s *Server) WaitN(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	return s.Wait(t, timeout, func(m []Message) bool { return len(m) >= n })
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

var errDropped = errors.New("dropped")

func (x *session) Data(r io.Reader) error {
	s := x.s
	action := Accept
	s.mu.Lock()
	for _, rcpt := range x.to {
		s.seen[rcpt]++
		if s.decide != nil {
			if a := s.decide(rcpt, s.seen[rcpt]); a > action {
				action = a
			}
		}
	}
	s.mu.Unlock()
	switch action {
	case Drop:
		io.ReadFull(r, make([]byte, 64))
		x.conn.Conn().Close()
		return errDropped
	case TempFail:
		io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case PermFail:
		io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	s.mu.Lock()
	s.messages = append(s.messages, Message{From: x.from, To: append([]string(nil), x.to...), Data: buf.Bytes()})
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}
