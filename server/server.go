// Package server serves the blog over SSH: authentication and identity,
// connection limits, the session handler (a Bubble Tea program for
// terminals, plain commands for scripts), the live-event hub and a graceful
// shutdown that tells open sessions what is happening. It wires in the
// packages that do the rest: terminal (the terminal end of a session),
// threads (the shared comment threads), ops (metrics and the operators'
// HTTP endpoints, which it listens for).
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"blog/commands"
	"blog/data"
	"blog/data/visitbatch"
	"blog/internal/stack"
	"blog/ops"
	"blog/posts"
	"blog/terminal"
	"blog/threads"
	"blog/ui"
	"blog/ui/render"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/pires/go-proxyproto"
	gossh "golang.org/x/crypto/ssh"
)

// Config holds every server setting; cmd/blog fills it from flags and env.
type Config struct {
	SSHAddr  string
	HTTPAddr string
	DataDir  string
	// HostKey is a path to a private key, or the PEM itself. Empty means
	// DataDir/host_ed25519, generated on first start.
	HostKey string
	Title   string
	Notice  string
	// Host is what the UI shows readers to type after "ssh".
	Host          string
	IdleTimeout   time.Duration
	MaxTimeout    time.Duration
	ShutdownGrace time.Duration
	// AdminKeys are the moderators' keys, with the from= and expiry-time=
	// restrictions of their authorized_keys lines.
	AdminKeys []AdminKey
	// ConnLimits cap connections and sessions; zero values take defaults.
	ConnLimits ConnLimits
	// Caches are the byte budgets of the shared caches; zero values take
	// defaults.
	Caches CacheBudgets
	// ProxyProtocolFrom lists the addresses or CIDR ranges of TCP load
	// balancers that announce each reader's address with a PROXY protocol
	// header (v1 or v2). Connections from there must carry one; others are
	// served as they come.
	ProxyProtocolFrom []string
	// ReleaseMemoryAfter returns free memory to the system once the server
	// has been this long without a session opening or closing or a live
	// event, after each busy spell (see quiet.go). Zero never does.
	ReleaseMemoryAfter time.Duration
	// VisitMarks tunes the queue that writes the sessions' visit marks
	// together (see visitbatch); zero values take its defaults, and Log
	// the server's.
	VisitMarks visitbatch.Config
	Log        *slog.Logger

	// Newsletter signs readers up (newsletter.Signup); nil stores sign-ups
	// without mailing anyone (see newsletterOrStore).
	Newsletter ui.Signup
}

// Server is one replica's SSH and HTTP front.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   data.VisitorStore
	posts   *posts.Library
	render  *render.Cache
	caches  *ui.Caches
	hub     *hub
	uiCfg   ui.Config
	exec    *commands.Env // what a visitor runs without a terminal
	metrics *ops.Metrics
	limiter *connLimiter
	quiet   *quietTrigger       // nil when memory is left to the runtime
	visits  *visitbatch.Batcher // the sessions' visit marks, written together
	watch   watchers            // see Watch

	ssh      *ssh.Server
	sshLn    net.Listener
	http     *http.Server
	httpLn   net.Listener
	draining atomic.Bool
	admit    sync.Mutex    // orders enterSession against the start of shutdown
	stopping chan struct{} // closed when shutdown begins
	sessions sync.WaitGroup
}

