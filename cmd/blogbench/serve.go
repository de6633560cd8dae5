package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/posts"
	"blog/server"
)

// serveMain is `blogbench serve`: the blog server as `blog serve` runs it
// (SQLite in the data dir, default comment limits and timeouts), with
// net/http/pprof on a second loopback listener so runs can take profiles.
// The connection caps per IP are lifted: every load session comes from
// 127.0.0.1.
func serveMain(ctx context.Context, args []string) error {
	fs := newFlags("serve", "blogbench serve: the blog server with net/http/pprof, for profiles.")
	dataDir := fs.String("data-dir", "", "directory for the host key and the database (required)")
	sshAddr := fs.String("ssh-addr", "127.0.0.1:0", "loopback address for SSH")
	pprofAddr := fs.String("pprof-addr", "127.0.0.1:0", "loopback address for /debug/pprof/")
	seedN := fs.Int("seed", 0, "add this many comments to --slug before serving")
	slug := fs.String("slug", goPost, "post the seeded comments go to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("serve: --data-dir is required")
	}
	for _, a := range []string{*sshAddr, *pprofAddr} {
		if err := checkLoopback(a); err != nil {
			return err
		}
	}
	if err := seed(ctx, *dataDir, *slug, *seedN); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	lib, err := posts.Embedded(log)
	if err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, filepath.Join(*dataDir, "blog.db"), data.Options{Limits: data.DefaultLimits(), Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := server.New(server.Config{
		SSHAddr:       *sshAddr,
		DataDir:       *dataDir,
		Title:         "Notes from the Terminal",
		IdleTimeout:   30 * time.Minute,
		MaxTimeout:    6 * time.Hour,
		ShutdownGrace: 10 * time.Second,
		ConnLimits:    server.ConnLimits{MaxConns: 1 << 20, MaxConnsPerIP: 1 << 20, ConnsPerMinute: 1 << 30},
		Log:           log,
	}, lib, store)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, pprofMux()) }()
	fmt.Fprintf(os.Stderr, "blogbench serve: pprof=%s\n", ln.Addr())
	return srv.Serve(ctx)
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}

// goPost is the post the scenario reads.
const goPost = "go-for-backend-services"

// seed adds n comments to slug in the SQLite database of dataDir, past the
// rate limits (they are the store's options, not the data's).
func seed(ctx context.Context, dataDir, slug string, n int) error {
	if n <= 0 {
		return nil
	}
	st, err := openSeedStore(ctx, dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	return seedStore(ctx, st, slug, n)
}

// openSeedStore opens the SQLite database a blog server in dataDir will
// use, without rate limits, so a scenario can seed it before the server
// starts.
func openSeedStore(ctx context.Context, dataDir string) (*sqlite.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "blog.db"), data.Options{Limits: unlimited(), Logger: slog.New(slog.DiscardHandler)})
}

// unlimited lifts the rate limits for seeding.
func unlimited() data.Limits {
	lots := data.RateLimit{Count: 1 << 30, Window: time.Second}
	return data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots}
}

// seedStore adds n comments to slug.
func seedStore(ctx context.Context, st data.Store, slug string, n int) error {
	for i := range n {
		_, err := st.AddComment(ctx, data.NewComment{
			PostSlug: slug,
			Name:     fmt.Sprintf("Reader %d", i%17),
			Body:     fmt.Sprintf("Seeded comment %d: a reply of ordinary length, a sentence or two about the post, long enough to wrap once.", i),
			Author:   data.Author{KeyFingerprint: fmt.Sprintf("SHA256:blogbench-seed-%d", i%17), IP: "192.0.2.1"}, // not the writers' IP: rate limits count per IP
		})
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}
