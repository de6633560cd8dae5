package render

import (
	"testing"

	"github.com/charmbracelet/glamour"
)

// BenchmarkRenderCold is a first reader of the Go post at 80 columns.
func BenchmarkRenderCold(b *testing.B) {
	p := goPost(b)
	var out string
	for b.Loop() {
		var err error
		if out, err = NewCache(testBudget).Render(p, 80, dark); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(out)), "B/entry")
}

// BenchmarkRenderWarm is every later reader: what a session pays per view.
func BenchmarkRenderWarm(b *testing.B) {
	p := goPost(b)
	c := NewCache(testBudget)
	c.Render(p, 80, dark)
	b.ReportAllocs()
	for b.Loop() {
		c.Render(p, 80, dark)
	}
}

// BenchmarkRenderNewWidth is a resize to a width nobody has read at yet.
func BenchmarkRenderNewWidth(b *testing.B) {
	p := goPost(b)
	c := NewCache(testBudget)
	width := MinWidth + 20
	for b.Loop() {
		width++
		if width > MaxWidth {
			width = MinWidth + 20
		}
		if _, err := c.Render(p, width, dark); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewTermRenderer is the part of a miss a cached renderer would save.
func BenchmarkNewTermRenderer(b *testing.B) {
	for b.Loop() {
		if _, err := glamour.NewTermRenderer(glamour.WithStyles(dark.config()), glamour.WithWordWrap(80)); err != nil {
			b.Fatal(err)
		}
	}
}
