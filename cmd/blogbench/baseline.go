package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

// baselineText is the one line the baseline server prints.
const baselineText = "blogbench baseline"

// broadcastCommand is what a writer runs on the baseline server, with a
// line on stdin, in place of the blog's comment command.
const broadcastCommand = "broadcast"

// baselineServer is a bare wish server: any key, one line a session, and
// the session kept open until the client closes it. It is what every
// figure of the blog is compared with. Its broadcast command writes one
// line to every open session: the cheapest fan-out over SSH, which the
// blog's comment fan-out is compared with.
type baselineServer struct {
	srv *ssh.Server
	ln  net.Listener
	bc  broadcaster
}

// broadcaster wakes every waiting session at once by closing a channel; a
// session then writes the latest line from its own goroutine, as the
// blog's sessions each paint from their own.
type broadcaster struct {
	mu   sync.Mutex
	line string
	next chan struct{}
}

// wait returns the channel closed by the next broadcast.
func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == nil {
		b.next = make(chan struct{})
	}
	return b.next
}

func (b *broadcaster) latest() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.line
}

func (b *broadcaster) send(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = line
	if b.next != nil {
		close(b.next)
		b.next = nil
	}
}

// handle is one baseline session: a broadcast, or a reader kept open.
func (b *baselineServer) handle(s ssh.Session) {
	if cmd := s.Command(); len(cmd) == 1 && cmd[0] == broadcastCommand {
		line, err := io.ReadAll(io.LimitReader(s, 256))
		if err != nil {
			_ = s.Exit(1)
			return
		}
		b.bc.send(strings.TrimSpace(string(line)))
		_ = s.Exit(0)
		return
	}
	fmt.Fprintf(s, "%s: hello %s\r\n", baselineText, s.User())
	// Nothing reads the session's input: the client sends none, and the
	// channel's window bounds what it could.
	for {
		next := b.bc.wait()
		select {
		case <-s.Context().Done():
			return
		case <-next:
			fmt.Fprintf(s, "%s\r\n", b.bc.latest())
		}
	}
}

func newBaseline(addr, keyDir string) (*baselineServer, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	b := &baselineServer{}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(filepath.Join(keyDir, "baseline_ed25519")),
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }),
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler { return b.handle }),
	)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b.srv, b.ln = srv, ln
	return b, nil
}

func (b *baselineServer) addr() string { return b.ln.Addr().String() }

// serve runs until ctx ends.
func (b *baselineServer) serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		b.srv.Close()
	}()
	if err := b.srv.Serve(b.ln); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		return err
	}
	return nil
}

// baselineMain is `blogbench baseline-server`.
func baselineMain(ctx context.Context, args []string) error {
	fs := newFlags("baseline-server", "blogbench baseline-server [--addr 127.0.0.1:0]: a bare wish server to compare with.")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	keyDir := fs.String("key-dir", "", "directory for the host key (default: a new temporary one)")
	pprofAddr := fs.String("pprof-addr", "", "loopback address for /debug/pprof/, to profile the baseline as blogbench serve profiles the blog (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofAddr != "" {
		if err := checkLoopback(*pprofAddr); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() { _ = http.Serve(ln, pprofMux()) }()
		fmt.Fprintf(os.Stderr, "pprof=%s\n", ln.Addr())
	}
	if *keyDir == "" {
		dir, err := os.MkdirTemp("", "blogbench-baseline-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*keyDir = dir
	}
	b, err := newBaseline(*addr, *keyDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "serving ssh=%s\n", b.addr())
	return b.serve(ctx)
}
