package main

import (
	"context"
	"fmt"
	"image/color"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// burstPrefix starts every burst comment's token, so a session can pick
// them out of its text whatever else is on screen.
const burstPrefix = "bz"

// Burst is what the burst of comments measured.
type Burst struct {
	Comments int     `json:"comments"` // posted and acknowledged
	Within   float64 `json:"within_seconds"`
	Watchers int     `json:"watchers"`
	// PerComment is, for each comment and watcher that showed it, the
	// time from starting to post it to its token on the watcher's screen.
	PerComment Dist `json:"per_comment"`
	// Settled is the time from the first post until the last watcher
	// showed the last comment it showed.
	Settled float64 `json:"settled_ms"`
	// LastShown counts the watchers that showed the burst's last
	// comment (by the server's order: the newest on screen at the end).
	LastShown int `json:"last_shown"`
	// Unseen counts (comment, watcher) pairs never drawn: a frame that
	// took several comments at once may scroll one past without showing
	// it; the comment is still in the thread.
	Unseen int `json:"unseen"`
	// Screens sessions emulated the whole screen; Same of them ended
	// with exactly the screen of a reader who opened the post after the
	// burst.
	Screens int `json:"screens"`
	Same    int `json:"same"`
	// PeakRSS is the server's most resident memory during the burst.
	PeakRSS int64    `json:"peak_rss_bytes"`
	CPU     cpuSplit `json:"cpu"`
	Diff    string   `json:"diff,omitempty"` // the first differing line, if any
	// Screen and Reference are the first differing watcher's screen and
	// the fresh reader's.
	Screen    string `json:"screen,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// burst posts c.Burst comments within c.BurstWithin, evenly spaced, each
// from its own goroutine so that a slow reply never delays the next post,
// and follows every watcher until the burst has settled.
func burst(ctx context.Context, c Config, watchers []*session, writers []ssh.Signer, r *Report, errs *errorLog) {
	if len(watchers) == 0 || len(writers) == 0 {
		return
	}
	b := &Burst{Within: c.BurstWithin.Seconds(), Watchers: len(watchers)}
	r.Burst = b
	var sample []*session
	for _, s := range watchers {
		if s.emulated() {
			sample = append(sample, s)
		}
	}
	for _, s := range watchers {
		s.trackTokens(burstPrefix)
	}
	fmt.Fprintf(c.Progress, "%s: a burst of %d comments within %s to %d watchers\n", c.Label, c.Burst, c.BurstWithin, len(watchers))

	peak := watchRSS(c.serverPIDs())
	cpu := startCPU(c.serverPIDs())
	tokens := make([]string, c.Burst)
	started := make([]time.Time, c.Burst)
	ok := make([]bool, c.Burst)
	ids := make([]int64, c.Burst) // as the server numbered them
	post := func(i int) (string, string, int, error) {
		return termclient.Exec(c.addrs()[0], writers[i%len(writers)], c.postCommand(), strings.NewReader(tokens[i]))
	}
	if c.BurstCrowd {
		crowd := make([]ssh.Signer, c.Burst)
		for i := range crowd {
			var err error
			if crowd[i], err = termclient.NewSigner(); err != nil {
				errs.add("burst key", err)
				return
			}
		}
		post = func(i int) (string, string, int, error) {
			from := fmt.Sprintf("127.1.%d.%d", i/200, i%200+1)
			return termclient.ExecFrom(from, c.addrs()[0], crowd[i], c.postCommand(), strings.NewReader(tokens[i]))
		}
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range tokens {
		tokens[i] = fmt.Sprintf("%s%012x", burstPrefix, rand.Uint64()>>16)
		at := t0.Add(c.BurstWithin * time.Duration(i) / time.Duration(c.Burst))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		started[i] = time.Now()
		wg.Go(func() {
			stdout, stderr, code, err := post(i)
			if err == nil && code != 0 {
				err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(stderr))
			}
			if err != nil {
				errs.add("burst post", err)
				return
			}
			ok[i] = true
			ids[i] = postedID(stdout)
		})
	}
	wg.Wait()
	for _, k := range ok {
		if k {
			b.Comments++
		}
	}

	// The server orders comments by when it stored them, not by when they
	// were sent: the one with the highest ID is the one every watcher, and
	// a reader who opens the post now, must end with.
	last := ""
	var lastID int64
	for i, id := range ids {
		if ok[i] && id > lastID {
			last, lastID = tokens[i], id
		}
	}
	ref, err := referenceScreen(ctx, c, last)
	if err != nil {
		errs.add("burst reference", err)
	}
	deadline := time.Now().Add(c.Wait)
	for _, s := range watchers {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if _, seen := s.tokenTimes()[last]; seen || last == "" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.PeakRSS = peak.stop()
	b.CPU = cpu.stop()

	var lats []time.Duration
	var settled time.Time
	for _, s := range watchers {
		seen := s.tokenTimes()
		if _, ok := seen[last]; ok {
			b.LastShown++
		}
		for i, tok := range tokens {
			if !ok[i] {
				continue
			}
			at, shown := seen[tok]
			if !shown {
				b.Unseen++
				continue
			}
			lats = append(lats, at.Sub(started[i]))
			if at.After(settled) {
				settled = at
			}
		}
	}
	b.PerComment = distOf(lats)
	if !settled.IsZero() {
		b.Settled = float64(settled.Sub(t0)) / float64(time.Millisecond)
	}
	b.Screens = len(sample)
	if ref != "" {
		// Every screen must have drawn the end of the burst before it is
		// compared.
		// The rest of a frame may still be on its way: a screen gets two
		// seconds to match.
		until := time.Now().Add(2 * time.Second)
		for _, s := range sample {
			for s.screenText() != ref && time.Now().Before(until) {
				time.Sleep(20 * time.Millisecond)
			}
			if s.screenText() == ref {
				b.Same++
			} else if b.Diff == "" {
				b.Diff = firstDiff(ref, s.screenText())
				b.Screen, b.Reference = s.screenText(), ref
			}
		}
	}
	fmt.Fprintf(c.Progress, "%s: burst of %d: per comment p50 %.1f ms, p99 %.1f ms; %d of %d watchers show the last; %d of %d screens as a fresh reader's\n",
		c.Label, b.Comments, b.PerComment.P50, b.PerComment.P99, b.LastShown, len(watchers), b.Same, b.Screens)
}

// referenceScreen opens the post after the burst as a new reader would,
// goes to the end of the comments as the watchers did, and returns the
// screen once it has settled.
func referenceScreen(ctx context.Context, c Config, last string) (string, error) {
	// A key of its own: no comment is this reader's.
	signer, err := termclient.NewSigner()
	if err != nil {
		return "", err
	}
	s, err := termclient.Open(termclient.Options{Addr: c.addrs()[0], User: "reader", Signer: signer, Background: color.Black, Width: c.Width, Height: c.Height, Command: c.Command, DropRaw: true})
	if err != nil {
		return "", err
	}
	defer s.Close()
	if err := s.WaitFor(c.ReadyText, c.Wait); err != nil {
		return "", err
	}
	if err := s.Type(c.WatchKeys); err != nil {
		return "", err
	}
	if err := s.WaitFor(c.WatchText, c.Wait); err != nil {
		return "", err
	}
	// The server may still be handing the last comments out: the screen
	// is taken once the last one is on it.
	if err := s.WaitFor(last, c.Wait); err != nil {
		return "", err
	}
	// The screen has settled when two looks 200 ms apart agree.
	prev := s.Screen()
	for ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		cur := s.Screen()
		if cur == prev {
			return cur, nil
		}
		prev = cur
	}
	return "", ctx.Err()
}

// postedID reads the comment's ID from the comment command's answer
// ("Posted comment 12 on ..."), 0 if it is not there.
func postedID(stdout string) int64 {
	var id int64
	if _, err := fmt.Sscanf(stdout, "Posted comment %d", &id); err != nil {
		return 0
	}
	return id
}

// firstDiff shows the first line where two screens differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		a, b := at(w, i), at(g, i)
		if a != b {
			return fmt.Sprintf("line %d: fresh reader %q, watcher %q", i+1, a, b)
		}
	}
	return ""
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// rssWatch samples a process's resident memory until stopped and keeps
// the most seen.
type rssWatch struct {
	stopc chan struct{}
	done  chan int64
}

func watchRSS(pids []int) *rssWatch {
	w := &rssWatch{stopc: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if len(pids) > 0 {
				if s, err := sampleProcs(pids); err == nil {
					peak = max(peak, s.rss)
				}
			}
			select {
			case <-w.stopc:
				w.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *rssWatch) stop() int64 {
	close(w.stopc)
	return <-w.done
}
