package visitbatch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"blog/data"
	"blog/data/sqlite"
)

// BenchmarkMarkVisit compares a mark written by its session (direct) with
// one queued and written with the others (queued), for sessions marking
// at once on SQLite; the queued run includes the last flush.
func BenchmarkMarkVisit(b *testing.B) {
	open := func(b *testing.B) data.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "blog.db"),
			data.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	run := func(b *testing.B, v interface {
		MarkVisit(context.Context, string, data.Visit) error
	}, done func()) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if err := v.MarkVisit(context.Background(), fmt.Sprint("SHA256:bench-", i), data.Visit{PostSlug: "p"}); err != nil {
					b.Error(err)
				}
			}
		})
		done()
	}
	b.Run("direct", func(b *testing.B) {
		st := open(b)
		run(b, st, func() {})
	})
	b.Run("queued", func(b *testing.B) {
		q := New(open(b), Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		run(b, q, func() {
			if err := q.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
		s := q.Stats()
		b.ReportMetric(float64(s.Queued)/float64(max(s.Flushes, 1)), "marks/flush")
	})
}
