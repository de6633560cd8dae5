package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// watch presses c.WatchKeys in every session (G: to the comments, where a
// new one shows) and keeps the sessions that then show c.WatchText.
func watch(ctx context.Context, c Config, sessions []*session, errs *errorLog) []*session {
	ok := make([]bool, len(sessions))
	parallel(ctx, len(sessions), c.Concurrency, func(i int) {
		s := sessions[i]
		w := s.expect(c.WatchText)
		if err := s.typeKeys(c.WatchKeys); err != nil {
			errs.add("watch", err)
			return
		}
		if _, err := s.wait(ctx, w, c.Wait); err != nil {
			errs.add("watch", err)
			return
		}
		ok[i] = true
	})
	var out []*session
	for i, s := range sessions {
		if ok[i] {
			out = append(out, s)
		}
	}
	return out
}

// keySessions is how many sessions share the keypress samples.
const keySessions = 10

// keypress times c.Keys presses, from the key to the first output after it
// (the server writes only when the screen changes), spread over a few
// sessions while all are open. Each session presses the sequence in turn
// and ends where it began; a random pause before each press samples every
// phase of the server's frame ticker.
func keypress(ctx context.Context, c Config, sessions []*session, atBottom bool, r *Report, errs *errorLog) {
	if c.Keys <= 0 || len(sessions) == 0 {
		return
	}
	seq := c.KeySeq
	if seq == "" {
		seq = "jk"
		if atBottom {
			seq = "kj" // j at the bottom changes nothing
		}
	}
	sample := sessions[:min(keySessions, len(sessions))]
	round := len(sample) * len(seq)
	n := (c.Keys + round - 1) / round * round
	var lats []time.Duration
	for i := 0; i < n && ctx.Err() == nil; i++ {
		s := sample[i%len(sample)]
		k := seq[i/len(sample)%len(seq)]
		time.Sleep(time.Duration(rand.Int64N(int64(50 * time.Millisecond))))
		w := s.expect("")
		t0 := time.Now()
		if err := s.typeKeys(string(k)); err != nil {
			errs.add("keypress", err)
			continue
		}
		at, err := s.wait(ctx, w, c.Wait)
		if err != nil {
			errs.add("keypress", err)
			continue
		}
		lats = append(lats, at.Sub(t0))
		// Let the rest of the frame arrive before the next press.
		time.Sleep(20 * time.Millisecond)
	}
	r.Keypress = distOf(lats)
	fmt.Fprintf(c.Progress, "%s: keypress p50 %.1f ms, p99 %.1f ms (%d)\n", c.Label, r.Keypress.P50, r.Keypress.P99, r.Keypress.N)
}

// fanOut posts c.Writers*c.Comments comments one at a time, each with a
// unique token, and times how long each watcher takes to show it.
func fanOut(ctx context.Context, c Config, watchers []*session, writers []ssh.Signer, r *Report, errs *errorLog) {
	total := c.Writers * c.Comments
	if total == 0 || len(watchers) == 0 {
		return
	}
	r.Watchers = len(watchers)
	cpu := startCPU(c.serverPIDs())
	defer func() { r.FanOutCPU = cpu.stop() }()
	var each, other, all, post []time.Duration
	for i := 0; i < total && ctx.Err() == nil; i++ {
		token := fmt.Sprintf("bb%012x", rand.Uint64()>>16)
		ws := make([]*waiter, len(watchers))
		for j, s := range watchers {
			ws[j] = s.expect(token)
		}
		// Collect this process's garbage now, outside the timing: its
		// heap holds every watcher's emulated screen, and a collection
		// that began during a comment made that comment look up to three
		// times slower (measured on the baseline as well as the blog).
		cpu.setAside(runtime.GC)
		gc0 := clientCollections()
		t0 := time.Now()
		_, stderr, code, err := termclient.Exec(c.addrs()[0], writers[i%len(writers)], c.postCommand(), strings.NewReader(token))
		posted := time.Since(t0)
		post = append(post, posted)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(stderr))
		}
		if err != nil {
			errs.add("post", err)
			for j, s := range watchers {
				s.drop(ws[j])
			}
			continue
		}
		r.Comments++
		deadline := t0.Add(c.Wait)
		var last time.Duration
		for j, s := range watchers {
			at, err := s.wait(ctx, ws[j], time.Until(deadline))
			if err != nil {
				errs.add("fan-out", err)
				continue
			}
			each = append(each, at.Sub(t0))
			if s.replica != 0 {
				other = append(other, at.Sub(t0))
			}
			last = max(last, at.Sub(t0))
		}
		all = append(all, last)
		// Each comment's own line shows whether a slow one was slow to
		// post or slow to reach the watchers, and whether this process
		// was collecting meanwhile.
		fmt.Fprintf(c.Progress, "%s: comment %d: posted in %.1f ms, last watcher at %.1f ms, %d collections here\n",
			c.Label, i+1, ms(posted), ms(last), clientCollections()-gc0)
		// Let the redraws settle: the next comment is timed alone.
		time.Sleep(300 * time.Millisecond)
	}
	r.FanOut, r.FanOutAll, r.Post, r.FanOutOther = distOf(each), distOf(all), distOf(post), distOf(other)
	fmt.Fprintf(c.Progress, "%s: fan-out of %d comments to %d watchers: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		c.Label, r.Comments, len(watchers), r.FanOut.P50, r.FanOut.P99, r.FanOut.Max)
}

// idle holds every session open for c.Idle and measures the server's CPU
// and memory (and this process's CPU, to show the client stayed quiet).
func idle(ctx context.Context, c Config, open int, before procSample, prof *profiler, r *Report) error {
	if c.Settle > 0 {
		// The server returns a burst's free memory once it has been quiet
		// for a while (--release-memory-after): that one collection is
		// measured apart, and the idle window starts after it.
		fmt.Fprintf(c.Progress, "%s: settling for %s\n", c.Label, c.Settle)
		cpu := startCPU(c.serverPIDs())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.Settle):
		}
		r.SettleCPU = cpu.stop()
	}
	fmt.Fprintf(c.Progress, "%s: idle for %s\n", c.Label, c.Idle)
	self0, err := sampleProc(0)
	if err != nil {
		return err
	}
	var a procSample
	if len(c.serverPIDs()) > 0 {
		if a, err = sampleProcs(c.serverPIDs()); err != nil {
			return err
		}
	}
	prof.cpu(ctx, "idle", c.Idle-time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(c.Idle):
	}
	prof.wait()
	self1, err := sampleProc(0)
	if err != nil {
		return err
	}
	r.IdleSeconds = self1.at.Sub(self0.at).Seconds()
	r.ClientCPU = cpuPercent(self0, self1)
	r.ClientRSS = self1.rss
	if len(c.serverPIDs()) > 0 {
		b, err := sampleProcs(c.serverPIDs())
		if err != nil {
			return err
		}
		r.IdleCPU = cpuPercent(a, b)
		r.RSSAfter = b.rss
		if open > 0 {
			r.PerSession = float64(b.rss-before.rss) / float64(open)
		}
	}
	prof.heap(ctx, "idle")
	fmt.Fprintf(c.Progress, "%s: idle CPU %.2f%% of a core, %.1f KB a session\n", c.Label, r.IdleCPU, r.PerSession/1024)
	return nil
}

// clientCollections counts this process's completed garbage collections.
func clientCollections() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
