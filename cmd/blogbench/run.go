package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// Config is one load run against one server.
type Config struct {
	Label string
	// Addr is the server's SSH address, or several replicas' separated by
	// commas: sessions take them in turn and writers use the first.
	Addr          string
	Sessions      int
	Concurrency   int
	Width, Height int
	Command       string // run instead of a shell, e.g. "read SLUG"
	ReadyText     string // the first frame has come when this text has
	Keys          int    // keypress samples
	KeySeq        string // keys each sampled session presses in turn
	Writers       int
	Comments      int    // per writer
	Slug          string // the post comments go to
	// PostCommand is what a writer runs with a token on stdin (default:
	// the blog's comment command on Slug).
	PostCommand string
	// Burst comments are posted within BurstWithin after the fan-out,
	// evenly spaced and concurrently, to a post everyone watches; Screens
	// of the watchers emulate the whole screen to check that all end
	// alike.
	Burst       int
	BurstWithin time.Duration
	// BurstCrowd posts each burst comment with its own key from its own
	// loopback address, as a crowd of readers would; otherwise the writers'
	// keys post them all from one address.
	BurstCrowd  bool
	Screens     int
	WatchKeys   string // pressed by every session before comments are posted
	WatchText   string // awaited after WatchKeys
	Idle        time.Duration
	Settle      time.Duration // quiet time before the idle window
	PID         int           // the server's, for CPU and memory
	PIDs        []int         // more servers' (the other replicas), added up with PID
	Wait        time.Duration // longest wait for one thing to show
	Pprof       string        // base URL of the server's net/http/pprof
	ProfileDir  string
	OpenProfile time.Duration // CPU profile length from the first open
	// PGURL, when set, is the database the servers share: the run counts
	// their connections (pg_stat_activity, by application_name).
	PGURL    string
	Progress io.Writer
}

// serverPIDs are the processes whose CPU and memory the run measures.
func (c Config) serverPIDs() []int {
	var pids []int
	if c.PID > 0 {
		pids = append(pids, c.PID)
	}
	return append(pids, c.PIDs...)
}

func (c Config) postCommand() string {
	if c.PostCommand != "" {
		return c.PostCommand
	}
	return "comment " + c.Slug + " --name blogbench"
}

// addrs are the replicas' addresses.
func (c Config) addrs() []string { return strings.Split(c.Addr, ",") }

// Report is what one run measured.
type Report struct {
	Label       string  `json:"label"`
	Sessions    int     `json:"sessions"`
	Opened      int     `json:"opened"`
	OpenSeconds float64 `json:"open_seconds"`
	OpenRate    float64 `json:"open_rate_per_s"`
	FirstFrame  Dist    `json:"first_frame"`
	Keypress    Dist    `json:"keypress"`
	Watchers    int     `json:"watchers"`
	Comments    int     `json:"comments"`
	FanOut      Dist    `json:"fanout"`     // every watcher, every comment
	FanOutAll   Dist    `json:"fanout_all"` // per comment: until the last watcher had it
	// FanOutOther is FanOut for watchers on other replicas than the writer's.
	FanOutOther Dist `json:"fanout_other_replicas"`
	Post        Dist `json:"post"` // the writer's comment command
	// OpenCPU and FanOutCPU are the CPU the server and this client
	// spent opening the sessions and on the fan-out's comments.
	OpenCPU   cpuSplit `json:"open_cpu"`
	FanOutCPU cpuSplit `json:"fanout_cpu"`
	Burst     *Burst   `json:"burst,omitempty"`
	// SettleCPU is what the quiet time before the idle window cost.
	SettleCPU   cpuSplit `json:"settle_cpu"`
	RSSBefore   int64    `json:"rss_before_bytes"`
	RSSOpen     int64    `json:"rss_open_bytes"`  // all open, before any comment
	RSSAfter    int64    `json:"rss_after_bytes"` // at the end of the idle time
	PerSession  float64  `json:"rss_per_session_bytes"`
	IdleSeconds float64  `json:"idle_seconds"`
	IdleCPU     float64  `json:"idle_cpu_percent"`
	ClientCPU   float64  `json:"client_idle_cpu_percent"`
	ClientRSS   int64    `json:"client_rss_bytes"` // this process, all sessions open
	Goroutines  int      `json:"goroutines,omitempty"`
	StackBytes  int64    `json:"stack_bytes,omitempty"` // goroutine stacks in use, from pprof
	HeapBytes   int64    `json:"heap_bytes,omitempty"`  // live heap after a collection, from pprof
	Errors      int      `json:"errors"`
	ErrorSample []string `json:"error_sample,omitempty"`
	Profiles    []string `json:"profiles,omitempty"`
	// PGConns is the most connections seen at once to the database, by
	// application_name (with PGURL).
	PGConns map[string]int `json:"pg_connections,omitempty"`
}

