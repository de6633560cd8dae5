package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"blog/data"
	"blog/server"

	"github.com/spf13/pflag"
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
	// commentsPerKey and commentsPerIP are comments a minute; zero keeps
	// data.DefaultLimits (the operator commands have no such flags).
	commentsPerKey int
	commentsPerIP  int
	proxyFrom      string
	newsletter     newsletterConfig
}

// envName is the environment variable behind a flag: --ssh-addr is
// BLOG_SSH_ADDR.
func envName(flagName string) string {
	return "BLOG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envAnnotation marks a flag that reads its BLOG_* variable; the value is
// the variable's name.
const envAnnotation = "blog-env"

// envFlags defines the flags given by defs on fs and marks each of them as
// read from its BLOG_* variable. Flags a command adds itself (--yes, --for,
// --url) are not marked, so the environment cannot answer a question meant
// for the operator at the keyboard.
func envFlags(fs *pflag.FlagSet, c *config, defs ...func(*pflag.FlagSet, *config)) {
	for _, def := range defs {
		def(fs, c)
	}
	fs.VisitAll(func(f *pflag.Flag) {
		_ = fs.SetAnnotation(f.Name, envAnnotation, []string{envName(f.Name)})
	})
}

// flagEnv is the variable a flag reads, or "" if it reads none.
func flagEnv(f *pflag.Flag) string {
	if v := f.Annotations[envAnnotation]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// readEnv gives every env-backed flag that the command line left unset the
// value of its BLOG_* variable, so a flag wins over the variable and the
// variable over the default.
func readEnv(fs *pflag.FlagSet) error {
	var bad error
	fs.VisitAll(func(f *pflag.Flag) {
		name := flagEnv(f)
		if name == "" || f.Changed || bad != nil {
			return
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			bad = fmt.Errorf("%s=%q: %s", name, v, valueProblem(f, err))
		}
	})
	return bad
}

// valueProblem says what a flag wants when a value did not parse: the
// parsers' own errors ("strconv.ParseInt: parsing ...") are not for people.
func valueProblem(f *pflag.Flag, err error) string {
	switch f.Value.Type() {
	case "duration":
		return "want a duration, e.g. 90s, 30m or 24h"
	case "int":
		return "want a whole number"
	case "float64":
		return "want a number"
	case "bool":
		return "want true or false"
	}
	return err.Error()
}

// flagError words a command-line parse error as the operator typed it.
func flagError(err error) string {
	var notExist *pflag.NotExistError
	var noValue *pflag.ValueRequiredError
	var invalid *pflag.InvalidValueError
	switch {
	case errors.As(err, &notExist):
		if group := notExist.GetSpecifiedShortnames(); group != "" {
			return "flag provided but not defined: -" + group
		}
		return "flag provided but not defined: --" + notExist.GetSpecifiedName()
	case errors.As(err, &noValue):
		return "flag needs an argument: --" + noValue.GetFlag().Name
	case errors.As(err, &invalid):
		return fmt.Sprintf("invalid value %q for flag --%s: %s", invalid.GetValue(), invalid.GetFlag().Name,
			valueProblem(invalid.GetFlag(), invalid.Unwrap()))
	}
	return err.Error()
}

// storeFlags say which database to use and how to log.
func storeFlags(fs *pflag.FlagSet, c *config) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory for the host key and the embedded database")
	fs.StringVar(&c.databaseURL, "database-url", "", "Postgres URL (postgres://user@host/db); empty uses SQLite in the data dir")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 10, "most database connections this replica opens (Postgres)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// quietFlags are storeFlags for one-shot operator commands: their output is
// the answer, so the store's routine logs stay out of the way.
func quietFlags(fs *pflag.FlagSet, c *config) {
	storeFlags(fs, c)
	f := fs.Lookup("log-level")
	f.DefValue = "warn"
	_ = f.Value.Set("warn")
}

func httpAddrFlag(fs *pflag.FlagSet, c *config) {
	fs.StringVar(&c.httpAddr, "http-addr", ":23235", "address for /healthz, /readyz and /metrics; empty turns it off")
}

func serveFlags(fs *pflag.FlagSet, c *config) {
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
	def := data.DefaultLimits()
	fs.IntVar(&c.commentsPerKey, "comments-per-key", def.CommentPerKey.Count, "comments a minute from one key, counted across replicas")
	fs.IntVar(&c.commentsPerIP, "comments-per-ip", def.CommentPerIP.Count, "comments a minute from one IP, counted across replicas")
	fs.DurationVar(&c.limits.HandshakeTimeout, "handshake-timeout", 10*time.Second, "time from accepting a connection to an open session")
	fs.DurationVar(&c.limits.WriteTimeout, "write-timeout", 30*time.Second, "close a connection whose client takes no output for this long")
	fs.StringVar(&c.proxyFrom, "proxy-protocol-from", "", "comma-separated addresses or CIDR ranges of TCP load balancers that send PROXY protocol headers (connections from there must carry one)")
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
func mailFlags(fs *pflag.FlagSet, c *config) {
	n := &c.newsletter
	fs.StringVar(&n.smtpURL, "smtp-url", "", "mail server, smtp://user:pass@host:587 (STARTTLS required unless the host is loopback) or smtps://...:465; empty writes each mail as an .eml file under DATA-DIR/mail")
	fs.StringVar(&n.mailFrom, "mail-from", "", `sender of the newsletter, e.g. "Notes <news@blog.example>" (default: newsletter@ the --public-url host)`)
	fs.StringVar(&n.publicURL, "public-url", "", "base of the links in mail, e.g. https://blog.example (default: http://localhost and the --web-addr port)")
	fs.StringVar(&n.dkimKey, "dkim-key", "", "DKIM private key (RSA or Ed25519 PEM) or a file holding it; empty: no DKIM signature")
	fs.StringVar(&n.dkimSelector, "dkim-selector", "", "DKIM selector (with --dkim-key)")
	fs.StringVar(&n.dkimDomain, "dkim-domain", "", "DKIM signing domain (default: the --mail-from domain)")
}

// newsletterFlags are serve's: the mail settings, the rate and the readers' pages.
func newsletterFlags(fs *pflag.FlagSet, c *config) {
	mailFlags(fs, c)
	fs.Float64Var(&c.newsletter.mailRate, "mail-rate", 10, "most newsletter mails a second, shared by all replicas (0: no limit)")
	fs.StringVar(&c.newsletter.webAddr, "web-addr", ":23238", "address of the readers' web pages (/confirm, /unsubscribe); empty turns them off")
}
