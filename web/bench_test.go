package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
)

// The handler's own cost per request for the post page, against
// http.FileServer serving the same bytes from a file.
func BenchmarkPostPageHandler(b *testing.B) {
	bl := startBlogB(b)
	req := httptest.NewRequest("GET", "/posts/"+goPost, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		bl.site.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkStaticFileHandler(b *testing.B) {
	bl := startBlogB(b)
	w := httptest.NewRecorder()
	bl.site.ServeHTTP(w, httptest.NewRequest("GET", "/posts/"+goPost, nil))
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "post.html"), w.Body.Bytes(), 0o644)
	h := http.FileServer(http.Dir(dir))
	req := httptest.NewRequest("GET", "/post.html", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func startBlogB(b *testing.B) *blog {
	// startBlog takes a *testing.T; a benchmark has a B, which is a TB.
	return startBlogTB(b)
}

// BenchmarkFanOut1000 is one comment delivered to 1,000 open post pages,
// each a real SSE stream over loopback TCP: from the hub's Event call to
// the last page having read the event.
func BenchmarkFanOut1000(b *testing.B) {
	const pages = 1000
	bl := startBlogTBOpts(b, blogOpts{maxStreams: pages, perIP: pages, conns: pages + 16})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: pages, DisableCompression: true}
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan struct{}, pages)
	var ready sync.WaitGroup
	for range pages {
		ready.Add(1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", bl.url+"/posts/"+goPost+"/events", nil)
			resp, err := client.Do(req)
			if err != nil {
				ready.Done()
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 4096)
			// "retry: ..." comes first: the stream is open.
			if _, err := resp.Body.Read(buf); err != nil {
				ready.Done()
				return
			}
			ready.Done()
			for {
				n, err := resp.Body.Read(buf)
				if err != nil {
					return
				}
				if strings.Contains(string(buf[:n]), "event: comment") {
					got <- struct{}{}
				}
			}
		}()
	}
	ready.Wait()
	var open runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&open)
	perPage := float64(int64(open.HeapInuse)-int64(before.HeapInuse)) / pages
	id := int64(1)
	for b.Loop() {
		id++
		bl.site.Event(data.Event{Kind: data.CommentAdded, Comment: data.Comment{ID: id, PostSlug: goPost, AuthorName: "ada",
			AuthorKey: "SHA256:abcdefghij", Body: "A comment for everybody", CreatedAt: time.Now()}})
		for range pages {
			<-got
		}
	}
	b.StopTimer()
	// Both ends of each stream are in this process: the figure is an
	// upper bound on what the server holds per open page.
	b.ReportMetric(perPage, "heap-B/page")
	cancel()
	tr.CloseIdleConnections()
}