// errorLog counts errors and keeps the first few.
type errorLog struct {
	mu     sync.Mutex
	n      int
	sample []string
}

func (e *errorLog) add(phase string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.sample) < 10 {
		e.sample = append(e.sample, phase+": "+err.Error())
	}
}

// Run opens the sessions, measures, holds them idle and closes them.
func Run(ctx context.Context, c Config) (*Report, error) {
	for _, a := range c.addrs() {
		if err := checkLoopback(a); err != nil {
			return nil, err
		}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	r := &Report{Label: c.Label, Sessions: c.Sessions}
	var errs errorLog
	var before procSample
	if len(c.serverPIDs()) > 0 {
		var err error
		if before, err = sampleProcs(c.serverPIDs()); err != nil {
			return nil, err
		}
		r.RSSBefore = before.rss
	}
	signers := make([]ssh.Signer, c.Sessions+c.Writers)
	for i := range signers {
		var err error
		if signers[i], err = termclient.NewSigner(); err != nil {
			return nil, err
		}
	}
	prof := newProfiler(c, r)
	prof.cpu(ctx, "open", c.OpenProfile)
	cpu := startCPU(c.serverPIDs())
	sessions := openAll(ctx, c, signers[:c.Sessions], r, &errs)
	r.OpenCPU = cpu.stop()
	defer closeAll(sessions)
	prof.wait()

	watchers := sessions
	atBottom := c.WatchKeys != "" && c.Writers > 0
	if atBottom {
		watchers = watch(ctx, c, sessions, &errs)
	}
	if len(c.serverPIDs()) > 0 {
		// Everything open and drawn, nothing posted yet.
		if s, err := sampleProcs(c.serverPIDs()); err == nil {
			r.RSSOpen = s.rss
		}
	}
	prof.heap(ctx, "open")
	pg := newPGCounter(ctx, c.PGURL, r, &errs)
	defer pg.close()
	pg.sample(ctx)
	keypress(ctx, c, watchers, atBottom, r, &errs)
	if total := c.Writers * c.Comments; total > 0 {
		prof.cpu(ctx, "fanout", min(time.Duration(total)*2*time.Second, time.Minute))
	}
	fanOut(ctx, c, watchers, signers[c.Sessions:], r, &errs)
	pg.sample(ctx)
	prof.wait()
	if c.Burst > 0 {
		burst(ctx, c, watchers, signers[c.Sessions:], r, &errs)
		pg.sample(ctx)
	}
	if err := idle(ctx, c, len(sessions), before, prof, r); err != nil {
		return nil, err
	}
	pg.sample(ctx)
	r.Errors, r.ErrorSample = errs.n, append(errs.sample, prof.errs...)
	return r, nil
}

// parallel runs f for 0..n-1 on c goroutines.
func parallel(ctx context.Context, n, c int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// openAll opens c.Sessions sessions, c.Concurrency at a time, each until
// its first frame shows.
func openAll(ctx context.Context, c Config, signers []ssh.Signer, r *Report, errs *errorLog) []*session {
	fmt.Fprintf(c.Progress, "%s: opening %d sessions, %d at a time\n", c.Label, c.Sessions, c.Concurrency)
	all := make([]*session, c.Sessions)
	lat := make([]time.Duration, c.Sessions)
	start := time.Now()
	addrs := c.addrs()
	parallel(ctx, c.Sessions, c.Concurrency, func(i int) {
		t0 := time.Now()
		s, first, err := dialSession(addrs[i%len(addrs)], signers[i], c.Width, c.Height, c.Command, c.ReadyText, c.Wait, c.Burst > 0 && i < c.Screens)
		if err != nil {
			errs.add("open", err)
			return
		}
		at, err := s.wait(ctx, first, c.Wait)
		if err != nil {
			errs.add("first frame", err)
			s.close()
			return
		}
		s.replica = i % len(addrs)
		all[i], lat[i] = s, at.Sub(t0)
	})
	elapsed := time.Since(start)
	var open []*session
	var lats []time.Duration
	for i, s := range all {
		if s != nil {
			open, lats = append(open, s), append(lats, lat[i])
		}
	}
	r.Opened, r.OpenSeconds = len(open), elapsed.Seconds()
	r.OpenRate = float64(len(open)) / elapsed.Seconds()
	r.FirstFrame = distOf(lats)
	fmt.Fprintf(c.Progress, "%s: %d open in %.1fs (%.0f/s), first frame p99 %.1f ms\n", c.Label, r.Opened, r.OpenSeconds, r.OpenRate, r.FirstFrame.P99)
	return open
}

func closeAll(sessions []*session) {
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(s.close)
	}
	wg.Wait()
}
