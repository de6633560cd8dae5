package server

import (
	"net"
	"sync/atomic"
	"time"
)

// deadlineConn closes a connection after idle without traffic either way,
// and after most in all, by keeping a deadline on it.
//
// The ssh library can do this itself (its IdleTimeout and MaxTimeout), but
// it sets the deadline again before every read and every write: a new
// comment to 10,000 watchers is 20,000 deadline changes (the frame out, the
// client's window adjustment in), each moving two runtime timers. Here the
// deadline moves only once it has fallen behind by a thirty-second of idle
// (under a minute for the default 30 minutes), so a connection closes
// between 97% and 100% of idle after its last traffic, and a busy one moves
// its deadline about once a minute.
type deadlineConn struct {
	net.Conn
	idle  time.Duration
	slack time.Duration
	end   time.Time    // the connection's last moment; zero: none
	base  time.Time    // when the wrapper was made: deadlines are kept as time since
	armed atomic.Int64 // the deadline set, as nanoseconds since base; 0: none yet
}

// withDeadlines wraps conn with the idle and total deadlines; with neither
// it returns conn as it is.
func withDeadlines(conn net.Conn, idle, most time.Duration) net.Conn {
	if idle <= 0 && most <= 0 {
		return conn
	}
	c := &deadlineConn{Conn: conn, idle: idle, slack: idle / 32, base: time.Now()}
	if most > 0 {
		c.end = c.base.Add(most)
	}
	c.touch()
	return c
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	c.touch()
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.touch()
	return c.Conn.Write(b)
}

// SetDeadline is dropped: the deadline is this connection's own. The ssh
// library, given no timeouts of its own, clears the deadline before every
// read and write, which would undo it; nothing else sets one.
func (c *deadlineConn) SetDeadline(time.Time) error { return nil }

// touch moves the deadline to idle from now, capped at end, when that is
// at least slack later than the one set.
func (c *deadlineConn) touch() {
	var next time.Time
	switch {
	case c.idle > 0:
		next = time.Now().Add(c.idle)
		if !c.end.IsZero() && next.After(c.end) {
			next = c.end
		}
	default:
		next = c.end
	}
	// Measured on the monotonic clock (Sub of two readings of time.Now),
	// as the deadline itself is, so a step of the wall clock moves neither.
	armed, at := c.armed.Load(), int64(next.Sub(c.base))
	if armed != 0 && (at <= armed || at-armed < int64(c.slack)) {
		return
	}
	if !c.armed.CompareAndSwap(armed, at) {
		return // another read or write is moving it now
	}
	_ = c.Conn.SetDeadline(next)
}
