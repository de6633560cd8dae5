package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// errUsage means the command line was wrong; the message is already out.
var errUsage = errors.New("usage")

// config is everything `blog serve` can be told.
type config struct {
	sshAddr       string
	httpAddr      string
	dataDir       string
	hostKey       string
	title         string
	notice        string
	host          string
	postsDir      string
	databaseURL   string
	dbMaxConns    int
	idleTimeout   time.Duration
	maxSession    time.Duration
	shutdownGrace time.Duration
	adminKeys     string
	adminKeysFile string
	logFormat     string
	logLevel      string
}

// envName is the environment variable behind a flag: --ssh-addr is
// BLOG_SSH_ADDR.
func envName(flagName string) string {
	return "BLOG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet defines the shared flags on a named flag set.
func newFlagSet(name string, c *config, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory for the host key and the embedded database")
	fs.StringVar(&c.databaseURL, "database-url", "", "Postgres URL (postgres://user@host/db); empty uses SQLite in the data dir")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 10, "most database connections this replica opens (Postgres)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() { usage(fs, summary) }
	return fs
}

func defineServeFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.sshAddr, "ssh-addr", ":23234", "address the SSH server listens on")
	fs.StringVar(&c.httpAddr, "http-addr", ":23235", "address for /healthz, /readyz and /metrics; empty turns it off")
	fs.StringVar(&c.hostKey, "host-key", "", "host key: a file path or the PEM itself, so replicas can share one (default: DATA-DIR/host_ed25519, made on first start)")
	fs.StringVar(&c.title, "title", "Notes from the Terminal", "the blog's title")
	fs.StringVar(&c.notice, "notice", "", `a banner over the post list, e.g. "A personal project: the database is cleared every 24 hours."`)
	fs.StringVar(&c.host, "host", "", `what readers type after "ssh", shown in the interface (default: derived from --ssh-addr)`)
	fs.StringVar(&c.postsDir, "posts-dir", "", "serve the Markdown posts in this directory, reloading on change (default: the built-in posts)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 30*time.Minute, "close a connection after this long without traffic (0: never)")
	fs.DurationVar(&c.maxSession, "max-session", 6*time.Hour, "close any connection after this long (0: never)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long open sessions get to close")
	fs.StringVar(&c.adminKeys, "admin-keys", "", "moderators' public keys, authorized_keys lines separated by newlines")
	fs.StringVar(&c.adminKeysFile, "admin-keys-file", "", "file of moderators' public keys in authorized_keys format")
}

// parse reads flags, letting BLOG_* variables fill what the command line
// left unset.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || set[f.Name] {
			return
		}
		if err := f.Value.Set(v); err != nil && bad == nil {
			bad = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
		}
	})
	return bad
}

func usage(fs *flag.FlagSet, summary string) {
	w := fs.Output()
	fmt.Fprintf(w, "%s\n\nFlags (each also read from its environment variable):\n", summary)
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
	})
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q", format)
}
