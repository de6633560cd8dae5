package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is where the Dockerfile and go.mod live.
const moduleRoot = "../.."

// TestContainerBinary builds the binary with the Dockerfile's own build line,
// checks it is static (it must run on distroless/static), then runs it as
// the container would: serve, answer the healthcheck, stop cleanly on SIGTERM.
func TestContainerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image is Linux; its binary is checked on Linux")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "blog")
	build := dockerBuild(t, bin)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	checkStatic(t, bin)

	sshPort, httpPort := freePort(t), freePort(t)
	healthz := "http://127.0.0.1:" + httpPort + "/healthz"
	srv := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--ssh-addr", "127.0.0.1:"+sshPort,
		"--http-addr", "127.0.0.1:"+httpPort, "--web-addr", "127.0.0.1:0", "--reset-every", "24h", "--retain", "720h", "--shutdown-grace", "2s")
	exited, logs := startProcess(t, srv)

	waitHealthy(t, healthz, exited, logs)
	for _, args := range [][]string{{"--url", healthz}, {"--http-addr", "127.0.0.1:" + httpPort}} {
		if out, err := exec.Command(bin, append([]string{"healthcheck"}, args...)...).CombinedOutput(); err != nil {
			t.Errorf("blog healthcheck %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		srv.Process.Kill()
		<-exited // only then are the logs complete and safe to read
		t.Fatalf("still running 15s after SIGTERM\n%s", logs.String())
	}
	var exit *exec.ExitError
	if err := exec.Command(bin, "healthcheck", "--url", healthz).Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("healthcheck with the server gone: %v, want exit status 1", err)
	}
}

// dockerBuild is the Dockerfile's "go build" command, writing to bin.
func dockerBuild(t *testing.T, bin string) *exec.Cmd {
	t.Helper()
	df, err := os.ReadFile(filepath.Join(moduleRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for line := range strings.Lines(string(df)) {
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, " go build ") {
			words = shellWords(strings.TrimPrefix(line, "RUN "))
		}
	}
	// Skip RUN's own options (--mount=...), keep VAR=value, then the command.
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		words = words[1:]
	}
	var env []string
	for len(words) > 0 && strings.Contains(words[0], "=") {
		env, words = append(env, words[0]), words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("no \"RUN ... go build\" line in the Dockerfile (got %q)", words)
	}
	args := words[1:]
	for _, want := range []string{"-trimpath", "-ldflags=-s -w", "./cmd/blog"} {
		if !slices.Contains(args, want) {
			t.Errorf("the Dockerfile's go build lacks %q: %q", want, args)
		}
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile builds without CGO_ENABLED=0: %q", env)
	}
	i := slices.Index(args, "-o")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("the Dockerfile's go build has no -o: %q", args)
	}
	args[i+1] = bin
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// shellWords splits a command line as sh would, for the quoting a
// Dockerfile line uses (no escapes or expansions).
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// checkStatic fails unless bin needs no dynamic loader and no shared library.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q (%v)", libs, err)
	}
}

// freePort is a TCP port nothing listens on just now.
// startProcess starts cmd with its output in logs, reports its exit on
// exited, and kills it when the test ends (harmless once it has exited).
func startProcess(t *testing.T, cmd *exec.Cmd) (exited <-chan error, logs *bytes.Buffer) {
	t.Helper()
	logs = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return done, logs
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// waitHealthy polls url until it answers 200, failing if the server exits
// first or takes too long.
func waitHealthy(t *testing.T, url string, exited <-chan error, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the server exited (%v) before answering %s\n%s", err, url, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 20s: %v", url, err)
		}
	}
}
