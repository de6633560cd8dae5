package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The container's bind-mounted data dir may belong to another user and
// only be writable by ours. The server must start there, make its host key
// and database 0600, and leave the directory's owner and mode alone. It
// needs root to run the binary as another user; CI runs as root.
func TestDataDirOwnedByAnotherUser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs Linux and root, to run the server as another user")
	}
	t.Parallel()
	base := t.TempDir()
	// The server's user must reach the binary and the data dir.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(base, "blog")
	if out, err := dockerBuild(t, bin).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	const owner, server = 12345, 65532
	if err := os.Chown(dir, owner, owner); err != nil {
		t.Fatal(err)
	}
	sshPort, httpPort := freePort(t), freePort(t)
	srv := exec.Command(bin, "serve", "--data-dir", dir, "--ssh-addr", "127.0.0.1:"+sshPort,
		"--http-addr", "127.0.0.1:"+httpPort, "--web-addr", "127.0.0.1:0", "--shutdown-grace", "1s")
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: server, Gid: server}}
	exited, logs := startProcess(t, srv)
	waitHealthy(t, "http://127.0.0.1:"+httpPort+"/healthz", exited, logs)
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o777 || st.Uid != owner {
		t.Errorf("data dir is now mode %o, owner %d; want 777, %d left alone", fi.Mode().Perm(), st.Uid, owner)
	}
	for _, name := range []string{"host_ed25519", "blog.db"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, logs.String())
		}
		if fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != server {
			t.Errorf("%s: mode %o, owner %d; want 600, %d", name, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, server)
		}
	}
}
