package newsletter_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"
	"blog/internal/smtptest"
	"blog/newsletter"
)

// benchDeliveries sends one post to b.N subscribers through replicas
// workers sharing the database, to an SMTP server in process, and reports
// deliveries a second. The rate is not limited.
func benchDeliveries(b *testing.B, stores []data.Store) {
	srv := smtptest.Start(b)
	emails := make([]string, b.N)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%07d@example.com", i)
	}
	queue(b, stores[0], "p", emails...)
	b.ResetTimer()
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(stores))
	for _, s := range stores {
		w := newsletter.NewWorker(s, builder(b), smtpSender(b, srv), text, newsletter.WorkerConfig{Idle: 10 * time.Millisecond}, quiet())
		go func() { w.Run(ctx); done <- struct{}{} }()
	}
	srv.WaitN(b, b.N, 10*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	for range stores {
		<-done
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}

func BenchmarkDeliveriesSQLite(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "blog.db")
			var stores []data.Store
			for range replicas {
				stores = append(stores, openSQLite(b, path))
			}
			benchDeliveries(b, stores)
		})
	}
}

func BenchmarkDeliveriesPostgres(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			url := pgtest.NewDatabase(b)
			var stores []data.Store
			for range replicas {
				stores = append(stores, openPostgres(b, url))
			}
			benchDeliveries(b, stores)
		})
	}
}
