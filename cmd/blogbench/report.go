package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// print writes one run's report as a readable table.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "%s\n", r.Label)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "  %-18s "+format+"\n", append([]any{k}, a...)...) }
	row("sessions", "%d of %d open in %.1f s: %.0f a second", r.Opened, r.Sessions, r.OpenSeconds, r.OpenRate)
	row("first frame", "%s", r.FirstFrame)
	if r.Keypress.N > 0 {
		row("keypress", "%s", r.Keypress)
	}
	if r.Comments > 0 {
		row("fan-out", "%s (%d comments x %d watchers)", r.FanOut, r.Comments, r.Watchers)
		if r.FanOutOther.N > 0 {
			row("fan-out, others", "%s (watchers on the other replicas)", r.FanOutOther)
		}
		row("fan-out, all", "%s (per comment, until the last watcher)", r.FanOutAll)
		row("posting", "%s (the writer's comment command)", r.Post)
		if r.FanOutCPU.Wall > 0 {
			per := float64(r.Comments * r.Watchers)
			row("fan-out CPU", "server %.2f s, this client %.2f s over %.1f s: %.1f us and %.1f us a watcher a comment",
				r.FanOutCPU.Server, r.FanOutCPU.Client, r.FanOutCPU.Wall, r.FanOutCPU.Server/per*1e6, r.FanOutCPU.Client/per*1e6)
		}
	}
	if r.OpenCPU.Wall > 0 && r.Opened > 0 {
		row("open CPU", "server %.2f s, this client %.2f s over %.1f s: %.0f us and %.0f us a session",
			r.OpenCPU.Server, r.OpenCPU.Client, r.OpenCPU.Wall, r.OpenCPU.Server/float64(r.Opened)*1e6, r.OpenCPU.Client/float64(r.Opened)*1e6)
	}
	if b := r.Burst; b != nil {
		row("burst", "%d comments within %.0f s to %d watchers: %s", b.Comments, b.Within, b.Watchers, b.PerComment)
		row("burst, settled", "%.0f ms from the first post; %d of %d watchers show the last comment; %d drawings skipped in coalesced frames",
			b.Settled, b.LastShown, b.Watchers, b.Unseen)
		row("burst, screens", "%d of %d emulated screens end as a fresh reader's", b.Same, b.Screens)
		if b.Diff != "" {
			fmt.Fprintf(w, "    %s\n    the watcher's screen:\n%s\n    the fresh reader's:\n%s\n", b.Diff, b.Screen, b.Reference)
		}
		row("burst, server", "peak RSS %.1f MB; CPU server %.2f s, this client %.2f s", mb(b.PeakRSS), b.CPU.Server, b.CPU.Client)
	}
	if r.RSSAfter > 0 {
		row("server RSS", "%.1f MB before, %.1f MB all open, %.1f MB after idle: %.1f KB a session", mb(r.RSSBefore), mb(r.RSSOpen), mb(r.RSSAfter), r.PerSession/1024)
		row("idle CPU", "%.2f%% of a core over %.0f s (this client: %.2f%%)", r.IdleCPU, r.IdleSeconds, r.ClientCPU)
		row("client RSS", "%.1f MB: %.1f KB a session", mb(r.ClientRSS), float64(r.ClientRSS)/float64(max(r.Opened, 1))/1024)
		if r.SettleCPU.Wall > 0 {
			row("settling", "%.2f s of server CPU in the %.0f s before the idle window (the memory release)", r.SettleCPU.Server, r.SettleCPU.Wall)
		}
	}
	if r.Goroutines > 0 {
		row("goroutines", "%d (%.1f a session)", r.Goroutines, float64(r.Goroutines)/float64(max(r.Opened, 1)))
	}
	if r.StackBytes > 0 || r.HeapBytes > 0 {
		perSession := func(b int64) float64 { return float64(b) / 1024 / float64(max(r.Opened, 1)) }
		row("heap, stacks", "%.1f KB and %.1f KB a session (live heap after a collection; goroutine stacks)", perSession(r.HeapBytes), perSession(r.StackBytes))
	}
	if len(r.PGConns) > 0 {
		names := slices.Sorted(maps.Keys(r.PGConns))
		var parts []string
		total := 0
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s %d", n, r.PGConns[n]))
			total += r.PGConns[n]
		}
		row("postgres", "most connections at once: %s (%d in all)", strings.Join(parts, ", "), total)
	}
	row("errors", "%d", r.Errors)
	for _, e := range r.ErrorSample {
		fmt.Fprintf(w, "    %s\n", firstLine(e))
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "  profile            %s\n", p)
	}
}

func (d Dist) String() string {
	if d.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)", d.P50, d.P90, d.P99, d.Max, d.N)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Comparison is rounds of a run against the baseline followed by one
