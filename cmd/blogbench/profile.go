package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// profiler fetches profiles from a server's net/http/pprof while phases
// run; with no URL it does nothing.
type profiler struct {
	base, dir, label string
	r                *Report
	wg               sync.WaitGroup
	mu               sync.Mutex
	errs             []string
}

func newProfiler(c Config, r *Report) *profiler {
	return &profiler{base: c.Pprof, dir: c.ProfileDir, label: c.Label, r: r}
}

// cpu starts a CPU profile of d in the background; wait collects it.
func (p *profiler) cpu(ctx context.Context, phase string, d time.Duration) {
	if p.base == "" || d < time.Second {
		return
	}
	p.wg.Go(func() {
		secs := strconv.Itoa(int(d / time.Second))
		p.fetch(ctx, "/debug/pprof/profile?seconds="+secs, phase+".cpu.pprof")
	})
}

func (p *profiler) wait() { p.wg.Wait() }

// heap saves the live heap (after a GC), counts the goroutines and reads
// how much their stacks hold, which the heap profile leaves out.
func (p *profiler) heap(ctx context.Context, phase string) {
	if p.base == "" {
		return
	}
	p.fetch(ctx, "/debug/pprof/heap?gc=1", phase+".heap.pprof")
	if path := p.fetch(ctx, "/debug/pprof/heap?debug=1", phase+".heap.txt"); path != "" {
		b, _ := os.ReadFile(path)
		if m := regexp.MustCompile(`# Stack = (\d+)`).FindSubmatch(b); m != nil {
			p.r.StackBytes, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
		if m := regexp.MustCompile(`# HeapAlloc = (\d+)`).FindSubmatch(b); m != nil {
			p.r.HeapBytes, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
	}
	if path := p.fetch(ctx, "/debug/pprof/goroutine?debug=1", phase+".goroutines.txt"); path != "" {
		b, _ := os.ReadFile(path)
		if m := regexp.MustCompile(`goroutine profile: total (\d+)`).FindSubmatch(b); m != nil {
			p.r.Goroutines, _ = strconv.Atoi(string(m[1]))
		}
	}
}

// fetch saves one profile and returns its path ("" on failure, which is
// recorded in the report).
func (p *profiler) fetch(ctx context.Context, path, name string) string {
	out := filepath.Join(p.dir, p.label+"."+name)
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, "GET", p.base+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs = append(p.errs, "profile: "+err.Error())
		return ""
	}
	p.r.Profiles = append(p.r.Profiles, out)
	return out
}

// checkPprofURL keeps profile requests on loopback too.
func checkPprofURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("--pprof %q: want http://127.0.0.1:PORT", raw)
	}
	return checkLoopback(u.Host)
}
