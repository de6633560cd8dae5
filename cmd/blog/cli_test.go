package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/data/sqlite"

	"github.com/spf13/pflag"
)

// TestMain keeps the operator's BLOG_* settings out of the tests: every
// test names its database on the command line.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "BLOG_") && name != pgtest.EnvURL {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

// result is what one run of the command did.
type result struct {
	code        int
	out, errOut string
}

// blog runs the command line in process.
func blog(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := result{}
	if err := run(ctx, args, &out, &errOut); err != nil {
		r.code = exitCode(err)
		if r.code != 2 {
			errOut.WriteString("blog: " + err.Error() + "\n")
		}
	}
	r.out, r.errOut = out.String(), errOut.String()
	return r
}

// ok runs the command line and fails the test unless it succeeds.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := blog(t, args...)
	if r.code != 0 {
		t.Fatalf("blog %s: exit %d\n%s", strings.Join(args, " "), r.code, r.errOut)
	}
	return r.out
}

// backend is one database the operator commands can act on: flags naming
// it, and a store of the test's own on it.
type backend struct {
	flags []string
	store data.Store
}

// on runs f against SQLite and, when the test server is configured,
// Postgres.
func on(t *testing.T, f func(t *testing.T, b backend)) {
	opt := data.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The test's store writes a lot from one key and IP.
		Limits: data.Limits{CommentPerKey: data.RateLimit{Count: -1}, CommentPerIP: data.RateLimit{Count: -1},
			SubscribePerKey: data.RateLimit{Count: -1}, SubscribePerIP: data.RateLimit{Count: -1}},
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st, err := sqlite.Open(context.Background(), filepath.Join(dir, "blog.db"), opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, backend{flags: []string{"--data-dir", dir}, store: st})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.NewDatabase(t)
		st, err := postgres.Open(context.Background(), url, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, backend{flags: []string{"--database-url", url}, store: st})
	})
}

