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

	"blog/server"
)

// errUsage means the command line was wrong; the message is already out.
var errUsage = errors.New("usage")

// config is everything the subcommands can be told through flags that also
// read BLOG_* variables.
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
	releaseMemory time.Duration
	cacheMiB      int
	maxSession    time.Duration
	shutdownGrace time.Duration
	adminKeys     string
	adminKeysFile string
	logFormat     string
	logLevel      string
	resetEvery    time.Duration
	retain        time.Duration
	limits        server.ConnLimits
	proxyFrom     string
	newsletter    newsletterConfig
}

// envName is the environment variable behind a flag: --ssh-addr is
// BLOG_SSH_ADDR.
func envName(flagName string) string {
	return "BLOG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagSet is one subcommand's flags. Those defined by newFlagSet read their
// BLOG_* variable when the command line leaves them unset; flags added later
// (--yes, --for, --url) never do, so the environment cannot answer a
// question meant for the operator at the keyboard.
type flagSet struct {
	*flag.FlagSet
	help string
	env  map[string]bool
}

// newFlagSet defines the env-backed flags given by defs on a named set.
func newFlagSet(name, help string, c *config, defs ...func(*flag.FlagSet, *config)) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), help: help, env: map[string]bool{}}
	// Parse errors and help are printed by cli.parse, to the right stream.
	fs.SetOutput(io.Discard)
	for _, def := range defs {
		def(fs.FlagSet, c)
	}
	fs.VisitAll(func(f *flag.Flag) { fs.env[f.Name] = true })
	return fs
}

// storeFlags say which database to use and how to log.
func storeFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory for the host key and the embedded database")
	fs.StringVar(&c.databaseURL, "database-url", "", "Postgres URL (postgres://user@host/db); empty uses SQLite in the data dir")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 10, "most database connections this replica opens (Postgres)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// quietFlags are storeFlags for one-shot operator commands: their output is
// the answer, so the store's routine logs stay out of the way.
func quietFlags(fs *flag.FlagSet, c *config) {
	storeFlags(fs, c)
	f := fs.Lookup("log-level")
	f.DefValue = "warn"
	_ = f.Value.Set("warn")
}

func httpAddrFlag(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.httpAddr, "http-addr", ":23235", "address for /healthz, /readyz and /metrics; empty turns it off")
}

func serveFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.sshAddr, "ssh-addr", ":23234", "address the SSH server listens on")
	httpAddrFlag(fs, c)
	fs.StringVar(&c.hostKey, "host-key", "", "host key: a file path or the PEM itself, so replicas can share one (default: DATA-DIR/host_ed25519, made on first start)")
	fs.StringVar(&c.title, "title", "Notes from the Terminal", "the blog's title")
	fs.StringVar(&c.notice, "notice", "", `a banner over the post list, e.g. "A personal project: the database is cleared every 24 hours." (default with --reset-every: says how often)`)
	fs.StringVar(&c.host, "host", "", `what readers type after "ssh", shown in the interface (default: derived from --ssh-addr)`)
	fs.StringVar(&c.postsDir, "posts-dir", "", "serve the Markdown posts in this directory, reloading on change (default: the built-in posts)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 30*time.Minute, "close a connection after this long without traffic (0: never)")
	fs.DurationVar(&c.maxSession, "max-session", 6*time.Hour, "close any connection after this long (0: never)")
	fs.DurationVar(&c.releaseMemory, "release-memory-after", 10*time.Second, "after a burst of sessions, return free memory to the system once the server has been quiet this long (0: leave it to the Go runtime)")
	fs.IntVar(&c.cacheMiB, "cache-mib", server.DefaultCacheMiB, "memory, in MiB, the shared caches of rendered posts, drawn comments and comment pages may hold in all (older entries are dropped and redrawn when asked for)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long open sessions get to close")
	fs.StringVar(&c.adminKeys, "admin-keys", "", "moderators' public keys, authorized_keys lines separated by newlines; from=\"PATTERNS\" and expiry-time=\"YYYYMMDD[HHMM[SS]]\" are honoured, a line with another option is refused")
	fs.StringVar(&c.adminKeysFile, "admin-keys-file", "", "file of moderators' public keys in authorized_keys format (options as for --admin-keys)")
	fs.DurationVar(&c.resetEvery, "reset-every", 0, "delete all comments, subscriptions and names at every multiple of this interval since the Unix epoch, e.g. 24h: daily at 00:00 UTC (0: never)")
	fs.DurationVar(&c.retain, "retain", 0, "delete comments older than this, checked hourly (0: keep them)")
	// Behind a TCP load balancer every reader has the balancer's IP: raise
	// the per-IP limits there.
	fs.IntVar(&c.limits.MaxConns, "max-conns", 2000, "most SSH connections this replica holds; each session after a connection's first counts as one more")
	fs.IntVar(&c.limits.MaxConnsPerIP, "max-conns-per-ip", 20, "most SSH connections from one IP, counted the same way")
	fs.IntVar(&c.limits.ConnsPerMinute, "conns-per-minute", 60, "new SSH connections a minute from one IP")
	fs.DurationVar(&c.limits.HandshakeTimeout, "handshake-timeout", 10*time.Second, "time from accepting a connection to an open session")
	fs.DurationVar(&c.limits.WriteTimeout, "write-timeout", 30*time.Second, "close a connection whose client takes no output for this long")
	fs.StringVar(&c.proxyFrom, "proxy-protocol-from", "", "comma-separated addresses or CIDR ranges of TCP load balancers that send PROXY protocol headers (connections from there must carry one)")
}

