package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/data/visitbatch"
	"blog/internal/termclient"
	"blog/posts"
	"blog/server"

	"golang.org/x/crypto/ssh"
)

// testServer is a real server on a free loopback port.
type testServer struct {
	srv    *server.Server
	addr   string
	http   string
	store  data.Store
	lib    *posts.Library
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

type serverOpts struct {
	dataDir string
	store   data.Store
	notice  string
	admins  []ssh.PublicKey
	// adminKeys are moderators with the restrictions of their key lines.
	adminKeys []server.AdminKey
	grace     time.Duration
	limits    server.ConnLimits
	proxies   []string
	release   time.Duration // ReleaseMemoryAfter
	caches    server.CacheBudgets
	idle      time.Duration // IdleTimeout
	maxConn   time.Duration // MaxTimeout
	visits    visitbatch.Config
}

func quietLog() *slog.Logger {
	if os.Getenv("BLOG_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func openSQLite(t testing.TB, limits data.Limits) data.Store {
	t.Helper()
	st, err := openSQLiteWith(t, data.Options{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// openSQLiteWith opens a store in t.TempDir() with opt and a quiet log.
func openSQLiteWith(t testing.TB, opt data.Options) (data.Store, error) {
	t.Helper()
	opt.Logger = quietLog()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), opt)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { st.Close() })
	return st, nil
}

// generousLimits keep rate limits out of tests that are not about them.
func generousLimits() data.Limits {
	l := data.DefaultLimits()
	for _, r := range []*data.RateLimit{&l.CommentPerKey, &l.CommentPerIP, &l.SubscribePerKey, &l.SubscribePerIP} {
		r.Count = 1000
	}
	return l
}

func startServer(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.store == nil {
		o.store = openSQLite(t, generousLimits())
	}
	lib, err := posts.Embedded(quietLog())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		SSHAddr:            "127.0.0.1:0",
		HTTPAddr:           "127.0.0.1:0",
		DataDir:            o.dataDir,
		Title:              "Test Blog",
		Notice:             o.notice,
		Host:               "blog.test",
		ShutdownGrace:      o.grace,
		AdminKeys:          append(o.adminKeys, plainAdmins(o.admins)...),
		ConnLimits:         o.limits,
		ProxyProtocolFrom:  o.proxies,
		ReleaseMemoryAfter: o.release,
		Caches:             o.caches,
		IdleTimeout:        o.idle,
		MaxTimeout:         o.maxConn,
		VisitMarks:         o.visits,
		Log:                quietLog(),
	}, lib, o.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, addr: srv.SSHAddr().String(), http: "http://" + srv.HTTPAddr().String(), store: o.store, lib: lib, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(ts.stop)
	return ts
}

// plainAdmins are moderators' keys without restrictions.
func plainAdmins(keys []ssh.PublicKey) []server.AdminKey {
	var out []server.AdminKey
	for _, k := range keys {
		out = append(out, server.AdminKey{Key: k})
	}
	return out
}

func (ts *testServer) stop() {
	ts.once.Do(func() {
		ts.cancel()
		select {
		case <-ts.done:
		case <-time.After(15 * time.Second):
		}
	})
}

func newKey(t testing.TB) ssh.Signer {
	t.Helper()
	k, err := termclient.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// open starts an interactive session and waits for the home screen.
func (ts *testServer) open(t testing.TB, signer ssh.Signer, w, h int, extra ...func(*termclient.Options)) *termclient.Session {
	t.Helper()
	o := termclient.Options{Addr: ts.addr, Signer: signer, Width: w, Height: h}
	for _, f := range extra {
		f(&o)
	}
	s, err := termclient.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// screenWait is how long a test waits for the screen to show something.
// It only bounds a failing test: a passing one goes on as soon as the text
// is there, so it is generous for -race on a machine with its cores busy.
const screenWait = 30 * time.Second

func waitFor(t testing.TB, s *termclient.Session, text string) {
	t.Helper()
	if err := s.WaitFor(text, screenWait); err != nil {
		t.Fatalf("waiting for %q: %v", text, err)
	}
}

func waitGone(t testing.TB, s *termclient.Session, text string) {
	t.Helper()
	if err := s.Wait(screenWait, func(scr string) bool { return !strings.Contains(scr, text) }); err != nil {
		t.Fatalf("waiting for %q to go: %v", text, err)
	}
}

func typeKeys(t testing.TB, s *termclient.Session, keys string) {
	t.Helper()
	if err := s.Type(keys); err != nil {
		t.Fatal(err)
	}
}

// openPost moves the selection on the home screen to slug and opens it.
func (ts *testServer) openPost(t testing.TB, s *termclient.Session, slug string) {
	t.Helper()
	var title string
	for i, p := range ts.lib.Published() {
		if p.Slug == slug {
			title = p.Title
			typeKeys(t, s, strings.Repeat("j", i)+"\r")
		}
	}
	if title == "" {
		t.Fatalf("no post %s", slug)
	}
	waitFor(t, s, "← Test Blog")
}

const goPost = "go-for-backend-services"

func sshFingerprint(s ssh.Signer) string { return ssh.FingerprintSHA256(s.PublicKey()) }

// dialSession connects to addr (keyless when signer is nil) and opens one
// session channel, closing the connection when the test ends.
func dialSession(t testing.TB, addr string, signer ssh.Signer) (*ssh.Client, *ssh.Session) {
	t.Helper()
	client, err := termclient.Dial(addr, signer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	return client, sess
}