// against the blog; servers and load share the machine, so each figure is
// judged as a ratio within its round, and the table takes medians.
type Comparison struct {
	Rounds []Round `json:"rounds"`
}

// Round is one baseline run and the blog run after it.
type Round struct {
	Baseline *Report `json:"baseline"`
	Blog     *Report `json:"blog"`
}

// print writes every report, the rounds side by side, and a Markdown
// table of the targets.
func (c *Comparison) print(w io.Writer) {
	for i, r := range c.Rounds {
		fmt.Fprintf(w, "--- round %d\n", i+1)
		r.Baseline.print(w)
		r.Blog.print(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | open/s blog | open/s baseline | first frame p99 blog | baseline | KB/session blog | baseline | keypress p99 | fan-out p99 blog | broadcast p99 baseline | idle CPU blog |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for i, r := range c.Rounds {
		b, base := r.Blog, r.Baseline
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %.1f ms | %.1f ms | %.1f | %.1f | %.1f ms | %.1f ms | %.1f ms | %.2f%% |\n", i+1,
			b.OpenRate, base.OpenRate, b.FirstFrame.P99, base.FirstFrame.P99, b.PerSession/1024, base.PerSession/1024,
			b.Keypress.P99, b.FanOut.P99, base.FanOut.P99, b.IdleCPU)
	}
	fmt.Fprintln(w)
	n := c.Rounds[0].Blog
	fmt.Fprintf(w, "Medians over %d round(s), %d sessions (issue 14's targets at 10,000):\n\n", len(c.Rounds), n.Sessions)
	fmt.Fprintln(w, "| measure | blog | baseline | blog/baseline | target | met |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- | --- |")
	line := func(name string, f func(*Report) float64, unit, target string, ok func(v, base, ratio float64) bool) {
		v, base, ratio := c.median(f)
		if name == "keypress p99" {
			base, ratio = math.NaN(), math.NaN() // the baseline has no keys
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, num(v, unit), num(base, unit), num(ratio, "x"), target, yes(ok(v, base, ratio)))
	}
	line("memory per idle session", func(r *Report) float64 { return r.PerSession / 1024 }, "KB", "<= 1.25x baseline",
		func(_, _, ratio float64) bool { return ratio <= 1.25 })
	line(fmt.Sprintf("idle CPU, %d sessions", n.Opened), func(r *Report) float64 { return r.IdleCPU }, "%", "<= 1% of a core",
		func(v, _, _ float64) bool { return v <= 1 })
	line("open rate", func(r *Report) float64 { return r.OpenRate }, "/s", ">= 0.9x baseline",
		func(_, _, ratio float64) bool { return ratio >= 0.9 })
	line("first frame p99", func(r *Report) float64 { return r.FirstFrame.P99 }, "ms", "<= 1.5x baseline",
		func(_, _, ratio float64) bool { return ratio <= 1.5 })
	line("keypress p99", func(r *Report) float64 { return r.Keypress.P99 }, "ms", "<= 10 ms",
		func(v, _, _ float64) bool { return n.Keypress.N > 0 && v <= 10 })
	line(fmt.Sprintf("one comment to %d watchers, p99 (baseline: one broadcast line)", n.Watchers), func(r *Report) float64 { return r.FanOut.P99 }, "ms", "<= 1.5x baseline",
		func(_, _, ratio float64) bool { return n.FanOut.N > 0 && ratio <= 1.5 })
	line("errors", func(r *Report) float64 { return float64(r.Errors) }, "", "0",
		func(v, base, _ float64) bool { return v+base == 0 })
	if n.Burst != nil {
		line(fmt.Sprintf("burst of %d, per comment p99", n.Burst.Comments), func(r *Report) float64 {
			if r.Burst == nil {
				return math.NaN()
			}
			return r.Burst.PerComment.P99
		}, "ms", "reported", func(float64, float64, float64) bool { return true })
	}
}

// median is the median over rounds of f for the blog, for the baseline,
// and of their ratio within each round (NaN where the baseline has none).
func (c *Comparison) median(f func(*Report) float64) (blog, base, ratio float64) {
	var bs, as, rs []float64
	for _, r := range c.Rounds {
		b, a := f(r.Blog), f(r.Baseline)
		if !math.IsNaN(b) {
			bs = append(bs, b)
		}
		if !math.IsNaN(a) {
			as = append(as, a)
		}
		if a != 0 && !math.IsNaN(a) && !math.IsNaN(b) {
			rs = append(rs, b/a)
		}
	}
	return median(bs), median(as), median(rs)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func num(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case unit == "x":
		return fmt.Sprintf("%.2f", v)
	case unit == "":
		return fmt.Sprintf("%.0f", v)
	case unit == "/s":
		return fmt.Sprintf("%.0f/s", v)
	case unit == "%":
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
