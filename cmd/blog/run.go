package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/sqlite"
	"blog/posts"
	"blog/server"

	gossh "golang.org/x/crypto/ssh"
)

const summary = `blog serves a blog over SSH: readers run "ssh -p 23234 HOST" and get the posts,
live comments and a newsletter sign-up in their terminal.

Usage:
  blog [serve] [flags]     serve (the default)
  blog migrate [flags]     apply database migrations and exit`

// run dispatches to a subcommand; with none, it serves.
func run(ctx context.Context, args []string) error {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	switch name {
	case "serve":
		return serve(ctx, args)
	case "migrate":
		return migrate(ctx, args)
	case "help":
		var c config
		fs := newFlagSet("blog", &c, summary)
		defineServeFlags(fs, &c)
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return nil
	}
	fmt.Fprintf(os.Stderr, "blog: unknown command %q\n\n%s\n", name, summary)
	return errUsage
}

// setup parses flags and builds the logger for a subcommand.
func setup(name string, args []string, c *config, summary string, more func(*flag.FlagSet, *config)) (*slog.Logger, error) {
	fs := newFlagSet(name, c, summary)
	if more != nil {
		more(fs, c)
	}
	if err := parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "blog:", err)
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "blog %s: unexpected argument %q\n", name, fs.Arg(0))
		return nil, errUsage
	}
	return newLogger(os.Stderr, c.logFormat, c.logLevel)
}

func serve(ctx context.Context, args []string) error {
	var c config
	log, err := setup("serve", args, &c, summary, defineServeFlags)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	admins, err := adminKeys(c)
	if err != nil {
		return err
	}
	lib, err := loadPosts(ctx, c.postsDir, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()

	srv, err := server.New(server.Config{
		SSHAddr:       c.sshAddr,
		HTTPAddr:      c.httpAddr,
		DataDir:       c.dataDir,
		HostKey:       c.hostKey,
		Title:         c.title,
		Notice:        c.notice,
		Host:          displayHost(c.host, c.sshAddr),
		IdleTimeout:   c.idleTimeout,
		MaxTimeout:    c.maxSession,
		ShutdownGrace: c.shutdownGrace,
		AdminKeys:     admins,
		Log:           log,
	}, lib, store)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	return srv.Serve(ctx)
}

func migrate(ctx context.Context, args []string) error {
	var c config
	log, err := setup("migrate", args, &c, "blog migrate: apply the database migrations (also done at every start) and exit.", nil)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return store.Close()
}

// openStore opens Postgres when a URL is given, else SQLite in the data dir.
func openStore(ctx context.Context, c config, log *slog.Logger) (data.Store, error) {
	opt := data.Options{Limits: data.DefaultLimits(), MaxConns: int32(c.dbMaxConns), Logger: log}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if c.databaseURL != "" {
		s, err := postgres.Open(octx, c.databaseURL, opt)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(c.dataDir, "blog.db")
	s, err := sqlite.Open(octx, path, opt)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	log.Info("using the embedded database", "path", path)
	return s, nil
}

func loadPosts(ctx context.Context, dir string, log *slog.Logger) (*posts.Library, error) {
	if dir == "" {
		return posts.Embedded(log)
	}
	lib, err := posts.Dir(dir, log)
	if err != nil {
		return nil, fmt.Errorf("posts: %w", err)
	}
	go func() {
		if err := lib.Watch(ctx); err != nil && ctx.Err() == nil {
			log.Error("watching posts stopped", "dir", dir, "err", err)
		}
	}()
	return lib, nil
}

// displayHost is what readers are told to type after "ssh".
func displayHost(host, sshAddr string) string {
	if host != "" {
		return host
	}
	_, port, err := net.SplitHostPort(sshAddr)
	if err != nil || port == "22" {
		return "localhost"
	}
	return "-p " + port + " localhost"
}

// adminKeys reads the moderators' keys from --admin-keys and the file.
func adminKeys(c config) ([]gossh.PublicKey, error) {
	src := []byte(c.adminKeys)
	if c.adminKeysFile != "" {
		b, err := os.ReadFile(c.adminKeysFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-keys-file: %w", err)
		}
		src = append(append(src, '\n'), b...)
	}
	var keys []gossh.PublicKey
	for len(bytes.TrimSpace(src)) > 0 {
		k, _, _, rest, err := gossh.ParseAuthorizedKey(src)
		if err != nil {
			return nil, fmt.Errorf("admin keys: %w", err)
		}
		keys = append(keys, k)
		src = rest
	}
	return keys, nil
}
