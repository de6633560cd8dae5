package feed

import (
	"testing"
	"time"

	"blog/data"
)

// waitTaken waits until every subscriber's pump has taken its queue.
func waitTaken(t *testing.T, f *Feed) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		f.mu.Lock()
		queued := 0
		for sub := range f.subs {
			sub.mu.Lock()
			queued += len(sub.queue)
			sub.mu.Unlock()
		}
		f.mu.Unlock()
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still queued after 5s", queued)
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}

// A consumer that falls behind loses the backlog but is told to resync, and
// publishing never waits for it.
func TestFeedSlowConsumer(t *testing.T) {
	f := New()
	defer f.Close()
	ch := f.Subscribe(t.Context())
	// Let the pump take the first event and block handing it over.
	f.Publish(data.Event{Kind: data.CommentAdded, Comment: data.Comment{ID: 0}})
	waitTaken(t, f)
	const n = 3 * maxQueued
	for i := 1; i <= n; i++ {
		f.Publish(data.Event{Kind: data.CommentAdded, Comment: data.Comment{ID: int64(i)}})
	}
	var got []data.Event
	for len(got) == 0 || got[len(got)-1].Comment.ID != n {
		select {
		case ev := <-ch:
			got = append(got, ev)
		case <-time.After(2 * time.Second):
			t.Fatalf("stuck after %d events", len(got))
		}
	}
	resyncs := 0
	for _, ev := range got {
		if ev.Kind == data.Resync {
			resyncs++
		}
	}
	if resyncs == 0 || len(got) > maxQueued+2 {
		t.Fatalf("got %d events with %d resyncs; want at most %d, with a Resync", len(got), resyncs, maxQueued+2)
	}
}
