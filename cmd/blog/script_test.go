package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	gossh "golang.org/x/crypto/ssh"
)

// scriptKeys are the readers' SSH keys the scripts can sign in with
// ("ssh -key ada ..."). Each is also in the scripts' environment: ADA_FP is
// its fingerprint, ADA_FP_RE the same as a regular expression (it may hold
// "+"), ADA_PUB its authorized_keys line.
var scriptKeys = []string{"ada", "bob", "mod"}

// TestScripts runs the command-surface stories in testdata/script, one
// file a story, against the real binary: "exec blog" runs cmd/blog as built
// for the run. Every script gets its own work directory, free loopback
// ports in SSH_ADDR and HTTP_ADDR, and an environment without the
// operator's BLOG_* settings. Besides testscript's own commands the scripts
// have ssh, await, exits and serving, written below.
func TestScripts(t *testing.T) {
	bin := buildBlog(t)
	keys := map[string]gossh.Signer{}
	for _, name := range scriptKeys {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if keys[name], err = gossh.NewSignerFromKey(priv); err != nil {
			t.Fatal(err)
		}
	}
	ssh := func(ts *testscript.TestScript, args []string) int {
		return sshRun(ts, keys, args, ts.Stdout(), ts.Stderr())
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
			for _, v := range []string{"SSH_ADDR", "HTTP_ADDR"} {
				addr, err := freeAddr()
				if err != nil {
					return err
				}
				e.Setenv(v, addr)
			}
			for name, k := range keys {
				v := strings.ToUpper(name)
				fp := gossh.FingerprintSHA256(k.PublicKey())
				e.Setenv(v+"_FP", fp)
				e.Setenv(v+"_FP_RE", regexp.QuoteMeta(fp))
				e.Setenv(v+"_PUB", strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.PublicKey()))))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"ssh": func(ts *testscript.TestScript, neg bool, args []string) {
				status := ssh(ts, args)
				switch {
				case neg && status == 0:
					ts.Fatalf("ssh %s: unexpected success", strings.Join(args, " "))
				case !neg && status != 0:
					ts.Fatalf("ssh %s: exit status %d", strings.Join(args, " "), status)
				}
			},
			"exits":   cmdExits(ssh),
			"serving": cmdServing,
			"await":   cmdAwait(keys),
		},
	})
}

// buildBlog builds the blog binary into a directory of its own and returns
// that directory. It is built without -race even when the tests have it:
// a race-enabled binary takes three times as long to start, the scripts
// start it a hundred times, and the in-process tests run the same code
// under the race detector.
func buildBlog(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "blog"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	return dir
}

// freeAddr is a loopback address nothing listens on just now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// clientConfig signs in as user without a key, as a reader with none does:
// keyboard-interactive with no questions answered.
func clientConfig(user string) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:            user,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
		Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return nil, nil
		})},
	}
}

// sshRun is the script command "ssh [-key NAME] [-stdin FILE] COMMAND...":
// one exec request to the server at $SSH_ADDR, signed in with the named key
// or, without -key, with none (keyboard-interactive, as a reader without a
// key). The command's output goes to stdout and stderr (for the script's
// own, ts.Stdout and ts.Stderr); it returns the exit status.
func sshRun(ts *testscript.TestScript, keys map[string]gossh.Signer, args []string, stdout, stderr io.Writer) int {
	conf := clientConfig("reader")
	stdin := ""
options:
	for len(args) >= 2 {
		switch args[0] {
		case "-key":
			k, ok := keys[args[1]]
			if !ok {
				ts.Fatalf("ssh: no key %q (have %q)", args[1], scriptKeys)
			}
			conf.Auth = []gossh.AuthMethod{gossh.PublicKeys(k)}
		case "-stdin":
			stdin = ts.ReadFile(args[1])
		default:
			break options
		}
		args = args[2:]
	}
	client, err := gossh.Dial("tcp", ts.Getenv("SSH_ADDR"), conf)
	ts.Check(err)
	defer client.Close()
	// A command that never ends fails the script rather than hanging it.
	stop := time.AfterFunc(30*time.Second, func() { client.Close() })
	defer stop.Stop()
	sess, err := client.NewSession()
	ts.Check(err)
	defer sess.Close()
	sess.Stdin = strings.NewReader(stdin)
	sess.Stdout, sess.Stderr = stdout, stderr
	err = sess.Run(shellQuote(args))
	var exit *gossh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitStatus()
	}
	ts.Fatalf("ssh %s: %v", strings.Join(args, " "), err)
	return -1
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote joins args into the one command line an exec request carries,
// quoting each as the server will split it.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if plainWord.MatchString(a) {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// cmdExits is the script command "exits STATUS COMMAND [ARGS...]": it runs
// the program COMMAND (or the script's ssh command) and wants exactly that
// exit status, where "! exec" would take any failure.
func cmdExits(ssh func(*testscript.TestScript, []string) int) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exits STATUS COMMAND [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		ts.Check(err)
		got := 0
		if args[1] == "ssh" {
			got = ssh(ts, args[2:])
		} else if err := ts.Exec(args[1], args[2:]...); err != nil {
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				ts.Fatalf("%s: %v", args[1], err)
			}
			got = exit.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s: exit status %d, want %d", strings.Join(args[1:], " "), got, want)
		}
	}
}

// cmdAwait is the script command "await PATTERN ssh ARGS...": it repeats
// the ssh command until its stdout matches PATTERN, for at most 10 seconds.
// An operator's change reaches a running server's readers within about a
// second (the server polls the database for other processes' writes), so a
// script that changes something from the command line awaits what readers
// then see.
func cmdAwait(keys map[string]gossh.Signer) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 3 || args[1] != "ssh" {
			ts.Fatalf("usage: await PATTERN ssh ARGS...")
		}
		re, err := regexp.Compile("(?m)" + args[0])
		ts.Check(err)
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var stdout, stderr strings.Builder
			status := sshRun(ts, keys, args[2:], &stdout, &stderr)
			if status == 0 && re.MatchString(stdout.String()) {
				fmt.Fprint(ts.Stdout(), stdout.String())
				fmt.Fprint(ts.Stderr(), stderr.String())
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("ssh %s: no stdout matching %q within 10s (exit status %d); last:\n%s%s",
					strings.Join(args[2:], " "), args[0], status, stdout.String(), stderr.String())
			}
			<-tick.C
		}
	}
}

// cmdServing is the script command "serving": it waits until the server at
// $SSH_ADDR completes SSH handshakes, polling, for at most 30 seconds.
func cmdServing(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 0 {
		ts.Fatalf("usage: serving")
	}
	addr := ts.Getenv("SSH_ADDR")
	conf := clientConfig("probe")
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		client, err := gossh.Dial("tcp", addr, conf)
		if err == nil {
			client.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no SSH server at %s within 30s: %v", addr, err)
		}
		<-tick.C
	}
}
