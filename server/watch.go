package server

import (
	"sync"

	"blog/data"
)

// watchers are functions outside the SSH side (the web edition) that
// hear every live event the hub reads, after the shared threads have
// applied it and before any session hears of it. They run on the hub's
// goroutine and must not block.
type watchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(data.Event)
}

// Watch calls fn with every live event this replica's hub reads from the
// store, from the hub's goroutine: fn must return at once (hand the event
// on, never wait on it). stop ends the calls.
func (s *Server) Watch(fn func(data.Event)) (stop func()) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(data.Event){}
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		delete(w.fns, id)
		w.mu.Unlock()
	}
}

func (w *watchers) notify(ev data.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.fns {
		fn(ev)
	}
}
