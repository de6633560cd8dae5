package main

import (
	"context"
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
	"blog/internal/abuse"
	"blog/posts"
	"blog/server"
)

// startBlog runs the real server in-process with 5 comments on the Go post.
func startBlog(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := seed(t.Context(), dir, goPost, 5); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "blog.db"), data.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return serveStore(t, st)
}

var quiet = slog.New(slog.DiscardHandler)

// serveStore runs the real server in-process on st until the test ends,
// and closes st after it.
func serveStore(t *testing.T, st data.Store) string {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	lib, err := posts.Embedded(quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		SSHAddr: "127.0.0.1:0", DataDir: t.TempDir(), Title: "Bench Blog", ShutdownGrace: time.Second, Log: quiet,
		ConnLimits: server.ConnLimits{MaxConnsPerIP: 1000, ConnsPerMinute: 1 << 20},
	}, lib, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	serve(t, srv.Serve)
	return srv.SSHAddr().String()
}

// serve runs a server until the test ends.
func serve(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestRunAgainstBlogAndBaseline(t *testing.T) {
	blogAddr := startBlog(t)
	base, err := newBaseline("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	serve(t, base.serve)

	c := Config{
		Label: "blog", Addr: blogAddr, Sessions: 8, Concurrency: 4, Width: 100, Height: 40,
		Command: "read " + goPost, ReadyText: "min read", Keys: 4,
		Writers: 2, Comments: 1, Slug: goPost, WatchKeys: "G", WatchText: "Check back later",
		Burst: 6, BurstWithin: 300 * time.Millisecond, BurstCrowd: true, Screens: 3,
		Idle: 300 * time.Millisecond, PID: os.Getpid(), Wait: 10 * time.Second,
	}
	if testing.Verbose() {
		c.Progress = os.Stderr
	}
	blog, err := Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	b := baselineRun(c)
	b.Addr = base.addr()
	baseline, err := Run(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Report{blog, baseline} {
		if r.Opened != 8 || r.FirstFrame.N != 8 || r.Errors != 0 {
			t.Errorf("%s: %d opened, %d first frames, errors %v", r.Label, r.Opened, r.FirstFrame.N, r.ErrorSample)
		}
		if r.RSSAfter == 0 || r.IdleSeconds == 0 {
			t.Errorf("%s: idle not measured: %+v", r.Label, r)
		}
	}
	if blog.Watchers != 8 || blog.Comments != 2 || blog.FanOut.N != 16 {
		t.Errorf("fan-out: %d watchers, %d comments, %d deliveries", blog.Watchers, blog.Comments, blog.FanOut.N)
	}
	// The baseline's writers broadcast a line to every session instead.
	if baseline.Watchers != 8 || baseline.Comments != 2 || baseline.FanOut.N != 16 || baseline.Burst != nil {
		t.Errorf("broadcast: %d watchers, %d lines, %d deliveries, burst %v", baseline.Watchers, baseline.Comments, baseline.FanOut.N, baseline.Burst)
	}
	if b := blog.Burst; b == nil || b.Comments != 6 || b.LastShown != 8 || b.Screens != 3 || b.Same != 3 || b.PerComment.N == 0 {
		t.Errorf("burst: %+v", b)
	}
	if blog.Keypress.N < 4 {
		t.Errorf("keypress: %d timed", blog.Keypress.N)
	}
	(&Comparison{Rounds: []Round{{Baseline: baseline, Blog: blog}}}).print(io.Discard)
}

func TestTextScanner(t *testing.T) {
	var sc textScanner
	var text, reply []byte
	// A styled phrase split across reads, a cursor move, and the two
	// queries the blog asks, the OSC one split in the middle.
	for _, chunk := range []string{"\x1b[1;38;5;12mmin", "\x1b[0m read\x1b[2;1Hnext\x1b]1", "1;?\x07\x1b[c"} {
		text, reply = sc.feed([]byte(chunk), text, reply)
	}
	if got := string(text); got != "min read\nnext\n" {
		t.Errorf("text %q", got)
	}
	if got := string(reply); got != answerBackground+answerDA1 {
		t.Errorf("reply %q", got)
	}
}

func TestTokenLog(t *testing.T) {
	l := tokenLog{prefix: []byte("bz"), seen: map[string]time.Time{}}
	now := time.Now()
	// One token split across three reads, one whole, one cut short by a
	// line break, and the same token again later.
	for i, chunk := range []string{"xx b", "z0123", "456789ab yy bz00000000000f.", "bz1234\n5678abcd bz0123456789ab"} {
		l.feed([]byte(chunk), now.Add(time.Duration(i)*time.Second))
	}
	if len(l.seen) != 2 {
		t.Errorf("seen %v", l.seen)
	}
	if at := l.seen["bz0123456789ab"]; !at.Equal(now.Add(2 * time.Second)) {
		t.Errorf("the split token was first seen at %v, want the third read", at)
	}
	if _, ok := l.seen["bz00000000000f"]; !ok {
		t.Errorf("the whole token is missing: %v", l.seen)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:22": true, "[::1]:22": true, "localhost:22": false, "10.0.0.1:22": false, "127.0.0.2:22": false} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// Two replicas on one Postgres database: sessions on both, comments posted
// through the first, fan-out measured on the second, connections counted.
func TestRunAcrossTwoReplicasOnPostgres(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if err := seedPostgres(t.Context(), dbURL, goPost, 3); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, name := range []string{"blog-a", "blog-b"} {
		st, err := postgres.Open(t.Context(), withAppName(dbURL, name), data.Options{Logger: quiet, MaxConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, serveStore(t, st))
	}
	c := Config{
		Label: "replicas", Addr: strings.Join(addrs, ","), Sessions: 6, Concurrency: 3, Width: 100, Height: 40,
		Command: "read " + goPost, ReadyText: "min read", Writers: 1, Comments: 2, Slug: goPost,
		WatchKeys: "G", WatchText: "Check back later", Idle: 100 * time.Millisecond, Wait: 10 * time.Second, PGURL: dbURL,
	}
	r, err := Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 6 || r.Errors != 0 {
		t.Fatalf("%d opened, errors %v", r.Opened, r.ErrorSample)
	}
	if r.FanOut.N != 12 || r.FanOutOther.N != 6 {
		t.Errorf("fan-out: %d deliveries, %d on the other replica; want 12 and 6", r.FanOut.N, r.FanOutOther.N)
	}
	for _, name := range []string{"blog-a", "blog-b"} {
		if n := r.PGConns[name]; n < 1 || n > 3 {
			t.Errorf("%s held %d connections, want 1 to 3 (its pool)", name, n)
		}
	}
	if n := r.PGConns["blog-listener"]; n != 2 {
		t.Errorf("%d listener connections, want one a replica", n)
	}
	r.print(io.Discard)
}

// Two attacks at a tiny scale against the in-process server: the
// measurement runs, reads this process's memory and keeps the control
// session's keypresses.
func TestAttackMeasuresAtTinyScale(t *testing.T) {
	addr := startBlog(t)
	c := attackConfig{scale: 0.01, timeout: time.Minute, settle: 10 * time.Millisecond}
	r := &AttackReport{Scale: c.scale}
	for _, a := range attacks() {
		if a.name != "env" && a.name != "names" {
			continue
		}
		res := measureAttack(t.Context(), c, a, abuse.Target{Addr: addr, Slug: goPost}, os.Getpid(), func() bool { return true })
		if res.Error != "" || res.Detail == "" || !res.StayedUp {
			t.Errorf("%s: %+v", a.name, res)
		}
		if res.RSSBefore == 0 || res.RSSPeak < res.RSSBefore || res.RSSAfter == 0 {
			t.Errorf("%s: memory not measured: %+v", a.name, res)
		}
		r.Results = append(r.Results, res)
	}
	if len(r.Results) != 2 {
		t.Fatalf("%d attacks ran", len(r.Results))
	}
	if r.Results[0].Control.N == 0 {
		t.Errorf("no keypress of the control session was timed during %s", r.Results[0].Name)
	}
	r.print(io.Discard)
}
