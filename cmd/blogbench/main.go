// Command blogbench measures the blog under load over real SSH sessions:
// open rate, first frame, keypress latency, comment fan-out, and the
// server's idle CPU and memory, each also against a bare wish server.
//
//	blogbench [run] --addr 127.0.0.1:23234 --pid PID [flags]  measure a running server
//	blogbench compare --blog /tmp/blog [flags]                  baseline and blog, side by side
//	blogbench replicas --blog /tmp/blog [flags]                 two replicas on one Postgres
//	blogbench attack --blog /tmp/blog [flags]                   issue 9's attacks, memory and latency
//	blogbench baseline-server [--addr 127.0.0.1:0]              the bare wish server
//	blogbench serve --data-dir DIR [--seed N]                   the blog with pprof
//	blogbench seed --data-dir DIR [--count 50]                  comments for a fresh server
//	blogbench web [--duration 10s] [--conns 64]                 the web post page against a static file server
//
// Only loopback addresses are accepted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "blogbench:", err)
		}
		os.Exit(2)
	}
}

func dispatch(ctx context.Context, args []string) error {
	name := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "run":
		return runMain(ctx, args, false)
	case "compare":
		return runMain(ctx, args, true)
	case "baseline-server":
		return baselineMain(ctx, args)
	case "serve":
		return serveMain(ctx, args)
	case "seed":
		return seedMain(ctx, args)
	case "replicas":
		return replicasMain(ctx, args)
	case "attack":
		return attackMain(ctx, args)
	case "web":
		return webMain(ctx, args)
	}
	return fmt.Errorf("unknown command %q (run, compare, replicas, attack, baseline-server, serve, seed, web)", name)
}

func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// runMain is `blogbench run` (one server, and the baseline if
// --baseline-addr is given) and `blogbench compare` (both started here).
func runMain(ctx context.Context, args []string, start bool) error {
	fs := newFlags("run", "blogbench run --addr ADDR [--pid PID] | blogbench compare --blog PATH|self: load a blog server over SSH.")
	var c Config
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:23234", "the blog's SSH address (run)")
	fs.IntVar(&c.PID, "pid", 0, "the blog server's process id, for CPU and memory (run)")
	fs.StringVar(&c.Pprof, "pprof", "", "base URL of the server's net/http/pprof, e.g. http://127.0.0.1:6060 (run)")
	baseAddr := fs.String("baseline-addr", "", "also measure a baseline-server here first (run)")
	basePID := fs.Int("baseline-pid", 0, "the baseline server's process id (run)")
	var cc compareConfig
	fs.StringVar(&cc.blog, "blog", "self", `blog binary to start, or "self" for blogbench serve with pprof (compare)`)
	blogArgs := fs.String("blog-args", "", "more flags for the blog server, space-separated, e.g. --title=Bench (compare)")
	fs.IntVar(&cc.seed, "seed", 50, "comments on the post before the server starts (compare)")
	fs.IntVar(&cc.rounds, "rounds", 1, "baseline-then-blog rounds; the table takes medians (compare)")
	fs.BoolVar(&cc.keep, "keep", false, "keep the temporary directory with logs and profiles (compare)")

	fs.IntVar(&c.Sessions, "n", 100, "sessions to open")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "sessions opened at a time")
	fs.IntVar(&c.Width, "width", 100, "terminal width")
	fs.IntVar(&c.Height, "height", 40, "terminal height")
	openPost := fs.String("open-post", goPost, `open this post directly (the "read SLUG" command); "" for the post list`)
	fs.StringVar(&c.ReadyText, "ready-text", "", `text of the first frame (default "min read" for a post, "enter read" for the list)`)
	fs.IntVar(&c.Keys, "keys", 40, "keypresses to time")
	fs.StringVar(&c.KeySeq, "key-seq", "", `keys each sampled session presses in turn (default "kj" at the comments, else "jk")`)
	fs.IntVar(&c.Writers, "writers", 0, "writers posting comments (each with its own key)")
	fs.IntVar(&c.Comments, "comments", 1, "comments each writer posts (the server allows 20 a minute from one IP)")
	fs.StringVar(&c.WatchKeys, "watch-keys", "G", "keys every session presses to watch the comments")
	fs.StringVar(&c.WatchText, "watch-text", "Check back later", "text that shows all comments are loaded")
	fs.IntVar(&c.Burst, "burst", 0, "after the fan-out, post this many comments at once to the watched post (0: none)")
	fs.DurationVar(&c.BurstWithin, "burst-within", 10*time.Second, "spread the burst's comments evenly over this long")
	fs.BoolVar(&c.BurstCrowd, "burst-crowd", false, "post each burst comment with its own key from its own loopback address (127.1.x.y), as a crowd would (default: the writers' keys, from 127.0.0.1)")
	fs.IntVar(&c.Screens, "screens", 20, "watchers that emulate the whole screen, to check that the burst ends alike everywhere")
	fs.DurationVar(&c.Settle, "settle", 0, "quiet time before the idle window, e.g. 15s to start it after the server's memory release (its CPU is reported apart)")
	fs.DurationVar(&c.Idle, "idle", 10*time.Second, "how long to hold the sessions idle")
	fs.DurationVar(&c.Wait, "wait", 30*time.Second, "longest wait for one thing to show")
	fs.DurationVar(&c.OpenProfile, "open-profile", 5*time.Second, "CPU profile length from the first open, with --pprof")
	fs.StringVar(&c.ProfileDir, "profile-dir", ".", "where profiles go")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop everything after this long")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Slug, c.Label, c.Progress = *openPost, "blog", os.Stderr
	if *openPost != "" {
		c.Command = "read " + *openPost
	}
	if c.ReadyText == "" {
		c.ReadyText = map[bool]string{true: "min read", false: "enter read"}[c.Command != ""]
	}
	if c.Pprof != "" {
		if err := checkPprofURL(c.Pprof); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var result interface{ print(io.Writer) }
	switch {
	case start:
		cc.blogArgs, cc.run = strings.Fields(*blogArgs), c
		cmp, err := compare(ctx, cc)
		if err != nil {
			return err
		}
		result = cmp
	case *baseAddr != "":
		b := baselineRun(c)
		b.Addr, b.PID, b.Pprof = *baseAddr, *basePID, ""
		base, err := Run(ctx, b)
		if err != nil {
			return err
		}
		blog, err := Run(ctx, c)
		if err != nil {
			return err
		}
		result = &Comparison{Rounds: []Round{{Baseline: base, Blog: blog}}}
	default:
		r, err := Run(ctx, c)
		if err != nil {
			return err
		}
		result = r
	}
	if *asJSON {
		return writeJSON(os.Stdout, result)
	}
	result.print(os.Stdout)
	return nil
}

// checkLoopback refuses every address but 127.0.0.1 and ::1.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !(ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback)) {
		return fmt.Errorf("address %q: only 127.0.0.1 and ::1 are allowed", addr)
	}
	return nil
}

// seedMain is `blogbench seed`, for a server started by hand.
func seedMain(ctx context.Context, args []string) error {
	fs := newFlags("seed", "blogbench seed --data-dir DIR: add comments before starting blog serve on DIR.")
	dir := fs.String("data-dir", "", "the blog's data directory (required)")
	slug := fs.String("slug", goPost, "post to comment on")
	n := fs.Int("count", 50, "comments to add")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("seed: --data-dir is required")
	}
	return seed(ctx, *dir, *slug, *n)
}
