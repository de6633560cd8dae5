package storetest

import (
	"fmt"
	"testing"

	"blog/data"
)

// BenchOpener opens a fresh, empty store for a benchmark and closes it in
// b.Cleanup.
type BenchOpener func(b *testing.B, opt data.Options) data.Store

// unlimited lets benchmarks write as fast as they can.
func unlimited() data.Options {
	lots := data.RateLimit{Count: 1 << 30, Window: 1}
	return data.Options{Limits: data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots}}
}

// BenchAddComment measures adding one ordinary comment.
func BenchAddComment(b *testing.B, open BenchOpener) {
	s := open(b, unlimited())
	nc := data.NewComment{PostSlug: "p", Name: "Bench", Body: "A comment of ordinary length, say a sentence or two.",
		Author: data.Author{KeyFingerprint: "SHA256:bench", IP: "192.0.2.1"}}
	for b.Loop() {
		if _, err := s.AddComment(b.Context(), nc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchComments measures reading a page from the middle of a long thread.
func BenchComments(b *testing.B, open BenchOpener) {
	s := open(b, unlimited())
	var middle int64
	for i := range 1000 {
		nc := data.NewComment{PostSlug: "p", Body: fmt.Sprint("comment ", i),
			Author: data.Author{KeyFingerprint: "SHA256:bench"}}
		c, err := s.AddComment(b.Context(), nc)
		if err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			middle = c.ID
		}
	}
	for b.Loop() {
		cs, err := s.Comments(b.Context(), "p", data.ListOptions{AfterID: middle, Limit: 50})
		if err != nil || len(cs) != 50 {
			b.Fatal(len(cs), err)
		}
	}
}

// BenchVisitsOfNewKey measures what every session asks as it starts: the
// visits of a key, here one that has none yet, as most readers' keys are.
func BenchVisitsOfNewKey(b *testing.B, open BenchOpener) {
	s := open(b, unlimited())
	i := 0
	for b.Loop() {
		i++
		vs, err := s.Visits(b.Context(), fmt.Sprint("SHA256:reader", i))
		if err != nil || len(vs) != 0 {
			b.Fatal(len(vs), err)
		}
	}
}
