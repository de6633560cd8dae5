package newsletter_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/internal/smtptest"
	"blog/mail"
	"blog/newsletter"
	"blog/posts"
)

func openSQLite(t testing.TB, path string) data.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func builder(t testing.TB) *mail.Builder {
	t.Helper()
	b, err := mail.NewBuilder(mail.Config{From: "news@blog.example", PublicURL: "https://blog.example",
		Title: "Notes", SSHHost: "blog.example"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func smtpSender(t testing.TB, srv *smtptest.Server) mail.Sender {
	t.Helper()
	s, err := mail.NewSMTP(srv.URL(), mail.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func text(p data.NewsletterPost) string { return p.Title + "\n\n" + p.Body }

// run starts a worker until the test ends and returns it.
func run(t testing.TB, store data.Store, sender mail.Sender, cfg newsletter.WorkerConfig) *newsletter.Worker {
	t.Helper()
	w := newsletter.NewWorker(store, builder(t), sender, text, cfg, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func queue(t testing.TB, store data.Store, slug string, emails ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := store.ImportSubscribers(ctx, emails); err != nil {
		t.Fatal(err)
	}
	if _, err := store.QueuePost(ctx, data.NewsletterPost{Slug: slug, Title: "Title " + slug, Body: "Body of " + slug, Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func statusOf(t testing.TB, store data.Store, slug string) data.PostStatus {
	t.Helper()
	sts, err := store.NewsletterStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Slug == slug {
			return st
		}
	}
	return data.PostStatus{}
}

// waitStatus polls the store until cond holds for slug's counts.
func waitStatus(t testing.TB, store data.Store, slug string, cond func(data.PostStatus) bool) data.PostStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := statusOf(t, store, slug)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s stuck at %+v", slug, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorkerDelivers(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Decide(func(rcpt string, n int) smtptest.Action {
		switch {
		case strings.HasPrefix(rcpt, "later") && n <= 2:
			return smtptest.TempFail
		case strings.HasPrefix(rcpt, "drop") && n == 1:
			return smtptest.Drop
		case strings.HasPrefix(rcpt, "gone"):
			return smtptest.PermFail
		}
		return smtptest.Accept
	})
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	if _, err := store.Subscribe(context.Background(), "pending@example.com", data.Author{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	queue(t, store, "p", "ok@example.com", "later@example.com", "drop@example.com", "gone@example.com")
	run(t, store, smtpSender(t, srv), newsletter.WorkerConfig{RetryBase: 10 * time.Millisecond, Idle: 20 * time.Millisecond})

	st := waitStatus(t, store, "p", func(st data.PostStatus) bool { return st.Queued == 0 })
	if st.Sent != 3 || st.Failed != 1 {
		t.Fatalf("status %+v; want 3 sent (one after two 4xx, one after a drop) and the 5xx failed", st)
	}
	got := map[string]int{}
	ids := map[string]string{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
		ids[m.To[0]] = regexp.MustCompile(`(?mi)^Message-Id: (.*)\r$`).FindStringSubmatch(string(m.Data))[1]
	}
	if len(got) != 3 || got["ok@example.com"] != 1 || got["later@example.com"] != 1 || got["drop@example.com"] != 1 {
		t.Fatalf("received %v; the pending address must get nothing", got)
	}
	if !strings.HasPrefix(ids["later@example.com"], "<delivery-") {
		t.Fatalf("Message-ID %q", ids["later@example.com"])
	}
}

func TestBouncingAfterPermanentFailures(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Decide(func(rcpt string, n int) smtptest.Action {
		if strings.HasPrefix(rcpt, "gone") {
			return smtptest.PermFail
		}
		return smtptest.Accept
	})
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	run(t, store, smtpSender(t, srv), newsletter.WorkerConfig{Idle: 20 * time.Millisecond})
	for i := range data.BounceAfter + 1 {
		slug := fmt.Sprintf("p%d", i)
		queue(t, store, slug, "gone@example.com", "ok@example.com")
		waitStatus(t, store, slug, func(st data.PostStatus) bool { return st.Queued == 0 })
	}
	subs, _ := store.Subscribers(context.Background())
	for _, s := range subs {
		if want := map[string]string{"gone@example.com": data.StatusBouncing, "ok@example.com": data.StatusConfirmed}[s.Email]; s.Status != want {
			t.Errorf("%s is %s, want %s", s.Email, s.Status, want)
		}
	}
	// Once bouncing, the address is not even tried.
	if n := countTo(srv, "ok@example.com"); n != data.BounceAfter+1 {
		t.Fatalf("ok got %d mails", n)
	}
}

func countTo(srv *smtptest.Server, rcpt string) int {
	n := 0
	for _, m := range srv.Messages() {
		if m.To[0] == rcpt {
			n++
		}
	}
	return n
}

func TestSignupMailsACode(t *testing.T) {
	srv := smtptest.Start(t)
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	su := newsletter.NewSignup(store, builder(t), smtpSender(t, srv), quiet())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go su.Run(ctx)
	a := data.Author{IP: "192.0.2.1"}
	for range 3 { // one mail, however often it is asked for
		if err := su.Subscribe(ctx, "reader@example.com", a); err != nil {
			t.Fatal(err)
		}
	}
	m := srv.WaitN(t, 1, 10*time.Second)[0]
	code := regexp.MustCompile(`confirm ([A-Z2-9]{4}-[A-Z2-9]{4})`).FindStringSubmatch(string(m.Data))
	if code == nil {
		t.Fatalf("no code in\n%s", m.Data)
	}
	if err := su.Confirm(ctx, code[1], a); err != nil {
		t.Fatal(err)
	}
	if subs, _ := store.Subscribers(ctx); subs[0].Status != data.StatusConfirmed {
		t.Fatalf("status %q", subs[0].Status)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d confirmation mails to one address", n)
	}
}

// A mail server that refuses for now (4xx, then a dropped connection) does
// not lose the confirmation mail: it is tried again until it is accepted.
// One that refuses for good (5xx) is not tried again.
func TestSignupRetriesAConfirmationRefusedForNow(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Decide(func(rcpt string, n int) smtptest.Action {
		switch {
		case strings.HasPrefix(rcpt, "gone"):
			return smtptest.PermFail
		case n == 1:
			return smtptest.TempFail
		case n == 2:
			return smtptest.Drop
		}
		return smtptest.Accept
	})
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	su := newsletter.NewSignup(store, builder(t), smtpSender(t, srv), quiet())
	su.SetRetryAfter(10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go su.Run(ctx)
	for _, addr := range []string{"gone@example.com", "reader@example.com"} {
		if err := su.Subscribe(ctx, addr, data.Author{IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	m := srv.WaitN(t, 1, 10*time.Second)[0]
	if m.To[0] != "reader@example.com" || !strings.Contains(string(m.Data), "confirm ") {
		t.Fatalf("delivered to %v:\n%s", m.To, m.Data)
	}
	// The refused address was tried once; the other three times.
	if n := srv.Tries("gone@example.com"); n != 1 {
		t.Errorf("a 5xx was tried %d times", n)
	}
	if n := srv.Tries("reader@example.com"); n != 3 {
		t.Errorf("reader@example.com was tried %d times; want 3 (4xx, drop, accepted)", n)
	}
}

func writePost(t testing.TB, dir, slug, date string) {
	t.Helper()
	src := fmt.Sprintf("---\ntitle: %q\ndate: %s\nsummary: s\n---\n\nBody of %s.\n", "Title "+slug, date, slug)
	if err := os.WriteFile(filepath.Join(dir, slug+".md"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The publisher mails a post once when it appears, never the posts that
// were there before the newsletter started, and a future-dated post only
// when its time comes.
func TestPublisher(t *testing.T) {
	srv := smtptest.Start(t)
	dir := t.TempDir()
	writePost(t, dir, "old", "2026-01-01")
	lib, err := posts.Dir(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go lib.Watch(ctx)
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	if _, err := store.ImportSubscribers(ctx, []string{"reader@example.com"}); err != nil {
		t.Fatal(err)
	}
	w := run(t, store, smtpSender(t, srv), newsletter.WorkerConfig{Idle: time.Hour})
	pub := &newsletter.Publisher{Store: store, Posts: lib, Log: quiet(), Queued: w.Wake}
	var wg sync.WaitGroup
	wg.Go(func() { pub.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	waitStatus(t, store, "old", func(st data.PostStatus) bool { return st.Baseline })
	writePost(t, dir, "new", "2026-02-01")
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	writePost(t, dir, "later", soon)
	msgs := srv.WaitN(t, 1, 30*time.Second)
	if !strings.Contains(string(msgs[0].Data), "Subject: Title new") {
		t.Fatalf("first mail:\n%s", msgs[0].Data)
	}
	if st := statusOf(t, store, "later"); st.Slug != "" {
		t.Fatalf("a future-dated post was published early: %+v", st)
	}
	msgs = srv.WaitN(t, 2, 30*time.Second)
	if !strings.Contains(string(msgs[1].Data), "Subject: Title later") {
		t.Fatalf("second mail:\n%s", msgs[1].Data)
	}
	// Editing a post does not mail it again.
	writePost(t, dir, "new", "2026-02-02")
	waitEdited(t, lib, "new", time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC))
	if st := statusOf(t, store, "new"); st.Sent != 1 {
		t.Fatalf("new: %+v", st)
	}
	if n := len(srv.Messages()); n != 2 || statusOf(t, store, "old").Sent != 0 {
		t.Fatalf("%d mails; the old post must never be mailed", n)
	}
}

func waitEdited(t testing.TB, lib *posts.Library, slug string, date time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if p, ok := lib.Get(slug); ok && p.Date.Equal(date) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edit of %s never loaded", slug)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A worker that stops (SIGTERM) hands back what it had claimed but not
// sent: another replica sends it at once, without waiting for the lease.
func TestStopHandsBackClaims(t *testing.T) {
	srv := smtptest.Start(t)
	store := openSQLite(t, filepath.Join(t.TempDir(), "blog.db"))
	emails := make([]string, 40)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%02d@example.com", i)
	}
	queue(t, store, "p", emails...)
	// 10 a second: a claim holds 20 mails, two seconds of sending.
	w := newsletter.NewWorker(store, builder(t), smtpSender(t, srv), text, newsletter.WorkerConfig{Rate: 10, Lease: time.Hour}, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	srv.WaitN(t, 3, 30*time.Second)
	cancel()
	<-done
	sent := len(srv.Messages())
	st := statusOf(t, store, "p")
	if st.Sent != sent || st.Queued != len(emails)-sent {
		t.Fatalf("status %+v after %d mails", st, sent)
	}
	ds, _, err := store.ClaimDeliveries(context.Background(), 100, time.Minute, 0)
	if err != nil || len(ds) != len(emails)-sent {
		t.Fatalf("claimable after the stop: %d, %v; want %d at once", len(ds), err, len(emails)-sent)
	}
}

// --mail-rate holds for all replicas together: two workers on one database
// at 5 a second (claims of 10) send 30 mails in no less than about 6 s;
// each on its own rate would take half that.
func TestRateSharedByReplicas(t *testing.T) {
	srv := smtptest.Start(t)
	path := filepath.Join(t.TempDir(), "blog.db")
	first, second := openSQLite(t, path), openSQLite(t, path)
	emails := make([]string, 30)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%02d@example.com", i)
	}
	queue(t, first, "p", emails...)
	began := time.Now()
	cfg := newsletter.WorkerConfig{Rate: 5, Idle: 20 * time.Millisecond}
	run(t, first, smtpSender(t, srv), cfg)
	run(t, second, smtpSender(t, srv), cfg)
	srv.WaitN(t, len(emails), 60*time.Second)
	// The first mail goes at once; 29 more need 29/5 s.
	if d := time.Since(began); d < 5500*time.Millisecond {
		t.Fatalf("30 mails in %v at 5 a second shared by two replicas", d)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	if len(got) != len(emails) {
		t.Fatalf("%d addresses got mail, want %d", len(got), len(emails))
	}
}
