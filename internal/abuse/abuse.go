// Package abuse is the attack side of the hardening work: each finding of
// issue 9 as a function that runs it against a blog's SSH address with a
// real SSH client, as an anonymous visitor would (keyless, or with a fresh
// key where the finding needs one). Every attack is bounded in count and
// time and stops by itself; only loopback addresses are attacked.
//
// The server's abuse tests (server/abuse_test.go) and `blogbench attack`
// both run these, so the test suite and the measurement attack the same
// way.
package abuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// Target is the server under attack.
type Target struct {
	Addr string // SSH address; loopback only
	Slug string // the post whose composer and comments are attacked
	// Wait bounds each single wait (a handshake, a screen, a reply);
	// default 10s.
	Wait time.Duration
}

func (t Target) wait() time.Duration {
	if t.Wait <= 0 {
		return 10 * time.Second
	}
	return t.Wait
}

// CheckLoopback refuses every address but 127.0.0.1 and ::1.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !(ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback)) {
		return fmt.Errorf("address %q: only 127.0.0.1 and ::1 may be attacked", addr)
	}
	return nil
}

// dial opens a client connection, keyless when signer is nil. The TCP
// connection is returned too, so an attack can drop it without closing its
// channels, as a vanished client does.
func dial(ctx context.Context, t Target, signer ssh.Signer) (*ssh.Client, net.Conn, error) {
	if err := CheckLoopback(t.Addr); err != nil {
		return nil, nil, err
	}
	d := net.Dialer{Timeout: t.wait()}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(t.wait()))
	c, chans, reqs, err := ssh.NewClientConn(conn, t.Addr, termclient.ClientConfig("reader", signer, nil, t.wait()))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), conn, nil
}

// Held is sessions an attack keeps open until Close, to measure the
// server while they last.
type Held struct {
	Opened  int // sessions the server accepted
	Refused int // session channels it refused

	mu      sync.Mutex
	clients []*ssh.Client
	stop    chan struct{} // closed by Close
	ended   atomic.Int64
}

// stopped is closed once Close is called.
func (h *Held) stopped() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop == nil {
		h.stop = make(chan struct{})
	}
	return h.stop
}

func (h *Held) keep(c *ssh.Client) {
	h.mu.Lock()
	h.clients = append(h.clients, c)
	h.mu.Unlock()
}

// watch counts sess as ended once the server closes it; the channel
// returned is closed then.
func (h *Held) watch(sess *ssh.Session) <-chan struct{} {
	ended := make(chan struct{})
	go func() {
		_ = sess.Wait()
		h.ended.Add(1)
		close(ended)
	}()
	return ended
}

// Ended is how many of the opened sessions the server has closed.
func (h *Held) Ended() int { return int(h.ended.Load()) }

// Close drops every connection.
func (h *Held) Close() {
	if h == nil {
		return
	}
	h.stopped() // makes the channel
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	for _, c := range h.clients {
		_ = c.Close()
	}
	h.clients = nil
}

// startTUI asks for a PTY of w x h and starts the interface on sess,
// reading and discarding all its output.
func startTUI(sess *ssh.Session, w, h int) error {
	if err := sess.RequestPty("xterm-256color", h, w, ssh.TerminalModes{}); err != nil {
		return err
	}
	sess.Stdout, sess.Stderr = io.Discard, io.Discard
	return sess.Shell()
}

// startUnread starts the interface like startTUI (on the post slug when
// it is set: a post's frames are larger than the list's), answers the
// blog's terminal queries, reads until the first screen has been drawn and
// then reads no more: the server's writes pile up until the channel window
// is full.
func startUnread(sess *ssh.Session, w, h int, slug string, timeout time.Duration) error {
	if err := sess.RequestPty("xterm-256color", h, w, ssh.TerminalModes{}); err != nil {
		return err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return err
	}
	drawn := "enter read"
	if slug != "" {
		drawn = "min read"
		err = sess.Start("read " + slug)
	} else {
		err = sess.Shell()
	}
	if err != nil {
		return err
	}
	m := newMeter(stdin)
	found := make(chan error, 1)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(buf)
			m.feed(buf[:n])
			if m.has(drawn) {
				found <- nil
				return
			}
			if err != nil {
				found <- err
				return
			}
		}
	}()
	select {
	case err := <-found:
		return err
	case <-time.After(timeout):
		return errors.New("no first screen within " + timeout.String())
	}
}

// errEnded says the server closed a session the attack still needed.
var errEnded = errors.New("the server closed the session")

// Sleep waits for d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
