package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"blog/jobs"
	"blog/posts"
	"blog/server"

	"github.com/spf13/cobra"
)

func (c *cli) serveCmd() *cobra.Command {
	var cfg config
	cmd := c.command("serve", summary, &cfg, storeFlags, serveFlags, newsletterFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if err := c.noArgs(cmd, pos); err != nil {
			return err
		}
		if cfg.resetEvery < 0 || cfg.retain < 0 {
			return c.usageError(cmd, "--reset-every and --retain cannot be negative")
		}
		if cfg.commentsPerKey < 1 || cfg.commentsPerIP < 1 {
			return c.usageError(cmd, "--comments-per-key and --comments-per-ip must be at least 1")
		}
		return c.serve(cmd.Context(), cfg)
	}
	return cmd
}

// serve runs the server until ctx ends.
func (c *cli) serve(ctx context.Context, cfg config) error {
	log, err := newLogger(c.errOut, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	admins, err := adminKeys(cfg, log)
	if err != nil {
		return err
	}
	lib, err := loadPosts(ctx, cfg.postsDir, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()

	nl, err := newNewsletter(cfg, store, lib, log)
	if err != nil {
		return err
	}
	scfg := serverConfig(cfg, admins, log)
	scfg.Newsletter = nl.signup
	srv, err := server.New(scfg, lib, store)
	if err != nil {
		return err
	}
	defer nl.attachSite(ctx, cfg, scfg, lib, store, srv)()
	if err := srv.Listen(); err != nil {
		return err
	}
	if err := nl.listen(); err != nil {
		return err
	}
	defer nl.start(ctx)()

	// The jobs stop before the deferred store.Close, whichever way Serve ends.
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		jobs.Run(jobsCtx, store, jobs.Config{ResetEvery: cfg.resetEvery, Retain: cfg.retain}, log)
	}()
	defer func() { stopJobs(); <-jobsDone }()
	return srv.Serve(ctx)
}

// serverConfig is the server's part of cfg. With scheduled resets and no
// notice of its own, readers are told their words will not last.
func serverConfig(cfg config, admins []server.AdminKey, log *slog.Logger) server.Config {
	notice := cfg.notice
	if notice == "" && cfg.resetEvery > 0 {
		notice = "A demo: comments and subscriptions are cleared every " + every(cfg.resetEvery) + "."
	}
	return server.Config{
		SSHAddr:            cfg.sshAddr,
		HTTPAddr:           cfg.httpAddr,
		DataDir:            cfg.dataDir,
		HostKey:            cfg.hostKey,
		Title:              cfg.title,
		Notice:             notice,
		Host:               displayHost(cfg.host, cfg.sshAddr),
		IdleTimeout:        cfg.idleTimeout,
		ReleaseMemoryAfter: cfg.releaseMemory,
		Caches:             server.SplitCacheBudget(int64(cfg.cacheMiB) << 20),
		MaxTimeout:         cfg.maxSession,
		ShutdownGrace:      cfg.shutdownGrace,
		AdminKeys:          admins,
		ConnLimits:         cfg.limits,
		ProxyProtocolFrom:  splitList(cfg.proxyFrom),
		Log:                log,
	}
}

// every says an interval in words: "24 hours", "hour", "90 minutes".
func every(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d%u.d == 0 {
			if n := d / u.d; n != 1 {
				return fmt.Sprintf("%d %ss", n, u.name)
			}
			return u.name
		}
	}
	return d.String()
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

// splitList reads a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
