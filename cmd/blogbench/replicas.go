package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"blog/data"
	"blog/data/postgres"

	"github.com/jackc/pgx/v5"
)

// replicasMain is `blogbench replicas`: two blog servers on one fresh
// Postgres database, sessions split between them, comments posted through
// the first; it reports fan-out to the watchers on each side and the most
// database connections each replica held.
func replicasMain(ctx context.Context, args []string) error {
	fs := newFlags("replicas", "blogbench replicas --blog PATH [flags]: blog replicas on one Postgres database.")
	var rc replicaConfig
	fs.StringVar(&rc.blog, "blog", "", "blog binary to start on each replica (required)")
	blogArgs := fs.String("blog-args", "", "more flags for every replica, space-separated")
	fs.StringVar(&rc.pgURL, "pg-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a loopback Postgres where a temporary database may be created")
	fs.IntVar(&rc.seed, "seed", 50, "comments on the post before the replicas start")
	fs.IntVar(&rc.replicas, "replicas", 2, "replicas to start, sharing the sessions")
	rounds := fs.Int("rounds", 1, "rounds, each on a fresh database; the table takes medians")
	timeout := fs.Duration("timeout", 15*time.Minute, "stop everything after this long")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	c := &rc.run
	fs.IntVar(&c.Sessions, "n", 100, "sessions to open, split between the replicas")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "sessions opened at a time")
	fs.IntVar(&c.Writers, "writers", 5, "writers posting comments through the first replica")
	fs.IntVar(&c.Comments, "comments", 2, "comments each writer posts")
	fs.IntVar(&c.Keys, "keys", 20, "keypresses to time")
	fs.IntVar(&c.Burst, "burst", 0, "after the fan-out, post this many comments at once (0: none)")
	fs.DurationVar(&c.BurstWithin, "burst-within", 10*time.Second, "spread the burst's comments evenly over this long")
	fs.BoolVar(&c.BurstCrowd, "burst-crowd", false, "post each burst comment with its own key from its own loopback address (127.1.x.y), as a crowd would (default: the writers' keys, from 127.0.0.1)")
	fs.IntVar(&c.Screens, "screens", 20, "watchers that emulate the whole screen during the burst")
	fs.DurationVar(&c.Settle, "settle", 0, "quiet time before the idle window (its CPU is reported apart)")
	fs.DurationVar(&c.Idle, "idle", 10*time.Second, "how long to hold the sessions idle")
	fs.DurationVar(&c.Wait, "wait", 30*time.Second, "longest wait for one thing to show")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rc.blog == "" {
		return fmt.Errorf("replicas: --blog is required")
	}
	if rc.replicas < 1 || rc.replicas > 26 {
		return fmt.Errorf("replicas: --replicas must be 1 to 26")
	}
	admin, err := url.Parse(rc.pgURL)
	if err != nil {
		return fmt.Errorf("--pg-url: %w", err)
	}
	if err := checkLoopback(net.JoinHostPort(admin.Hostname(), "5432")); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rc.blogArgs = strings.Fields(*blogArgs)
	c.Progress = os.Stderr
	c.Width, c.Height, c.Slug, c.Command, c.ReadyText = 100, 40, goPost, "read "+goPost, "min read"
	c.WatchKeys, c.WatchText = "G", "Check back later"
	var reports []*Report
	for i := 1; i <= max(*rounds, 1); i++ {
		r, err := replicaRound(ctx, rc, fmt.Sprintf("replicas%d-%d", rc.replicas, i))
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	if *asJSON {
		return writeJSON(os.Stdout, reports)
	}
	for _, r := range reports {
		r.print(os.Stdout)
	}
	return nil
}

// replicaConfig is one `blogbench replicas` command.
type replicaConfig struct {
	blog     string
	blogArgs []string
	pgURL    string
	seed     int
	replicas int
	run      Config
}

// replicaRound starts the replicas on a fresh database and runs the load
// against them.
func replicaRound(ctx context.Context, rc replicaConfig, label string) (*Report, error) {
	dbURL, drop, err := tempDatabase(ctx, rc.pgURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	if err := seedPostgres(ctx, dbURL, goPost, rc.seed); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "blogbench-replicas-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	c := rc.run
	var addrs []string
	for i := range rc.replicas {
		name := "blog-" + string(rune('a'+i))
		u := withAppName(dbURL, name)
		args := append([]string{"serve", "--database-url", u, "--data-dir", filepath.Join(tmp, name),
			"--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--web-addr", ""}, rc.blogArgs...)
		ch, err := startChild(rc.blog, args, filepath.Join(tmp, name+".log"), false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer ch.stop()
		addrs = append(addrs, ch.addr)
		c.PIDs = append(c.PIDs, ch.cmd.Process.Pid)
	}
	c.Label, c.Addr, c.PGURL = label, strings.Join(addrs, ","), dbURL
	return Run(ctx, c)
}

// tempDatabase creates an empty database next to admin's and returns its
// URL and a function that drops it.
func tempDatabase(ctx context.Context, admin string) (string, func(), error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "blogbench_" + hex.EncodeToString(b[:])
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "blogbench: drop database:", err)
		}
	}
	return u.String(), drop, nil
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func withAppName(dbURL, name string) string {
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func seedPostgres(ctx context.Context, dbURL, slug string, n int) error {
	st, err := postgres.Open(ctx, dbURL, data.Options{Limits: unlimited(), Logger: slog.New(slog.DiscardHandler), MaxConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	return seedStore(ctx, st, slug, n)
}

// pgCounter samples the connections to one database.
type pgCounter struct {
	conn *pgx.Conn
	r    *Report
	mu   sync.Mutex
}

// newPgCounter connects to url; with an empty url it counts nothing.
func newPGCounter(ctx context.Context, url string, r *Report, errs *errorLog) *pgCounter {
	if url == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		errs.add("postgres", err)
		return nil
	}
	return &pgCounter{conn: conn, r: r}
}

// sample records the connections open now, keeping the most per name.
func (p *pgCounter) sample(ctx context.Context) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rows, err := p.conn.Query(ctx, `SELECT application_name, count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1`)
	if err != nil {
		return
	}
	defer rows.Close()
	if p.r.PGConns == nil {
		p.r.PGConns = map[string]int{}
	}
	for rows.Next() {
		var name string
		var n int
		if rows.Scan(&name, &n) == nil {
			p.r.PGConns[name] = max(p.r.PGConns[name], n)
		}
	}
}

func (p *pgCounter) close() {
	if p != nil {
		p.conn.Close(context.Background())
	}
}