// New prepares a server; Listen and Serve start it.
func New(cfg Config, lib *posts.Library, store data.Store) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Log,
		posts:    lib,
		render:   render.NewCache(cfg.Caches.Render),
		caches:   ui.NewCaches(cfg.Caches.Drawings),
		stopping: make(chan struct{}),
	}
	m := ops.NewMetrics(s.render.Stats)
	s.metrics = m
	s.limiter = newConnLimiter(cfg.ConnLimits, m)
	// Sessions and commands use the observed store behind the shared
	// threads, with their visit marks queued in front of it and written
	// together; the hub reads events from the store itself and keeps the
	// threads current.
	observed := observedStore{VisitorStore: store, m: m}
	if cfg.VisitMarks.Log == nil {
		cfg.VisitMarks.Log = cfg.Log
	}
	s.visits = visitbatch.New(observed, cfg.VisitMarks)
	shared := threads.New(queuedVisits{VisitorStore: observed, queue: s.visits}, cfg.Caches.Comments)
	s.store = shared
	m.Registry.MustRegister(ops.NewCacheCollector(func() []ops.CacheSize { return s.cacheSizes(shared) }))
	m.Registry.MustRegister(ops.NewVisitMarksCollector(s.visitMarks))
	s.hub = newHub(store, m, cfg.Log)
	if cfg.ReleaseMemoryAfter > 0 {
		s.quiet = newQuietTrigger(cfg.ReleaseMemoryAfter, func(busy func() bool) {
			r := releaseMemory(busy)
			s.metrics.MemoryReleases.Inc()
			s.log.Info("memory released after a busy spell", "collections", r.collections, "stopped_for_activity", r.interrupted,
				"stacks_kb_before", r.stacksBefore>>10, "stacks_kb_after", r.stacksAfter>>10)
		})
	}
	s.hub.onEvent = func(ev data.Event) {
		shared.Apply(ev)
		s.quiet.touch()
		s.watch.notify(ev)
	}
	s.uiCfg = ui.Config{
		Title:     cfg.Title,
		Notice:    cfg.Notice,
		Host:      cfg.Host,
		Posts:     lib,
		Render:    s.render,
		Caches:    s.caches,
		Store:     s.store,
		Visits:    s.store,
		Counts:    s.hub.Counts,
		Moderator: moderatorKeys(cfg.AdminKeys),
		Log:       cfg.Log,
	}
	s.uiCfg.Newsletter = s.newsletterOrStore()
	s.exec = s.newCommands()
	hostKey, err := s.hostKeyOption()
	if err != nil {
		return nil, err
	}
	s.ssh, err = wish.NewServer(
		hostKey,
		wish.WithVersion("blog"),
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }),
		// The idle and total timeouts are the connection's own (see
		// deadlineConn), not the library's.
		wish.WithMiddleware(s.handle, s.recoverPanics, s.logSessions, s.trackHandler),
		ssh.WrapConn(func(ctx ssh.Context, conn net.Conn) net.Conn {
			tracked := s.limiter.trackConn(ctx, conn)
			if tracked == nil {
				return nil // a flood: dropped
			}
			return withDeadlines(tracked, cfg.IdleTimeout, cfg.MaxTimeout)
		}),
		s.refuseExtras,
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	s.http = &http.Server{Handler: ops.Handler(m, s.draining.Load, s.store.Ping), ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// hostKeyOption loads the host key from PEM or a file, generating an
// ed25519 key (mode 0600) on first start so readers never see it change.
// The key is made here rather than by wish.WithHostKeyPath, whose key
// generator chmods the directory to 0700 and so fails on a data dir
// owned by another user (a bind mount) and changes one it should not.
func (s *Server) hostKeyOption() (ssh.Option, error) {
	k := strings.TrimSpace(s.cfg.HostKey)
	if strings.HasPrefix(k, "-----BEGIN") {
		if _, err := gossh.ParsePrivateKey([]byte(k)); err != nil {
			return nil, fmt.Errorf("host key PEM: %w", err)
		}
		return wish.WithHostKeyPEM([]byte(k + "\n")), nil
	}
	if k == "" {
		// MkdirAll leaves an existing directory, and its mode, alone.
		if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		k = filepath.Join(s.cfg.DataDir, "host_ed25519")
	}
	pemBytes, err := os.ReadFile(k)
	if errors.Is(err, fs.ErrNotExist) {
		if err = writeHostKey(k); err == nil {
			s.log.Info("generated a host key", "path", k)
			pemBytes, err = os.ReadFile(k)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if _, err := gossh.ParsePrivateKey(pemBytes); err != nil {
		return nil, fmt.Errorf("host key %s: %w", k, err)
	}
	return wish.WithHostKeyPEM(pemBytes), nil
}

// Listen opens the SSH and HTTP listeners.
func (s *Server) Listen() error {
	var err error
	if s.sshLn, err = net.Listen("tcp", s.cfg.SSHAddr); err != nil {
		return fmt.Errorf("listen ssh: %w", err)
	}
	if len(s.cfg.ProxyProtocolFrom) > 0 {
		policy, err := proxyproto.PolicyFromRanges(s.cfg.ProxyProtocolFrom, proxyproto.REQUIRE, proxyproto.IGNORE)
		if err != nil {
			s.sshLn.Close()
			return fmt.Errorf("proxy protocol ranges: %w", err)
		}
		s.sshLn = &proxyproto.Listener{Listener: s.sshLn, ConnPolicy: policy, ReadHeaderTimeout: 5 * time.Second}
	}
	if s.cfg.HTTPAddr != "" {
		if s.httpLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
			s.sshLn.Close()
			return fmt.Errorf("listen http: %w", err)
		}
	}
	return nil
}

// SSHAddr is the address the SSH listener is bound to.
func (s *Server) SSHAddr() net.Addr { return s.sshLn.Addr() }

// HTTPAddr is the address of the HTTP listener, or nil.
func (s *Server) HTTPAddr() net.Addr {
	if s.httpLn == nil {
		return nil
	}
	return s.httpLn.Addr()
}

// Serve runs until ctx ends, then shuts down: it stops accepting, tells
// open sessions the server is restarting, and waits up to the grace
// period for them to close.
func (s *Server) Serve(ctx context.Context) error {
	hubCtx, stopHub := context.WithCancel(context.Background())
	defer stopHub()
	go s.hub.run(hubCtx)
	go s.quiet.run(hubCtx)

	errc := make(chan error, 2)
	go func() { errc <- s.ssh.Serve(s.sshLn) }()
	if s.httpLn != nil {
		go func() { errc <- s.http.Serve(s.httpLn) }()
	}
	s.log.Info("serving", "ssh", s.SSHAddr().String(), "http", addrString(s.HTTPAddr()))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, ssh.ErrServerClosed) && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return s.shutdown()
}

func (s *Server) shutdown() error {
	s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace.String())
	s.admit.Lock()
	s.draining.Store(true)
	s.admit.Unlock()
	close(s.stopping)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	s.sshLn.Close()
	s.hub.broadcast(shutdownMsg{})
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("grace period over; closing remaining sessions")
	}
	s.ssh.Close()
	if s.httpLn != nil {
		_ = s.http.Shutdown(ctx)
	}
	s.closeVisits(done)
	s.log.Info("stopped")
	return nil
}

