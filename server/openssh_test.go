package server_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenSSHClient talks to the server with the real ssh binary, as
// readers do, without a terminal.
func TestOpenSSHClient(t *testing.T) {
	bin, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ssh client missing in CI")
		}
		t.Skip("no ssh client installed (apt-get install openssh-client)")
	}
	ts := startServer(t, serverOpts{})
	host, port, _ := net.SplitHostPort(ts.addr)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	gen := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Skipf("ssh-keygen: %v %s", err, out)
	}
	run := func(args ...string) (string, error) {
		base := []string{"-F", "/dev/null", "-p", port, "-i", keyPath, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"), "-o", "IdentitiesOnly=yes", host}
		out, err := exec.Command(bin, append(base, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := run("ls")
	if err != nil || !strings.Contains(out, goPost) {
		t.Fatalf("ssh ls: %v\n%s", err, out)
	}
	out, err = run("comment", goPost, "--name", "openssh")
	if err == nil || !strings.Contains(out, "is empty") {
		t.Fatalf("empty comment over ssh: %v\n%s", err, out)
	}
	out, err = run("nope")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(out, "unknown command") {
		t.Fatalf("unknown command over ssh: %v\n%s", err, out)
	}
}
