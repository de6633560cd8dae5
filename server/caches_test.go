package server_test

import (
	"testing"

	"blog/server"
	"blog/threads"
	"blog/ui"
	"blog/ui/render"
)

// One number sets every cache: the default total gives each cache its own
// default, and another total is shared in the same proportions.
func TestSplitCacheBudget(t *testing.T) {
	def := server.SplitCacheBudget(server.DefaultCacheMiB << 20)
	want := server.CacheBudgets{
		Render:   render.DefaultBudget,
		Drawings: ui.CacheBudgets{Blocks: ui.DefaultBlocksBudget, Drawings: ui.DefaultDrawingsBudget, Frames: ui.DefaultFramesBudget, Views: ui.DefaultViewsBudget, Screens: ui.DefaultScreensBudget},
		Comments: threads.DefaultBudget,
	}
	if def != want {
		t.Errorf("default total split as %+v, want %+v", def, want)
	}
	sum := func(b server.CacheBudgets) int64 {
		return b.Render + b.Drawings.Blocks + b.Drawings.Drawings + b.Drawings.Frames + b.Drawings.Views + b.Drawings.Screens + b.Comments
	}
	for _, total := range []int64{16 << 20, 1 << 30} {
		got := sum(server.SplitCacheBudget(total))
		if got > total || got < total*99/100 {
			t.Errorf("a total of %d split into parts adding up to %d", total, got)
		}
	}
	if b := server.SplitCacheBudget(0); b.Render <= 0 || b.Drawings.Frames <= 0 || b.Drawings.Views <= 0 || b.Comments <= 0 {
		t.Errorf("a zero total left a cache without a budget: %+v", b)
	}
}
