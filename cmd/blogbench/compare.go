package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// child is a server this process started and will stop.
type child struct {
	cmd   *exec.Cmd
	addr  string // SSH
	pprof string // base URL, when the child serves pprof
	done  chan error
}

var (
	sshRe   = regexp.MustCompile(`\bssh=(\S+)`)
	pprofRe = regexp.MustCompile(`\bpprof=(\S+)`)
)

// startChild runs a server and reads its log until it says where it
// listens (ssh=ADDR, and pprof=ADDR when wantPprof); the rest of its log
// goes to logPath.
func startChild(name string, args []string, logPath string, wantPprof bool) (*child, error) {
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if c.addr != "" && (c.pprof != "" || !wantPprof) {
				continue
			}
			if m := pprofRe.FindStringSubmatch(sc.Text()); m != nil {
				c.pprof = "http://" + m[1]
			}
			if m := sshRe.FindStringSubmatch(sc.Text()); m != nil {
				c.addr = m[1]
			}
			if c.addr != "" && (c.pprof != "" || !wantPprof) {
				close(found)
			}
		}
		_, _ = io.Copy(logf, stderr)
		c.done <- cmd.Wait()
		logf.Close()
	}()
	select {
	case <-found:
		return c, checkLoopback(c.addr)
	case err := <-c.done:
		return nil, fmt.Errorf("%s exited before listening (%v); see %s", name, err, logPath)
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not say where it listens; see %s", name, logPath)
	}
}

// stop asks the child to shut down, then kills it after a grace period.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// compareConfig names the blog server to start and the runs to make.
type compareConfig struct {
	blog     string   // path of a blog binary, or "self" for blogbench serve
	blogArgs []string // more flags for it
	seed     int
	rounds   int
	run      Config // the blog's run; the baseline's is derived from it
	keep     bool   // keep the temporary directory
}

// compare measures the baseline and then the blog, each a child process
// with a fresh directory, one after the other, for each round.
func compare(ctx context.Context, cc compareConfig) (*Comparison, error) {
	tmp, err := os.MkdirTemp("", "blogbench-")
	if err != nil {
		return nil, err
	}
	if cc.keep {
		fmt.Fprintf(cc.run.Progress, "keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if cc.run.ProfileDir == "" {
		cc.run.ProfileDir = tmp
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{}
	for i := 1; i <= max(cc.rounds, 1); i++ {
		b := baselineRun(cc.run)
		b.Label = fmt.Sprintf("baseline-%d", i)
		base, err := measure(ctx, self, []string{"baseline-server", "--addr", "127.0.0.1:0", "--key-dir", tmp},
			filepath.Join(tmp, b.Label+".log"), false, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Label, err)
		}
		c := cc.run
		c.Label = fmt.Sprintf("blog-%d", i)
		dir := filepath.Join(tmp, c.Label)
		name, args := cc.blog, []string{"--data-dir", dir, "--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--web-addr", ""}
		if cc.blog == "self" {
			name, args = self, []string{"serve", "--data-dir", dir, "--seed", fmt.Sprint(cc.seed), "--slug", c.Slug}
		} else if err := seed(ctx, dir, c.Slug, cc.seed); err != nil {
			return nil, err
		}
		blog, err := measure(ctx, name, append(args, cc.blogArgs...), filepath.Join(tmp, c.Label+".log"), cc.blog == "self", c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Label, err)
		}
		cmp.Rounds = append(cmp.Rounds, Round{Baseline: base, Blog: blog})
	}
	return cmp, nil
}

// measure starts a server, runs c against it and stops it.
func measure(ctx context.Context, name string, args []string, logPath string, pprof bool, c Config) (*Report, error) {
	ch, err := startChild(name, args, logPath, pprof)
	if err != nil {
		return nil, err
	}
	defer ch.stop()
	c.Addr, c.PID, c.Pprof = ch.addr, ch.cmd.Process.Pid, ch.pprof
	r, err := Run(ctx, c)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (raise --timeout)", err)
	}
	return r, err
}

// baselineRun is the blog's run as the baseline can take it: the same
// sessions, idle time and writers, who broadcast a line to every session
// instead of commenting; nothing to press and no burst.
func baselineRun(c Config) Config {
	c.Label, c.Command, c.ReadyText = "baseline", "", baselineText
	c.Keys, c.WatchKeys, c.PostCommand, c.Burst = 0, "", broadcastCommand, 0
	return c
}
