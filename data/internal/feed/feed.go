// Package feed fans a store's events out to its Events channels. Both stores
// use it: SQLite publishes its own writes, Postgres what its listener hears.
package feed

import (
	"context"
	"sync"

	"blog/data"
)

// maxQueued bounds what one slow consumer may fall behind by. Publishing
// never blocks: when a consumer's queue is full, its queued events are
// dropped and replaced by one Resync, which makes it reload everything.
const maxQueued = 1024

// Feed fans events out to every subscribed channel.
type Feed struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

type subscriber struct {
	mu    sync.Mutex
	queue []data.Event
	wake  chan struct{} // one pending wake-up is enough
}

// New returns a feed with no subscribers.
func New() *Feed {
	return &Feed{subs: make(map[*subscriber]struct{}), done: make(chan struct{})}
}

// Subscribe returns a channel of events published from now on. It is closed
// when ctx ends or the feed closes.
func (f *Feed) Subscribe(ctx context.Context) <-chan data.Event {
	out := make(chan data.Event)
	sub := &subscriber{wake: make(chan struct{}, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		close(out)
		return out
	default:
	}
	f.subs[sub] = struct{}{}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(out)
		sub.pump(ctx, f.done, out)
		f.mu.Lock()
		delete(f.subs, sub)
		f.mu.Unlock()
	}()
	return out
}

// Publish queues ev for every subscriber without waiting for any of them.
func (f *Feed) Publish(ev data.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sub := range f.subs {
		sub.push(ev)
	}
}

// Close ends every subscription and waits for their goroutines.
func (f *Feed) Close() {
	f.mu.Lock()
	close(f.done)
	f.mu.Unlock()
	f.wg.Wait()
}

func (s *subscriber) push(ev data.Event) {
	s.mu.Lock()
	if len(s.queue) >= maxQueued {
		s.queue = append(s.queue[:0], data.Event{Kind: data.Resync})
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump hands queued events to out until ctx ends or done closes.
func (s *subscriber) pump(ctx context.Context, done <-chan struct{}, out chan<- data.Event) {
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}
}
