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
	fs := newFlags("replicas", "blogbench replicas --blog PATH [flags]: two replicas on one Postgres database.")
	blog := fs.String("blog", "", "blog binary to start twice (required)")
	blogArgs := fs.String("blog-args", "", "more flags for both replicas, space-separated")
	pgURL := fs.String("pg-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a loopback Postgres where a temporary database may be created")
	seedN := fs.Int("seed", 50, "comments on the post before the replicas start")
	timeout := fs.Duration("timeout", 15*time.Minute, "stop everything after this long")
	var c Config
	fs.IntVar(&c.Sessions, "n", 100, "sessions to open, split between the replicas")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "sessions opened at a time")
	fs.IntVar(&c.Writers, "writers", 5, "writers posting comments through the first replica")
	fs.IntVar(&c.Comments, "comments", 2, "comments each writer posts")
	fs.IntVar(&c.Keys, "keys", 20, "keypresses to time")
	fs.DurationVar(&c.Idle, "idle", 10*time.Second, "how long to hold the sessions idle")
	fs.DurationVar(&c.Wait, "wait", 30*time.Second, "longest wait for one thing to show")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *blog == "" {
		return fmt.Errorf("replicas: --blog is required")
	}
	admin, err := url.Parse(*pgURL)
	if err != nil {
		return fmt.Errorf("--pg-url: %w", err)
	}
	if err := checkLoopback(net.JoinHostPort(admin.Hostname(), "5432")); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	dbURL, drop, err := tempDatabase(ctx, *pgURL)
	if err != nil {
		return err
	}
	defer drop()
	if err := seedPostgres(ctx, dbURL, goPost, *seedN); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "blogbench-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var addrs []string
	for _, name := range []string{"blog-a", "blog-b"} {
		u := withAppName(dbURL, name)
		args := append([]string{"serve", "--database-url", u, "--data-dir", filepath.Join(tmp, name),
			"--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--web-addr", ""}, strings.Fields(*blogArgs)...)
		ch, err := startChild(*blog, args, filepath.Join(tmp, name+".log"), false)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer ch.stop()
		addrs = append(addrs, ch.addr)
	}
	c.Label, c.Addr, c.PGURL, c.Progress = "replicas", strings.Join(addrs, ","), dbURL, os.Stderr
	c.Width, c.Height, c.Slug, c.Command, c.ReadyText = 100, 40, goPost, "read "+goPost, "min read"
	c.WatchKeys, c.WatchText = "G", "Check back later"
	r, err := Run(ctx, c)
	if err != nil {
		return err
	}
	r.print(os.Stdout)
	return nil
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
