package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"blog/data"
)

func post(slug string) data.NewsletterPost {
	return data.NewsletterPost{Slug: slug, Title: "Title of " + slug, Body: "# " + slug + "\n\nBody.", Date: start.Truncate(24 * time.Hour)}
}

func publish(t *testing.T, s data.Store, ps ...data.NewsletterPost) []string {
	t.Helper()
	got, err := s.PublishPosts(t.Context(), ps)
	if err != nil {
		t.Fatalf("PublishPosts: %v", err)
	}
	return got
}

func claim(t *testing.T, s data.Store, n int) []data.Delivery {
	t.Helper()
	ds, _, err := s.ClaimDeliveries(t.Context(), n, time.Minute, 0)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return ds
}

func finish(t *testing.T, s data.Store, r data.DeliveryResult) {
	t.Helper()
	if err := s.FinishDelivery(t.Context(), r); err != nil {
		t.Fatalf("FinishDelivery: %v", err)
	}
}

func status(t *testing.T, s data.Store, slug string) data.PostStatus {
	t.Helper()
	sts, err := s.NewsletterStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Slug == slug {
			return st
		}
	}
	t.Fatalf("NewsletterStatus has no %q: %+v", slug, sts)
	return data.PostStatus{}
}

func testPublishPosts(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	subscribed(t, s, "private@example.com")
	subscribe(t, s, "pending@example.com", author("1"))
	// The first look is the baseline: nothing is mailed.
	if got := publish(t, s, post("old-1"), post("old-2")); len(got) != 0 {
		t.Fatalf("baseline queued %v", got)
	}
	if ds := claim(t, s, 10); len(ds) != 0 {
		t.Fatalf("baseline posts were queued: %+v", ds)
	}
	s.clock.Advance(time.Minute)
	got := publish(t, s, post("old-1"), post("old-2"), post("new"))
	if !slices.Equal(got, []string{"new"}) {
		t.Fatalf("PublishPosts = %v, want [new]", got)
	}
	if again := publish(t, s, post("new")); len(again) != 0 {
		t.Fatalf("a post was published twice: %v", again)
	}
	ds := claim(t, s, 10)
	if len(ds) != 1 || ds[0].Email != "private@example.com" || ds[0].Post != post("new") || ds[0].Attempts != 1 {
		t.Fatalf("claimed %+v; want one delivery of new to the confirmed address only", ds)
	}
	st := status(t, s, "new")
	if st.Queued != 1 || st.Sent != 0 || st.Baseline || st.Title != "Title of new" || !st.PublishedAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("status of new = %+v", st)
	}
	if st := status(t, s, "old-1"); !st.Baseline || st.Queued+st.Sent+st.Failed != 0 {
		t.Fatalf("status of old-1 = %+v", st)
	}
}

func testQueuePost(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s, post("old"))
	subscribed(t, s, "private@example.com")
	subscribed(t, s, "second@example.com")
	n, err := s.QueuePost(t.Context(), post("old"))
	if err != nil || n != 2 {
		t.Fatalf("QueuePost = %d, %v; want 2", n, err)
	}
	ds := claim(t, s, 10)
	if len(ds) != 2 {
		t.Fatalf("claimed %d", len(ds))
	}
	finish(t, s, data.DeliveryResult{ID: ds[0].ID, Sent: true, UnsubscribeToken: data.NewToken()})
	finish(t, s, data.DeliveryResult{ID: ds[1].ID, Permanent: true, Reason: "550 5.1.1"})
	// Again: only the failed one is queued; the sent one is not mailed twice.
	if n, err := s.QueuePost(t.Context(), post("old")); err != nil || n != 1 {
		t.Fatalf("QueuePost again = %d, %v; want 1", n, err)
	}
	if st := status(t, s, "old"); st.Baseline || st.Sent != 1 || st.Queued != 1 {
		t.Fatalf("status = %+v", st)
	}
}

