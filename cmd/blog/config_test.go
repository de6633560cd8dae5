package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestFlagWinsOverEnvironment: for every env-backed setting the command
// line wins over the variable and the variable over the default; a flag a
// command adds itself never reads a variable.
func TestFlagWinsOverEnvironment(t *testing.T) {
	parse := func(args ...string) (config, bool) {
		t.Helper()
		var cfg config
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		envFlags(fs, &cfg, storeFlags, serveFlags)
		yes := fs.Bool("yes", false, "a question for the operator")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := readEnv(fs); err != nil {
			t.Fatal(err)
		}
		return cfg, *yes
	}
	if cfg, _ := parse(); cfg.sshAddr != ":23234" || cfg.idleTimeout != 30*time.Minute || cfg.logLevel != "info" {
		t.Errorf("defaults: ssh %q, idle %s, log level %q", cfg.sshAddr, cfg.idleTimeout, cfg.logLevel)
	}
	t.Setenv("BLOG_SSH_ADDR", "127.0.0.1:2222")
	t.Setenv("BLOG_IDLE_TIMEOUT", "5m")
	t.Setenv("BLOG_YES", "true")
	if cfg, yes := parse(); cfg.sshAddr != "127.0.0.1:2222" || cfg.idleTimeout != 5*time.Minute || yes {
		t.Errorf("from the environment: ssh %q, idle %s, yes %v; want the variables and no yes", cfg.sshAddr, cfg.idleTimeout, yes)
	}
	if cfg, _ := parse("--ssh-addr", "127.0.0.1:3333", "--idle-timeout=1m"); cfg.sshAddr != "127.0.0.1:3333" || cfg.idleTimeout != time.Minute {
		t.Errorf("flags and variables: ssh %q, idle %s; want the flags", cfg.sshAddr, cfg.idleTimeout)
	}
	// A flag set to its default still wins.
	if cfg, _ := parse("--ssh-addr", ":23234"); cfg.sshAddr != ":23234" {
		t.Errorf("--ssh-addr at its default: %q; want the flag over BLOG_SSH_ADDR", cfg.sshAddr)
	}
	// Through the binary: the flag's data dir is the one looked in.
	flagDir, envDir := t.TempDir(), t.TempDir()
	t.Setenv("BLOG_DATA_DIR", envDir)
	if r := blog(t, "bans", "--data-dir", flagDir); r.code != 1 || !strings.Contains(r.errOut, filepath.Join(flagDir, "blog.db")) {
		t.Errorf("bans --data-dir with BLOG_DATA_DIR set: exit %d, stderr %q; want the flag's directory", r.code, r.errOut)
	}
}

// TestBadEnvironment: a variable that does not parse is a usage error that
// names the variable and says what it wants.
func TestBadEnvironment(t *testing.T) {
	for name, value := range map[string]string{
		"BLOG_IDLE_TIMEOUT": "soon", "BLOG_MAX_CONNS": "many", "BLOG_MAIL_RATE": "fast",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			r := blog(t, "serve", "--data-dir", t.TempDir())
			if r.code != 2 || !strings.Contains(r.errOut, name+`="`+value+`": want a`) || !strings.Contains(r.errOut, "--help") {
				t.Errorf("%s=%s: exit %d, stderr %q; want 2, naming the variable and what it wants", name, value, r.code, r.errOut)
			}
		})
	}
}

// TestHelpListsEveryFlag: serve --help shows every flag with its variable
// and its default, and the flags a command adds itself without a variable.
func TestHelpListsEveryFlag(t *testing.T) {
	out := ok(t, "serve", "--help")
	var cfg config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	envFlags(fs, &cfg, storeFlags, serveFlags, newsletterFlags)
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(out, "  --"+f.Name+"  ["+envName(f.Name)+"]\n      "+f.Usage) {
			t.Errorf("serve --help lacks --%s with %s and its text", f.Name, envName(f.Name))
		}
	})
	for _, want := range []string{"(default :23234)", "(default 30m0s)", "(default Notes from the Terminal)", "(default ./data)"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	if strings.Contains(out, "  --help") {
		t.Errorf("serve --help lists --help itself:\n%s", out)
	}
	out = ok(t, "reset", "--help")
	if !strings.Contains(out, "  --yes\n      really delete\n") || strings.Contains(out, "BLOG_YES") {
		t.Errorf("reset --help: --yes should be listed without a variable:\n%s", out)
	}
}

// TestDoubleDashes: the one-dash spelling Go's flag package took still
// works, and values and arguments after "--" are left as they are.
func TestDoubleDashes(t *testing.T) {
	fs := pflag.NewFlagSet("ban", pflag.ContinueOnError)
	fs.Duration("for", 0, "")
	fs.String("reason", "", "")
	fs.Bool("json", false, "")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-for", "1h", "X"}, []string{"--for", "1h", "X"}},
		{[]string{"-for=1h", "-json", "-help"}, []string{"--for=1h", "--json", "--help"}},
		{[]string{"--reason", "-for", "-json", "X"}, []string{"--reason", "-for", "--json", "X"}},
		{[]string{"-reason=-for", "-for", "-1h"}, []string{"--reason=-for", "--for", "-1h"}},
		{[]string{"-h", "-nope", "-1h"}, []string{"-h", "-nope", "-1h"}},
		{[]string{"X", "--", "-for", "-json"}, []string{"X", "--", "-for", "-json"}},
	} {
		if got := doubleDashes(fs, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("doubleDashes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	dir := t.TempDir()
	ok(t, "migrate", "-data-dir", dir)
	if out := ok(t, "ban", "-for", "1h", "192.0.2.3", "-data-dir", dir); !strings.Contains(out, "banned 192.0.2.3") {
		t.Errorf("ban with one-dash flags said %q", out)
	}
	if out := ok(t, "serve", "-help"); !strings.Contains(out, "BLOG_SSH_ADDR") {
		t.Errorf("serve -help:\n%s", out)
	}
}

// TestFlagErrors: the library's parse errors are worded for the operator,
// with the flag as typed.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bans", "--nope"}, "blog bans: flag provided but not defined: --nope\n"},
		{[]string{"bans", "-nope"}, "blog bans: flag provided but not defined: -nope\n"},
		{[]string{"ban", "1.2.3.4", "--for"}, "blog ban: flag needs an argument: --for\n"},
		{[]string{"ban", "1.2.3.4", "--for", "soon"}, `blog ban: invalid value "soon" for flag --for: want a duration, e.g. 90s, 30m or 24h` + "\n"},
		{[]string{"comments", "list", "--json=maybe"}, `blog comments list: invalid value "maybe" for flag --json: want true or false` + "\n"},
		{[]string{"serve", "--max-conns", "many"}, `blog serve: invalid value "many" for flag --max-conns: want a whole number` + "\n"},
	} {
		r := blog(t, tc.args...)
		if r.code != 2 || !strings.HasPrefix(r.errOut, tc.want) {
			t.Errorf("blog %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), r.code, r.errOut, tc.want)
		}
	}
}
