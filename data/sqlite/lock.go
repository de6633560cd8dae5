package sqlite

import (
	"context"
	"sync"
)

// jobLocks are the named job locks, held in process. Two servers on one
// file (which the change log supports) each run the scheduled jobs; that is
// harmless, since a second reset or retention pass finds nothing more to
// delete.
type jobLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *jobLocks) take(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return false
	}
	if l.held == nil {
		l.held = make(map[string]bool)
	}
	l.held[name] = true
	return true
}

func (l *jobLocks) release(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, name)
}

// TryLock runs fn unless another job of that name is running.
func (s *Store) TryLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	if !s.locks.take(name) {
		return false, nil
	}
	defer s.locks.release(name)
	return true, fn(ctx)
}