// fingerprint is a well-formed key fingerprint made from name.
func fingerprint(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func addComment(t *testing.T, st data.Store, slug, key, body string) data.Comment {
	t.Helper()
	c, err := st.AddComment(context.Background(), data.NewComment{
		PostSlug: slug, Name: "Ada", Body: body, Author: data.Author{KeyFingerprint: key, IP: "192.0.2.7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"frob"}, {"comments"}, {"comments", "frob"}, {"subscribers"}, {"subscribers", "frob"},
		{"subscribers", "import"}, {"newsletter"}, {"newsletter", "frob"}, {"newsletter", "send"}, {"help", "frob"}} {
		if r := blog(t, args...); r.code != 2 || r.errOut == "" {
			t.Errorf("blog %s: exit %d, stderr %q; want 2 and an explanation", strings.Join(args, " "), r.code, r.errOut)
		}
	}
}

func TestHelp(t *testing.T) {
	commands := [][]string{{"serve"}, {"migrate"}, {"comments"}, {"comments", "list"}, {"comments", "hide"},
		{"comments", "unhide"}, {"comments", "delete"}, {"ban"}, {"unban"}, {"bans"}, {"subscribers"},
		{"subscribers", "export"}, {"subscribers", "import"}, {"newsletter"}, {"newsletter", "status"},
		{"newsletter", "send"}, {"reset"}, {"healthcheck"}}
	for _, cmd := range commands {
		name := strings.Join(cmd, " ")
		for _, help := range []string{"--help", "-h"} {
			r := blog(t, append(cmd, help)...)
			if r.code != 0 || !strings.HasPrefix(r.out, "blog") || r.errOut != "" {
				t.Errorf("blog %s %s: exit %d, stdout %.40q, stderr %q; want 0 and help on stdout", name, help, r.code, r.out, r.errOut)
			}
		}
	}
	if out := ok(t, "help", "ban"); !strings.Contains(out, "--for") {
		t.Errorf("blog help ban does not describe --for:\n%s", out)
	}
	if out := ok(t, "help"); !strings.Contains(out, "subscribers export") || !strings.Contains(out, "BLOG_RESET_EVERY") {
		t.Errorf("blog help lacks the commands or the serve flags:\n%s", out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bans", "--nope"}, {"bans", "extra"}, {"ban"}, {"ban", "a", "b"}, {"ban", "SHA256:short"},
		{"ban", "ssh-ed25519 AAAAC3"}, {"ban", "10.0.0.0/8"}, {"ban", "1.2.3.4", "--for", "-1h"},
		{"ban", "1.2.3.4", "--for", "soon"}, {"comments", "hide"}, {"comments", "hide", "x"},
		{"comments", "delete", "0"}, {"comments", "list", "--post"}, {"serve", "--retain", "-1h"},
		{"serve", "stray"},
	} {
		if r := blog(t, args...); r.code != 2 || !strings.Contains(r.errOut, "--help") {
			t.Errorf("blog %s: exit %d, stderr %q; want 2 and a pointer to --help", strings.Join(args, " "), r.code, r.errOut)
		}
	}
}

// TestEnvironment: shared flags read BLOG_*; a command's own flags never do,
// so BLOG_YES cannot confirm a reset.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BLOG_DATA_DIR", dir)
	t.Setenv("BLOG_YES", "true")
	if r := blog(t, "bans"); r.code != 1 || !strings.Contains(r.errOut, "no database at "+filepath.Join(dir, "blog.db")) {
		t.Errorf("bans before any database: exit %d, stderr %q; want 1, no database in BLOG_DATA_DIR", r.code, r.errOut)
	}
	ok(t, "migrate")
	ok(t, "ban", "192.0.2.9")
	if r := blog(t, "reset"); r.code != 2 {
		t.Errorf("blog reset with BLOG_YES set: exit %d; want 2 (refused)", r.code)
	}
	t.Setenv("BLOG_DB_MAX_CONNS", "many")
	if r := blog(t, "bans"); r.code != 2 || !strings.Contains(r.errOut, "BLOG_DB_MAX_CONNS") {
		t.Errorf("bad BLOG_DB_MAX_CONNS: exit %d, stderr %q; want 2 naming the variable", r.code, r.errOut)
	}
}

func TestEvery(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24 hours", time.Hour: "hour", 90 * time.Minute: "90 minutes",
		time.Minute: "minute", 45 * time.Second: "45 seconds", 1500 * time.Millisecond: "1.5s",
	} {
		if got := every(d); got != want {
			t.Errorf("every(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		":23235":         "http://127.0.0.1:23235/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"10.1.2.3:23235": "http://10.1.2.3:23235/healthz",
	} {
		if got, err := healthURL(addr); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := healthURL(""); err == nil {
		t.Error("healthURL(\"\") gave no error; the HTTP side is off")
	}
}

// TestServerConfig: flags reach the server, and scheduled resets bring a
// notice unless the operator wrote one.
func TestServerConfig(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		notice string
	}{
		{nil, ""},
		{[]string{"--reset-every", "24h"}, "A demo: comments and subscriptions are cleared every 24 hours."},
		{[]string{"--reset-every", "1h", "--notice", "Mine."}, "Mine."},
	} {
		var cfg config
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		envFlags(fs, &cfg, storeFlags, serveFlags)
		args := append(tc.args, "--max-conns-per-ip", "500")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := readEnv(fs); err != nil {
			t.Fatal(err)
		}
		sc := serverConfig(cfg, nil, nil)
		if sc.Notice != tc.notice || sc.ConnLimits.MaxConnsPerIP != 500 || sc.ConnLimits.MaxConns != 2000 {
			t.Errorf("%q: notice %q, limits %+v; want notice %q and 500 per IP", tc.args, sc.Notice, sc.ConnLimits, tc.notice)
		}
	}
}
