package abuse

import (
	"context"
	"sync"
	"time"

	"blog/internal/termclient"
)

// Control is an ordinary keyless reader on the post list whose keypress
// latency is sampled while an attack runs: the time from a keypress to the
// first output after it.
type Control struct {
	s    *termclient.Session
	wait time.Duration

	mu      sync.Mutex
	samples []time.Duration
	failed  int
	down    bool // next key: j (down) or k (up)
}

// OpenControl connects a reader and waits for the post list.
func OpenControl(t Target) (*Control, error) {
	if err := CheckLoopback(t.Addr); err != nil {
		return nil, err
	}
	s, err := termclient.Open(termclient.Options{Addr: t.Addr, Width: 100, Height: 40, DropRaw: true, Timeout: t.wait()})
	if err != nil {
		return nil, err
	}
	if err := s.WaitFor("enter read", t.wait()); err != nil {
		s.Close()
		return nil, err
	}
	return &Control{s: s, wait: t.wait(), down: true}, nil
}

// Press moves the selection one post down or back up, alternately (each
// is a change, so each gets a frame), and returns the time until the
// first output after it, within timeout.
func (c *Control) Press(timeout time.Duration) (time.Duration, error) {
	c.mu.Lock()
	k := "k"
	if c.down {
		k = "j"
	}
	c.down = !c.down
	c.mu.Unlock()
	n := c.s.Received()
	start := time.Now()
	if err := c.s.Type(k); err != nil {
		return 0, err
	}
	if err := c.s.WaitOutput(n, timeout); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Sample presses a key every interval until ctx ends, keeping the
// latencies; a keypress with no frame within the wait counts as failed.
func (c *Control) Sample(ctx context.Context, interval time.Duration) {
	for ctx.Err() == nil {
		d, err := c.Press(c.wait)
		c.mu.Lock()
		if err != nil {
			c.failed++
		} else {
			c.samples = append(c.samples, d)
		}
		c.mu.Unlock()
		if err != nil && c.Ended() {
			return
		}
		_ = Sleep(ctx, interval)
	}
}

// Samples returns the latencies so far and how many keypresses got no
// frame, and starts afresh.
func (c *Control) Samples() (latencies []time.Duration, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	latencies, failed = c.samples, c.failed
	c.samples, c.failed = nil, 0
	return latencies, failed
}

// Ended reports whether the server closed the control session.
func (c *Control) Ended() bool {
	select {
	case <-c.s.Done():
		return true
	default:
		return false
	}
}

// Screen is what the control session shows.
func (c *Control) Screen() string { return c.s.Screen() }

// Close ends the control session.
func (c *Control) Close() { c.s.Close() }

// Wait waits until cond holds for the control session's screen.
func (c *Control) Wait(timeout time.Duration, cond func(screen string) bool) error {
	return c.s.Wait(timeout, cond)
}