func testClaimDeliveries(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s)
	for i := range 5 {
		subscribed(t, s, fmt.Sprintf("private%d@example.com", i))
	}
	publish(t, s, post("p"))
	first, second := claim(t, s, 3), claim(t, s, 3)
	if len(first) != 3 || len(second) != 2 {
		t.Fatalf("claimed %d then %d, want 3 then 2", len(first), len(second))
	}
	seen := map[int64]bool{}
	for _, d := range append(first, second...) {
		if seen[d.ID] {
			t.Fatalf("delivery %d claimed twice", d.ID)
		}
		seen[d.ID] = true
		if !d.Until.Equal(start.Add(time.Minute)) {
			t.Fatalf("claim until %v", d.Until)
		}
	}
	if more := claim(t, s, 3); len(more) != 0 {
		t.Fatalf("claimed held deliveries: %+v", more)
	}
	for _, d := range first {
		finish(t, s, data.DeliveryResult{ID: d.ID, Sent: true, UnsubscribeToken: data.NewToken()})
	}
	// The replica holding second dies: its claims lapse after the lease and
	// another takes them over, counting the attempt.
	s.clock.Advance(time.Minute + time.Second)
	again := claim(t, s, 10)
	if len(again) != 2 || again[0].ID != second[0].ID || again[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v; want the two lapsed deliveries, second attempt", again)
	}
	for _, d := range again {
		finish(t, s, data.DeliveryResult{ID: d.ID, Sent: true, UnsubscribeToken: data.NewToken()})
	}
	if st := status(t, s, "p"); st.Sent != 5 || st.Queued != 0 {
		t.Fatalf("status = %+v", st)
	}
}

func testDeliveryRetries(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s)
	subscribed(t, s, "private@example.com")
	publish(t, s, post("p"))
	d := claim(t, s, 1)[0]
	finish(t, s, data.DeliveryResult{ID: d.ID, RetryAt: start.Add(time.Minute), Reason: "451 4.3.0"})
	if ds := claim(t, s, 1); len(ds) != 0 {
		t.Fatal("a delivery was retried before its time")
	}
	s.clock.Advance(time.Minute)
	ds := claim(t, s, 1)
	if len(ds) != 1 || ds[0].ID != d.ID || ds[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v", ds)
	}
	// Giving up on temporary failures leaves the address as it is.
	finish(t, s, data.DeliveryResult{ID: d.ID, Reason: "451 4.3.0"})
	if st := status(t, s, "p"); st.Failed != 1 || st.Queued != 0 {
		t.Fatalf("status = %+v", st)
	}
	if got := statuses(t, s)["private@example.com"]; got != data.StatusConfirmed {
		t.Fatalf("status after temporary failures = %q", got)
	}
	// A late result for a delivery no longer held changes nothing.
	finish(t, s, data.DeliveryResult{ID: d.ID, RetryAt: start.Add(time.Hour)})
	if st := status(t, s, "p"); st.Failed != 1 {
		t.Fatalf("status = %+v", st)
	}
}

func testBouncing(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s)
	subscribed(t, s, "private@example.com")
	subscribed(t, s, "fine@example.com")
	for i := range data.BounceAfter + 1 {
		publish(t, s, post(fmt.Sprintf("p%d", i)))
	}
	for i := range data.BounceAfter {
		for _, d := range claim(t, s, 2) {
			if d.Email == "private@example.com" {
				finish(t, s, data.DeliveryResult{ID: d.ID, Permanent: true, Reason: "550 5.1.1"})
			} else {
				finish(t, s, data.DeliveryResult{ID: d.ID, Sent: true, UnsubscribeToken: data.NewToken()})
			}
		}
		if want := data.StatusConfirmed; i < data.BounceAfter-1 && statuses(t, s)["private@example.com"] != want {
			t.Fatalf("bouncing after %d refusals", i+1)
		}
	}
	if got := statuses(t, s)["private@example.com"]; got != data.StatusBouncing {
		t.Fatalf("status after %d permanent failures = %q, want bouncing", data.BounceAfter, got)
	}
	ds := claim(t, s, 10)
	if len(ds) != 1 || ds[0].Email != "fine@example.com" {
		t.Fatalf("claimed %+v; a bouncing address must get nothing more", ds)
	}
	if st := status(t, s, fmt.Sprintf("p%d", data.BounceAfter)); st.Cancelled != 1 {
		t.Fatalf("status = %+v; want the bouncing address's delivery cancelled", st)
	}
}

