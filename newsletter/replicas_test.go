package newsletter_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/internal/smtptest"
	"blog/mail"
	"blog/newsletter"

	gomail "github.com/wneessen/go-mail"
)

// hangAfter passes n sends to a real sender, then blocks every later one
// until the test ends, ignoring its context: a replica that hangs or dies
// in the middle of a batch, holding its claims.
type hangAfter struct {
	mail.Sender
	mu    sync.Mutex
	n     int
	hung  chan struct{} // closed when the first send blocks
	until <-chan struct{}
	once  sync.Once
}

func (h *hangAfter) Send(ctx context.Context, m *gomail.Msg) error {
	h.mu.Lock()
	h.n--
	left := h.n
	h.mu.Unlock()
	if left >= 0 {
		return h.Sender.Send(ctx, m)
	}
	h.once.Do(func() { close(h.hung) })
	<-h.until
	return &mail.Error{Reason: "connection"}
}

func openPostgres(t testing.TB, url string) data.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, url, data.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestReplicasPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	raceReplicas(t, openPostgres(t, url), openPostgres(t, url))
}

func TestReplicasSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blog.db")
	raceReplicas(t, openSQLite(t, path), openSQLite(t, path))
}

// raceReplicas sends one post to 1,000 subscribers from two replicas; the
// first hangs after 100 mails with a batch claimed. The second must finish,
// taking the first's claims over when they lapse, and every subscriber
// must get the post exactly once.
func raceReplicas(t *testing.T, first, second data.Store) {
	const subscribers = 1000
	srv := smtptest.Start(t)
	emails := make([]string, subscribers)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%04d@example.com", i)
	}
	queue(t, first, "p", emails...)

	stop := make(chan struct{})
	defer close(stop) // registered after run's cleanups: runs before them
	hang := &hangAfter{Sender: smtpSender(t, srv), n: 100, hung: make(chan struct{}), until: stop}
	cfg := newsletter.WorkerConfig{Lease: 5 * time.Second, Idle: 50 * time.Millisecond}
	runUntil(t, first, hang, cfg, stop)
	run(t, second, smtpSender(t, srv), cfg)

	select {
	case <-hang.hung:
	case <-time.After(60 * time.Second):
		t.Fatal("the first replica never got to its 101st mail")
	}
	st := waitStatus(t, second, "p", func(st data.PostStatus) bool { return st.Sent == subscribers })
	if st.Queued != 0 || st.Failed != 0 {
		t.Fatalf("status %+v", st)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	for _, e := range emails {
		if got[e] != 1 {
			t.Fatalf("%s got the post %d times", e, got[e])
		}
	}
}

// runUntil is run for a worker whose context ends with stop but whose
// sender may hang past it.
func runUntil(t testing.TB, store data.Store, sender mail.Sender, cfg newsletter.WorkerConfig, stop <-chan struct{}) {
	w := newsletter.NewWorker(store, builder(t), sender, text, cfg, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	go func() { <-stop; cancel() }()
	t.Cleanup(func() { cancel(); <-done })
}
