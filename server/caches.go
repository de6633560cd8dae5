package server

import (
	"blog/ui"

	gossh "golang.org/x/crypto/ssh"
)

// CacheBudgets are the byte budgets of the caches a replica shares among
// its sessions; zero values take the defaults.
type CacheBudgets struct {
	// Render holds rendered post bodies (ui/render.DefaultBudget).
	Render int64
	// Drawings are the comment drawings (ui.CacheBudgets).
	Drawings ui.CacheBudgets
	// Comments holds the first comments of each post (DefaultCommentsBudget).
	Comments int64
}

// cacheSizes lists every shared cache's size for /metrics.
func (s *Server) cacheSizes(shared *threads) []cacheSize {
	rb, rn := s.render.Size()
	out := []cacheSize{{"render", rb, rn}}
	for _, c := range s.caches.Sizes() {
		out = append(out, cacheSize{c.Name, c.Bytes, c.Entries})
	}
	cb, cn := shared.size()
	return append(out, cacheSize{"comment_pages", cb, cn})
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