func testUnsubscribeToken(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s)
	subscribed(t, s, "private@example.com")
	publish(t, s, post("p1"), post("p2"))
	ds := claim(t, s, 1)
	token := data.NewToken()
	finish(t, s, data.DeliveryResult{ID: ds[0].ID, Sent: true, UnsubscribeToken: token})
	if err := s.UnsubscribeToken(t.Context(), data.NewToken()); err != data.ErrNotFound {
		t.Fatalf("UnsubscribeToken(unknown) = %v, want ErrNotFound", err)
	}
	for range 2 { // twice is fine
		if err := s.UnsubscribeToken(t.Context(), token); err != nil {
			t.Fatalf("UnsubscribeToken = %v", err)
		}
	}
	if got := statuses(t, s)["private@example.com"]; got != data.StatusUnsubscribed {
		t.Fatalf("status = %q", got)
	}
	if more := claim(t, s, 10); len(more) != 0 {
		t.Fatalf("an unsubscribed address still gets mail: %+v", more)
	}
}

func testMailRate(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	publish(t, s)
	for i := range 6 {
		subscribed(t, s, fmt.Sprintf("private%d@example.com", i))
	}
	publish(t, s, post("p"))
	// 2 a second: three mails take 1.5 s, and the next claim starts after them.
	ds, at, err := s.ClaimDeliveries(t.Context(), 3, time.Minute, 2)
	if err != nil || len(ds) != 3 || !at.Equal(start) || !ds[0].Until.Equal(start.Add(1500*time.Millisecond+time.Minute)) {
		t.Fatalf("first claim: %d, %v, %v (until %v)", len(ds), at, err, ds[0].Until)
	}
	ds, at, err = s.ClaimDeliveries(t.Context(), 3, time.Minute, 2)
	if err != nil || len(ds) != 3 || !at.Equal(start.Add(1500*time.Millisecond)) {
		t.Fatalf("second claim: %d, %v, %v; want its slots after the first's", len(ds), at, err)
	}
}

// RunOutboxReplicated races two stores on one database (two replicas, or
// two processes on one SQLite file) over many deliveries: each is claimed
// exactly once, and one replica's lapsed claims go to the other.
func RunOutboxReplicated(t *testing.T, open PairOpener) {
	t.Run("MailWindowCrossReplicas", func(t *testing.T) {
		_, opt := prepare(t, noLimits())
		first, second := open(t, opt)
		// Both replicas asked at once for the same address: one mail.
		var wg sync.WaitGroup
		due := make([]bool, 8)
		for i := range due {
			s := []data.Store{first, second}[i%2]
			wg.Go(func() {
				c, err := s.Subscribe(context.WithoutCancel(t.Context()), "private@example.com", author(fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
				}
				due[i] = c.Due()
			})
		}
		wg.Wait()
		n := 0
		for _, d := range due {
			if d {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d confirmation mails due for one address, want 1", n)
		}
	})
	t.Run("ClaimsCrossReplicas", func(t *testing.T) {
		e, opt := prepare(t, noLimits())
		first, second := open(t, opt)
		publish(t, first)
		const subscribers = 300
		emails := make([]string, subscribers)
		for i := range emails {
			emails[i] = fmt.Sprintf("reader%d@example.com", i)
		}
		if _, err := first.ImportSubscribers(t.Context(), emails); err != nil {
			t.Fatal(err)
		}
		publish(t, second, post("p"))
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for _, s := range []data.Store{first, second, first, second} {
			wg.Go(func() {
				for {
					ds, _, err := s.ClaimDeliveries(context.WithoutCancel(t.Context()), 7, time.Minute, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						claimed[d.ID]++
					}
					mu.Unlock()
					for _, d := range ds {
						if err := s.FinishDelivery(context.WithoutCancel(t.Context()), data.DeliveryResult{ID: d.ID, Sent: true, UnsubscribeToken: data.NewToken()}); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Wait()
		if len(claimed) != subscribers {
			t.Fatalf("%d deliveries claimed, want %d", len(claimed), subscribers)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Fatalf("delivery %d claimed %d times", id, n)
			}
		}
		_ = e
	})
}
