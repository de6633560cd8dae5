package server

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"blog/ops"

	"github.com/charmbracelet/ssh"
	"golang.org/x/time/rate"
)

// ConnLimits protect the server from floods: a cap on connections in all and
// per IP, a per-IP rate of new connections, a deadline for reaching a
// session and one for each write to a client. A client over a cap still
// completes the handshake and is told why it is turned away; only a client
// far over its rate is dropped without a word.
//
// The caps count sessions too: a connection holds one slot from the moment
// it is accepted, and each session channel it opens beyond its first takes
// one more, so MaxConns bounds the sessions a replica serves whether they
// come on many connections or few. No connection opens more than
// MaxSessionsPerConn sessions at once (OpenSSH's MaxSessions default).
type ConnLimits struct {
	MaxConns         int           // all connections and extra sessions; default 2000
	MaxConnsPerIP    int           // the same, per remote IP; default 20
	ConnsPerMinute   int           // new connections a minute per IP; default 60
	HandshakeTimeout time.Duration // from accept to an open session; default 10s
	// WriteTimeout closes a connection whose client has taken no output
	// for this long, which is what unblocks a session stuck writing to it.
	// Default 30s.
	WriteTimeout time.Duration
}

// MaxSessionsPerConn is how many session channels one connection may have
// open at once; the next is refused with ResourceShortage.
const MaxSessionsPerConn = 10

func (l ConnLimits) withDefaults() ConnLimits {
	if l.MaxConns <= 0 {
		l.MaxConns = 2000
	}
	if l.MaxConnsPerIP <= 0 {
		l.MaxConnsPerIP = 20
	}
	if l.ConnsPerMinute <= 0 {
		l.ConnsPerMinute = 60
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = 10 * time.Second
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 30 * time.Second
	}
	return l
}

type ctxKey string

const (
	refusalKey ctxKey = "blog-refusal"
	trackedKey ctxKey = "blog-tracked-conn"
)

// connLimiter counts connections and decides on each new one.
type connLimiter struct {
	lim     ConnLimits
	metrics *ops.Metrics

	mu      sync.Mutex
	total   int
	perIP   map[string]int
	buckets map[string]*bucket
}

type bucket struct {
	*rate.Limiter
	seen time.Time
}

func newConnLimiter(l ConnLimits, m *ops.Metrics) *connLimiter {
	return &connLimiter{lim: l.withDefaults(), metrics: m, perIP: map[string]int{}, buckets: map[string]*bucket{}}
}

// trackConn is the server's ConnCallback: it counts the connection, notes
// in ctx why it must be refused (if it must), arms the handshake timer and
// returns the connection as a trackedConn, which gives its slot back on
// close. A flood gets nil: the connection is dropped at once.
func (c *connLimiter) trackConn(ctx ssh.Context, conn net.Conn) net.Conn {
	ip := remoteIP(conn.RemoteAddr())
	now := time.Now()

	c.mu.Lock()
	b := c.buckets[ip]
	if b == nil {
		perSecond := rate.Limit(float64(c.lim.ConnsPerMinute) / 60)
		b = &bucket{Limiter: rate.NewLimiter(perSecond, max(c.lim.ConnsPerMinute/4, 1))}
		c.buckets[ip] = b
	}
	b.seen = now
	allowed := b.AllowN(now, 1)
	// Far over the rate (a flood): not even a handshake.
	if !allowed && b.TokensAt(now) < -float64(c.lim.ConnsPerMinute) {
		c.mu.Unlock()
		c.metrics.ConnRejected.WithLabelValues("flood").Inc()
		return nil
	}
	if !allowed {
		b.ReserveN(now, 1) // keep counting the flood down
	}
	var refusal string
	switch {
	case !allowed:
		refusal = "Too many new connections from your address. Please wait a minute and try again."
		c.metrics.ConnRejected.WithLabelValues("rate").Inc()
	case c.total >= c.lim.MaxConns:
		refusal = "The server is full right now. Please try again in a few minutes."
		c.metrics.ConnRejected.WithLabelValues("server_full").Inc()
	case c.perIP[ip] >= c.lim.MaxConnsPerIP:
		refusal = "Too many open sessions from your address. Close one and try again."
		c.metrics.ConnRejected.WithLabelValues("ip_full").Inc()
	}
	c.total++
	c.perIP[ip]++
	c.sweep(now)
	c.mu.Unlock()

	if refusal != "" {
		ctx.SetValue(refusalKey, refusal)
	}
	tc := &trackedConn{Conn: conn, ip: ip, limiter: c, release: func() { c.release(ip) }}
	tc.timer.Store(time.AfterFunc(c.lim.HandshakeTimeout, func() {
		if !tc.started.Load() {
			c.metrics.ConnRejected.WithLabelValues("handshake_timeout").Inc()
			tc.Close()
		}
	}))
	ctx.SetValue(trackedKey, tc)
	return tc
}

func (c *connLimiter) release(ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.perIP[ip]--; c.perIP[ip] <= 0 {
		delete(c.perIP, ip)
	}
}

// sweep forgets rate buckets of addresses quiet for ten minutes, so the
// map does not grow with every address ever seen. Called with mu held.
func (c *connLimiter) sweep(now time.Time) {
	if len(c.buckets) < 1024 {
		return
	}
	for ip, b := range c.buckets {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(c.buckets, ip)
		}
	}
}

// acquireExtra takes the slot of a connection's second or later session,
// or returns why it cannot.
func (c *connLimiter) acquireExtra(ip string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.total >= c.lim.MaxConns:
		c.metrics.ConnRejected.WithLabelValues("server_full").Inc()
		return "The server is full right now. Please try again in a few minutes."
	case c.perIP[ip] >= c.lim.MaxConnsPerIP:
		c.metrics.ConnRejected.WithLabelValues("ip_full").Inc()
		return "Too many open sessions from your address. Close one and try again."
	}
	c.total++
	c.perIP[ip]++
	return ""
}

// trackedConn releases its slot once, on close, and counts the sessions
// open on it.
type trackedConn struct {
	net.Conn
	ip      string
	limiter *connLimiter
	timer   atomic.Pointer[time.Timer]
	started atomic.Bool
	once    sync.Once
	release func()

	mu       sync.Mutex
	sessions int
}

// openSession counts a new session channel on the connection. It returns
// why the session is refused, or "" when it may open; each session that
// opens must be closed with closeSession.
func (t *trackedConn) openSession() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions >= MaxSessionsPerConn {
		t.limiter.metrics.ConnRejected.WithLabelValues("sessions_per_conn").Inc()
		return fmt.Sprintf("At most %d sessions per connection. Close one and try again.", MaxSessionsPerConn)
	}
	// The first session rides on the connection's own slot.
	if t.sessions > 0 {
		if refusal := t.limiter.acquireExtra(t.ip); refusal != "" {
			return refusal
		}
	}
	t.sessions++
	return ""
}

func (t *trackedConn) closeSession() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions--
	if t.sessions > 0 {
		t.limiter.release(t.ip)
	}
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		if timer := t.timer.Load(); timer != nil {
			timer.Stop()
		}
		t.release()
	})
	return t.Conn.Close()
}

// sessionStarted stops the handshake timer of the session's connection and
// returns the refusal message, if the connection is over a limit.
func sessionStarted(ctx ssh.Context) string {
	if tc, ok := ctx.Value(trackedKey).(*trackedConn); ok {
		tc.started.Store(true)
	}
	refusal, _ := ctx.Value(refusalKey).(string)
	return refusal
}
