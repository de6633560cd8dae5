package server_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/internal/termclient"
	"blog/posts"
	"blog/server"
)

// benchSessions is how many sessions a memory benchmark holds open.
const benchSessions = 200

const benchPost = "go-for-backend-services"

// BenchmarkSessionMemory opens benchSessions PTY sessions against an
// in-process server and reports what each costs the server while idle:
// heap and stacks after a GC, goroutines, scheduler wakeups and CPU. The
// clients run in a child process so their memory is not counted.
func BenchmarkSessionMemory(b *testing.B) {
	for _, sc := range []struct{ name, command string }{
		{"home", ""},
		{"reader", "read " + benchPost},
	} {
		b.Run(sc.name, func(b *testing.B) {
			addr := benchServer(b)
			var heap, live, stack, gor, wake, cpu float64
			for b.Loop() {
				m0 := liveMemory()
				stop := benchClients(b, addr, sc.command)
				m1 := liveMemory()
				saveProfiles(b, sc.name)
				heap = float64(m1.HeapInuse-m0.HeapInuse) / benchSessions
				live = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / benchSessions
				stack = float64(m1.StackInuse-m0.StackInuse) / benchSessions
				gor = float64(m1.goroutines-m0.goroutines) / benchSessions
				wake, cpu = idleWindow(2 * time.Second)
				stop()
				waitGoroutines(m0.goroutines + 10)
			}
			b.ReportMetric(heap+stack, "B/session")
			b.ReportMetric(heap, "heapB/session")
			// Live bytes, without the part-used spans heapB counts: a steadier
			// figure to compare changes of a few hundred bytes by.
			b.ReportMetric(live, "liveB/session")
			b.ReportMetric(stack, "stackB/session")
			b.ReportMetric(gor, "goroutines/session")
			b.ReportMetric(wake/benchSessions, "wakeups/s/session")
			b.ReportMetric(cpu*1000/benchSessions, "%core/1000sessions")
		})
	}
}

// benchServer runs the blog in-process with 50 comments on the Go post
// and no per-IP connection caps (every client is 127.0.0.1).
func benchServer(b *testing.B) string {
	b.Helper()
	log := quietLog()
	lots := data.RateLimit{Count: 1 << 30, Window: time.Second}
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "blog.db"), data.Options{
		Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots}, Logger: log,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for i := range 50 {
		if _, err := st.AddComment(context.Background(), data.NewComment{PostSlug: benchPost, Name: "Reader",
			Body:   fmt.Sprintf("Comment %d: a reply of ordinary length, a sentence or two about the post.", i),
			Author: data.Author{KeyFingerprint: fmt.Sprint("SHA256:bench", i%7), IP: "192.0.2.1"}}); err != nil {
			b.Fatal(err)
		}
	}
	lib, err := posts.Embedded(log)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{
		SSHAddr: "127.0.0.1:0", DataDir: b.TempDir(), Title: "Bench Blog", ShutdownGrace: time.Second, Log: log,
		ConnLimits: server.ConnLimits{MaxConns: 1 << 20, MaxConnsPerIP: 1 << 20, ConnsPerMinute: 1 << 30},
	}, lib, st)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return srv.SSHAddr().String()
}

type memory struct {
	runtime.MemStats
	goroutines int
}

// liveMemory is the memory in use after a GC, and the goroutines.
func liveMemory() memory {
	time.Sleep(300 * time.Millisecond) // let the last frames go out
	runtime.GC()
	runtime.GC()
	var m memory
	runtime.ReadMemStats(&m.MemStats)
	m.goroutines = runtime.NumGoroutine()
	return m
}

// idleWindow estimates goroutine wakeups a second and measures the CPU
// used, in % of one core, over d. The runtime records one scheduling in
// eight in /sched/latencies (gTrackingPeriod), hence the factor.
func idleWindow(d time.Duration) (wakeups, cpu float64) {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	count := func() uint64 {
		metrics.Read(s)
		var n uint64
		for _, c := range s[0].Value.Float64Histogram().Counts {
			n += c
		}
		return n
	}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	n0, t0 := count(), time.Now()
	time.Sleep(d)
	n1, secs := count(), time.Since(t0).Seconds()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	used := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	return float64(8*(n1-n0)) / secs, used.Seconds() / secs * 100
}

// saveProfiles writes heap and goroutine profiles of the open sessions to
// $BLOG_BENCH_PROFILES, when set, to see what a session holds.
func saveProfiles(b *testing.B, name string) {
	dir := os.Getenv("BLOG_BENCH_PROFILES")
	if dir == "" {
		return
	}
	for _, p := range []string{"heap", "goroutine"} {
		f, err := os.Create(filepath.Join(dir, name+"."+p))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.Lookup(p).WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func waitGoroutines(n int) {
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
}

// benchClients starts the client process and returns once its sessions
// are all open (and at the comments, for a post); stop closes them.
func benchClients(b *testing.B, addr, command string) (stop func()) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClients$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), "BLOG_BENCH_ADDR="+addr, "BLOG_BENCH_COMMAND="+command, "BLOG_BENCH_N="+strconv.Itoa(benchSessions))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "ready" {
		if strings.HasPrefix(sc.Text(), "error") {
			stdin.Close()
			cmd.Wait()
			b.Fatal(sc.Text())
		}
	}
	return func() {
		stdin.Close()
		_ = cmd.Wait()
	}
}

// TestBenchClients is the client process of BenchmarkSessionMemory; it
// does nothing in a normal test run.
func TestBenchClients(t *testing.T) {
	addr := os.Getenv("BLOG_BENCH_ADDR")
	if addr == "" {
		t.Skip("the client process of BenchmarkSessionMemory")
	}
	n, _ := strconv.Atoi(os.Getenv("BLOG_BENCH_N"))
	command := os.Getenv("BLOG_BENCH_COMMAND")
	sessions := make([]*termclient.Session, n)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range sessions {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			err := openBenchClient(addr, command, &sessions[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Println("error", strings.ReplaceAll(firstErr.Error(), "\n", " | "))
	} else {
		fmt.Println("ready")
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	for _, s := range sessions {
		if s != nil {
			s.Close()
		}
	}
}

// openBenchClient opens one 100x40 session; on a post it goes to the
// comments (G), where a reader watching for new ones sits.
func openBenchClient(addr, command string, out **termclient.Session) error {
	k, err := termclient.NewSigner()
	if err != nil {
		return err
	}
	s, err := termclient.Open(termclient.Options{Addr: addr, Signer: k, Width: 100, Height: 40, Command: command})
	if err != nil {
		return err
	}
	*out = s
	if command == "" {
		return s.WaitFor("enter read", 30*time.Second)
	}
	if err := s.WaitFor("min read", 30*time.Second); err != nil {
		return err
	}
	if err := s.Type("G"); err != nil {
		return err
	}
	return s.WaitFor("Check back later", 30*time.Second)
}