// parseFlags parses args, letting flags follow positional arguments
// ("blog ban KEY --for 1h"), then lets BLOG_* variables fill the env-backed
// flags the command line left unset. It returns the positional arguments.
func parseFlags(fs *flagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// After "--" everything is positional.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || set[f.Name] || !fs.env[f.Name] {
			return
		}
		if err := f.Value.Set(v); err != nil && bad == nil {
			bad = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
		}
	})
	return pos, bad
}

// usage prints the command's help and its flags.
func usage(w io.Writer, fs *flagSet) {
	fmt.Fprintf(w, "%s\n", fs.help)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "\nFlags (those with [BLOG_...] also read that environment variable):\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "false" {
			def = " (default " + f.DefValue + ")"
		}
		env := ""
		if fs.env[f.Name] {
			env = "  [" + envName(f.Name) + "]"
		}
		fmt.Fprintf(w, "  --%s%s\n      %s%s\n", f.Name, env, f.Usage, def)
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

// newsletterConfig is the newsletter's part of the configuration.
type newsletterConfig struct {
	smtpURL      string
	mailFrom     string
	publicURL    string
	mailRate     float64
	webAddr      string
	dkimKey      string
	dkimSelector string
	dkimDomain   string
}

// mailFlags say how mail is built and sent (serve, newsletter send). The
// SMTP URL may hold a password: its flag has no default to print, and it is
// only ever shown redacted.
func mailFlags(fs *flag.FlagSet, c *config) {
	n := &c.newsletter
	fs.StringVar(&n.smtpURL, "smtp-url", "", "mail server, smtp://user:pass@host:587 (STARTTLS required unless the host is loopback) or smtps://...:465; empty writes each mail as an .eml file under DATA-DIR/mail")
	fs.StringVar(&n.mailFrom, "mail-from", "", `sender of the newsletter, e.g. "Notes <news@blog.example>" (default: newsletter@ the --public-url host)`)
	fs.StringVar(&n.publicURL, "public-url", "", "base of the links in mail, e.g. https://blog.example (default: http://localhost and the --web-addr port)")
	fs.StringVar(&n.dkimKey, "dkim-key", "", "DKIM private key (RSA or Ed25519 PEM) or a file holding it; empty: no DKIM signature")
	fs.StringVar(&n.dkimSelector, "dkim-selector", "", "DKIM selector (with --dkim-key)")
	fs.StringVar(&n.dkimDomain, "dkim-domain", "", "DKIM signing domain (default: the --mail-from domain)")
}

// newsletterFlags are serve's: the mail settings, the rate and the readers' pages.
func newsletterFlags(fs *flag.FlagSet, c *config) {
	mailFlags(fs, c)
	fs.Float64Var(&c.newsletter.mailRate, "mail-rate", 10, "most newsletter mails a second, shared by all replicas (0: no limit)")
	fs.StringVar(&c.newsletter.webAddr, "web-addr", ":23238", "address of the readers' web pages (/confirm, /unsubscribe); empty turns them off")
}
