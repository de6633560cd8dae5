package ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"blog/ops"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// The probes say what they should: healthz never asks the database, readyz
// refuses while draining or while the database does not answer, and a
// burst of probes costs one ping.
func TestHandlerProbes(t *testing.T) {
	var draining atomic.Bool
	var pings atomic.Int32
	var pingErr atomic.Pointer[error]
	ping := func(context.Context) error {
		pings.Add(1)
		if err := pingErr.Load(); err != nil {
			return *err
		}
		return nil
	}
	srv := httptest.NewServer(ops.Handler(ops.NewMetrics(func() (uint64, uint64) { return 3, 4 }), draining.Load, ping))
	defer srv.Close()

	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if n := pings.Load(); n != 0 {
		t.Errorf("healthz pinged the database %d times", n)
	}

	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if code, body := get(t, srv.URL+"/readyz"); code != 200 || body != "ready\n" {
				t.Errorf("readyz: %d %q", code, body)
			}
		})
	}
	wg.Wait()
	// At most one ping a second: one for a burst, unless a loaded machine
	// spread the burst over more seconds.
	if n, most := pings.Load(), 1+int32(time.Since(start)/time.Second); n < 1 || n > most {
		t.Errorf("20 probes sent %d pings, want 1 to %d", n, most)
	}

	draining.Store(true)
	if code, body := get(t, srv.URL+"/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("readyz while draining: %d %q", code, body)
	}
	draining.Store(false)

	// A failing database, on a fresh handler so no answer is cached.
	down := errors.New("connection refused")
	pingErr.Store(&down)
	failing := httptest.NewServer(ops.Handler(ops.NewMetrics(func() (uint64, uint64) { return 0, 0 }), draining.Load, ping))
	defer failing.Close()
	if code, body := get(t, failing.URL+"/readyz"); code != 503 || !strings.Contains(body, "database not ready") || strings.Contains(body, "refused") {
		t.Errorf("readyz with the database down: %d %q", code, body)
	}
}

// /metrics serves the blog's series and the caches' sizes.
func TestHandlerMetrics(t *testing.T) {
	m := ops.NewMetrics(func() (uint64, uint64) { return 3, 4 })
	m.Registry.MustRegister(ops.NewCacheCollector(func() []ops.CacheSize {
		return []ops.CacheSize{{Name: "render", Bytes: 1234, Entries: 5}}
	}))
	m.SessionsOpen.WithLabelValues("tui").Inc()
	srv := httptest.NewServer(ops.Handler(m, func() bool { return false }, func(context.Context) error { return nil }))
	defer srv.Close()
	code, body := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`blog_sessions_open{kind="tui"} 1`,
		`blog_render_cache_hits_total 3`,
		`blog_render_cache_misses_total 4`,
		`blog_cache_bytes{cache="render"} 1234`,
		`blog_cache_entries{cache="render"} 5`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
