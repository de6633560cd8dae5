package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

// baselineText is the one line the baseline server prints.
const baselineText = "blogbench baseline"

// baselineServer is a bare wish server: any key, one line a session, and
// the session kept open until the client closes it. It is what every
// figure of the blog is compared with.
type baselineServer struct {
	srv *ssh.Server
	ln  net.Listener
}

func newBaseline(addr, keyDir string) (*baselineServer, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(filepath.Join(keyDir, "baseline_ed25519")),
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }),
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler {
			return func(s ssh.Session) {
				fmt.Fprintf(s, "%s: hello %s\r\n", baselineText, s.User())
				// Keep reading, as a program would, until the client goes.
				_, _ = io.Copy(io.Discard, s)
				<-s.Context().Done()
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &baselineServer{srv: srv, ln: ln}, nil
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
	if err := fs.Parse(args); err != nil {
		return err
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