// closeVisits writes the queued visit marks before Serve returns and the
// caller closes the store. Sessions cut off at the end of the grace period
// mark where their visitors stopped as their programs end, so they are
// given up to leaveTimeout more (done closes when every session has ended);
// a mark made after the queue has closed is written by its session.
func (s *Server) closeVisits(sessionsDone <-chan struct{}) {
	wait := time.NewTimer(leaveTimeout + time.Second)
	select {
	case <-sessionsDone:
	case <-wait.C:
	}
	wait.Stop()
	// As long as the queue's own flushes may take.
	timeout := s.cfg.VisitMarks.Timeout
	if timeout <= 0 {
		timeout = visitbatch.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The queue logs what it could not write, by count.
	_ = s.visits.Close(ctx)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// refuseExtras keeps the server to what a blog needs: no port forwarding
// (no handlers are set), no subsystems, and session channels that refuse
// agent and X11 forwarding (see terminal.Intercept).
func (s *Server) refuseExtras(srv *ssh.Server) error {
	srv.LocalPortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
	srv.ReversePortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
	srv.SubsystemHandlers = nil
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.serveSession}
	return nil
}

// serveSession runs one session channel: it holds the session's slot in
// the connection's and the server's counts until the channel has closed
// and its handler has returned.
func (s *Server) serveSession(srv *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	if tc, ok := ctx.Value(trackedKey).(*trackedConn); ok {
		if refusal := tc.openSession(); refusal != "" {
			_ = ch.Reject(gossh.ResourceShortage, refusal)
			return
		}
		defer tc.closeSession()
	}
	channelCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cut := func() {
		s.metrics.SessionsCut.WithLabelValues("write_timeout").Inc()
		s.log.Info("closing a connection that takes no output", "remote", conn.RemoteAddr().String(), "after", s.limiter.lim.WriteTimeout.String())
		_ = conn.Close()
	}
	intercepted, channel := terminal.Intercept(ch, s.limiter.lim.WriteTimeout, cut)
	ssh.DefaultSessionHandler(srv, conn, intercepted, channel.Context(ctx, channelCtx))
	// The library's request loop has returned, at the session's start or
	// its end; this goroutine filters the rest of the requests.
	channel.ServeRequests()
	// The channel has closed: end the program, then wait for the handler.
	cancel()
	channel.WaitHandler()
}

// trackHandler is the outermost middleware: it tells the session's
// channel when the handler has returned.
func (s *Server) trackHandler(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		// The handler's goroutine is new, and the session's first frame
		// runs deep on it: grown now, its stack is copied once, nearly
		// empty (see internal/stack). An interface session holds 8 KB
		// there anyway.
		stack.Grow()
		if ch := terminal.ChannelOf(sess); ch != nil {
			defer ch.HandlerDone()
		}
		next(sess)
	}
}
