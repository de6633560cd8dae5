package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
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
		row("fan-out, all", "%s (per comment, until the last watcher)", r.FanOutAll)
		row("posting", "%s (the writer's comment command)", r.Post)
	}
	if r.RSSAfter > 0 {
		row("server RSS", "%.1f MB before, %.1f MB after: %.1f KB a session", mb(r.RSSBefore), mb(r.RSSAfter), r.PerSession/1024)
		row("idle CPU", "%.2f%% of a core over %.0f s (this client: %.2f%%)", r.IdleCPU, r.IdleSeconds, r.ClientCPU)
	}
	if r.Goroutines > 0 {
		row("goroutines", "%d (%.1f a session)", r.Goroutines, float64(r.Goroutines)/float64(max(r.Opened, 1)))
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

// Comparison is a run against the blog and one against the bare baseline.
type Comparison struct {
	Blog     *Report `json:"blog"`
	Baseline *Report `json:"baseline"`
}

// print writes both reports and a Markdown table of the targets.
func (c *Comparison) print(w io.Writer) {
	c.Baseline.print(w)
	fmt.Fprintln(w)
	c.Blog.print(w)
	fmt.Fprintln(w)
	b, base := c.Blog, c.Baseline
	fmt.Fprintln(w, "| measure | blog | baseline | blog/baseline | target | met |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- | --- |")
	line := func(name string, v, bv float64, unit, target string, ok bool) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, num(v, unit), num(bv, unit), ratio(v, bv), target, yes(ok))
	}
	line("open rate", b.OpenRate, base.OpenRate, "/s", ">= 0.7x baseline", b.OpenRate >= 0.7*base.OpenRate)
	line("first frame p99", b.FirstFrame.P99, base.FirstFrame.P99, "ms", "<= 2x baseline", b.FirstFrame.P99 <= 2*base.FirstFrame.P99)
	line("memory per idle session", b.PerSession/1024, base.PerSession/1024, "KB", "<= 150 KB", b.PerSession <= 150*1024)
	line(fmt.Sprintf("idle CPU, %d sessions", b.Opened), b.IdleCPU, base.IdleCPU, "%", "<= 3% of a core at 1,000", b.IdleCPU <= 3*float64(b.Opened)/1000)
	line("keypress p99", b.Keypress.P99, math.NaN(), "ms", "<= 30 ms", b.Keypress.N > 0 && b.Keypress.P99 <= 30)
	line(fmt.Sprintf("fan-out p99, %d watchers", b.Watchers), b.FanOut.P99, math.NaN(), "ms", "<= 200 ms", b.FanOut.N > 0 && b.FanOut.P99 <= 200)
	fmt.Fprintf(w, "| errors | %d | %d | | 0 | %s |\n", b.Errors, base.Errors, yes(b.Errors+base.Errors == 0))
}

func num(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case unit == "/s":
		return fmt.Sprintf("%.0f/s", v)
	case unit == "%":
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func ratio(v, base float64) string {
	if math.IsNaN(base) || base == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/base)
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
