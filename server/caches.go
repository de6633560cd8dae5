package server

import (
	"blog/ops"
	"blog/threads"
	"blog/ui"
	"blog/ui/render"

	gossh "golang.org/x/crypto/ssh"
)

// CacheBudgets are the byte budgets of the caches a replica shares among
// its sessions; zero values take the defaults.
type CacheBudgets struct {
	// Render holds rendered post bodies (ui/render.DefaultBudget).
	Render int64
	// Drawings are the comment drawings (ui.CacheBudgets).
	Drawings ui.CacheBudgets
	// Comments holds the first comments of each post (threads.DefaultBudget).
	Comments int64
}

// DefaultCacheMiB is the default of all the shared caches' budgets
// together: the defaults of each, added up.
const DefaultCacheMiB = (render.DefaultBudget + ui.DefaultBlocksBudget + ui.DefaultDrawingsBudget + ui.DefaultFramesBudget + ui.DefaultViewsBudget + ui.DefaultScreensBudget + threads.DefaultBudget) >> 20

// SplitCacheBudget shares one budget among the caches in the proportions
// of their defaults, so an operator sets a single number. A total below
// 1 MiB gives each cache the smallest useful budget instead of nothing.
func SplitCacheBudget(total int64) CacheBudgets {
	total = max(total, 1<<20)
	part := func(def int64) int64 { return max(total*def/(DefaultCacheMiB<<20), 64<<10) }
	return CacheBudgets{
		Render: part(render.DefaultBudget),
		Drawings: ui.CacheBudgets{
			Blocks:   part(ui.DefaultBlocksBudget),
			Drawings: part(ui.DefaultDrawingsBudget),
			Frames:   part(ui.DefaultFramesBudget),
			Views:    part(ui.DefaultViewsBudget),
			Screens:  part(ui.DefaultScreensBudget),
		},
		Comments: part(threads.DefaultBudget),
	}
}

// cacheSizes lists every shared cache's size for /metrics.
func (s *Server) cacheSizes(shared *threads.Shared) []ops.CacheSize {
	rb, rn := s.render.Size()
	out := []ops.CacheSize{{Name: "render", Bytes: rb, Entries: rn}}
	for _, c := range s.caches.Sizes() {
		out = append(out, ops.CacheSize{Name: c.Name, Bytes: c.Bytes, Entries: c.Entries})
	}
	cb, cn := shared.Size()
	return append(out, ops.CacheSize{Name: "comment_pages", Bytes: cb, Entries: cn})
}

// moderatorKeys answers, for the UI, whether a fingerprint is one of the
// moderators' keys, so their comments carry a badge. The badge belongs to
// the key, wherever its owner wrote from, so from= does not matter here.
func moderatorKeys(keys []AdminKey) func(fingerprint string) bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[gossh.FingerprintSHA256(k.Key)] = true
	}
	return func(fp string) bool { return set[fp] }
}
