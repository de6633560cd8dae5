package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/posts"
	"blog/web"
)

// webMain is `blogbench web`: the web edition's post page against a plain
// net/http file server serving the same bytes, each loaded for the same
// time by wrk (or, without wrk, by a Go load generator), one after the
// other in one run, and the ratio of their request rates.
func webMain(ctx context.Context, args []string) error {
	fs := newFlags("web", "blogbench web: the post page of the web edition against a plain net/http static file server.")
	dur := fs.Duration("duration", 10*time.Second, "load each server this long")
	conns := fs.Int("conns", 64, "connections")
	threads := fs.Int("threads", 2, "wrk threads")
	comments := fs.Int("comments", 20, "comments on the post")
	gzip := fs.Bool("gzip", false, "ask for gzip (the static server sends the same bytes plain either way)")
	useWrk := fs.Bool("wrk", true, "use wrk when it is installed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "blogbench-web-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.DiscardHandler)
	lim := data.DefaultLimits()
	lim.CommentPerKey.Count, lim.CommentPerIP.Count = 1<<20, 1<<20
	store, err := sqlite.Open(ctx, filepath.Join(dir, "blog.db"), data.Options{Limits: lim, Logger: quiet})
	if err != nil {
		return err
	}
	defer store.Close()
	for i := range *comments {
		if _, err := store.AddComment(ctx, data.NewComment{PostSlug: goPost, Name: "reader", Body: fmt.Sprintf("Comment %d: a line or two of ordinary text, as readers write.", i),
			Author: data.Author{KeyFingerprint: "SHA256:benchkey" + strconv.Itoa(i), IP: "127.0.0.1"}}); err != nil {
			return err
		}
	}
	lib, err := posts.Embedded(quiet)
	if err != nil {
		return err
	}
	site := web.New(web.Config{Title: "Notes from the Terminal", Store: store, Log: quiet, Posts: lib, PublicURL: "http://localhost"})
	blogURL, stopBlog, err := serveLoopback(web.NewServer(site))
	if err != nil {
		return err
	}
	defer stopBlog()
	page := blogURL + "/posts/" + goPost
	resp, err := http.Get(page)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("the post page: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "post.html"), body, 0o644); err != nil {
		return err
	}
	staticURL, stopStatic, err := serveLoopback(&http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer stopStatic()

	load := goLoad
	tool := fmt.Sprintf("Go load generator, %d connections", *conns)
	if path, err := exec.LookPath("wrk"); err == nil && *useWrk {
		load = func(ctx context.Context, url string, conns int, d time.Duration, gzip bool) (float64, error) {
			return wrkLoad(ctx, path, url, *threads, conns, d, gzip)
		}
		tool = fmt.Sprintf("wrk -t%d -c%d -d%s", *threads, *conns, *dur)
	}
	blogRate, err := load(ctx, page, *conns, *dur, *gzip)
	if err != nil {
		return err
	}
	staticRate, err := load(ctx, staticURL+"/post.html", *conns, *dur, *gzip)
	if err != nil {
		return err
	}
	fmt.Printf("load: %s, %d-byte page with %d comments, gzip %v\n", tool, len(body), *comments, *gzip)
	fmt.Printf("%-32s %10.0f req/s\n", "web edition /posts/"+goPost, blogRate)
	fmt.Printf("%-32s %10.0f req/s\n", "net/http FileServer, same bytes", staticRate)
	fmt.Printf("%-32s %10.2fx\n", "ratio", blogRate/staticRate)
	return nil
}

func serveLoopback(srv *http.Server) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrkLoad(ctx context.Context, path, url string, threads, conns int, d time.Duration, gzip bool) (float64, error) {
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s"}
	if gzip {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := exec.CommandContext(ctx, path, append(args, url)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk said no rate:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// goLoad keeps conns keep-alive connections busy for d and counts the
// answers.
func goLoad(ctx context.Context, url string, conns int, d time.Duration, gzip bool) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				if gzip {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, err)
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok && !errors.Is(err, context.DeadlineExceeded) {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
