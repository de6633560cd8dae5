package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	"golang.org/x/time/rate"
)

// Limits protect the server from floods: a cap on connections in all and
// per IP, a per-IP rate of new connections, and a deadline for reaching a
// session. A client over a cap still completes the handshake and is told
// why it is turned away; only a client far over its rate is dropped
// without a word.
type Limits struct {
	MaxConns         int           // all connections; default 2000
	MaxConnsPerIP    int           // per remote IP; default 20
	ConnsPerMinute   int           // new connections a minute per IP; default 60
	HandshakeTimeout time.Duration // from accept to an open session; default 10s
}

func (l Limits) withDefaults() Limits {
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
	return l
}

type ctxKey string

const (
	refusalKey ctxKey = "blog-refusal"
	trackedKey ctxKey = "blog-tracked-conn"
)

// connLimiter counts connections and decides on each new one.
type connLimiter struct {
	lim     Limits
	metrics *metrics

	mu      sync.Mutex
	total   int
	perIP   map[string]int
	buckets map[string]*bucket
}

type bucket struct {
	*rate.Limiter
	seen time.Time
}

func newConnLimiter(l Limits, m *metrics) *connLimiter {
	return &connLimiter{lim: l.withDefaults(), metrics: m, perIP: map[string]int{}, buckets: map[string]*bucket{}}
}

// wrap is the server's ConnCallback: it counts the connection, notes in
// ctx why it must be refused (if it must), and arms the handshake timer.
func (c *connLimiter) wrap(ctx ssh.Context, conn net.Conn) net.Conn {
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
		c.metrics.connRejected.WithLabelValues("flood").Inc()
		return nil
	}
	if !allowed {
		b.ReserveN(now, 1) // keep counting the flood down
	}
	var refusal string
	switch {
	case !allowed:
		refusal = "Too many new connections from your address. Please wait a minute and try again."
		c.metrics.connRejected.WithLabelValues("rate").Inc()
	case c.total >= c.lim.MaxConns:
		refusal = "The server is full right now. Please try again in a few minutes."
		c.metrics.connRejected.WithLabelValues("server_full").Inc()
	case c.perIP[ip] >= c.lim.MaxConnsPerIP:
		refusal = "Too many open sessions from your address. Close one and try again."
		c.metrics.connRejected.WithLabelValues("ip_full").Inc()
	}
	c.total++
	c.perIP[ip]++
	c.sweep(now)
	c.mu.Unlock()

	if refusal != "" {
		ctx.SetValue(refusalKey, refusal)
	}
	tc := &trackedConn{Conn: conn, release: func() { c.release(ip) }}
	tc.timer.Store(time.AfterFunc(c.lim.HandshakeTimeout, func() {
		if !tc.started.Load() {
			c.metrics.connRejected.WithLabelValues("handshake_timeout").Inc()
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

// trackedConn releases its slot once, on close.
type trackedConn struct {
	net.Conn
	timer   atomic.Pointer[time.Timer]
	started atomic.Bool
	once    sync.Once
	release func()
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
