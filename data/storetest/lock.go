package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"blog/data"
)

// holdLock runs TryLock(name) in the background with a job that waits for
// release; it returns once the job runs, and the TryLock result channel.
func holdLock(t *testing.T, s data.Store, name string) (release func(), result <-chan error) {
	t.Helper()
	running, done := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		ran, err := s.TryLock(context.WithoutCancel(t.Context()), name, func(context.Context) error {
			close(running)
			<-done
			return nil
		})
		if err == nil && !ran {
			err = errors.New("the first TryLock did not run")
		}
		res <- err
	}()
	select {
	case <-running:
	case err := <-res:
		t.Fatalf("TryLock: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("TryLock did not run its job")
	}
	return func() { close(done) }, res
}

func wantNotRun(t *testing.T, s data.Store, name string) {
	t.Helper()
	ran, err := s.TryLock(t.Context(), name, func(context.Context) error {
		t.Error("job ran while another held its lock")
		return nil
	})
	if err != nil || ran {
		t.Fatalf("TryLock while held = %v, %v; want false, nil", ran, err)
	}
}

func wantRun(t *testing.T, s data.Store, name string) {
	t.Helper()
	ran, err := s.TryLock(t.Context(), name, func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("TryLock(%q) = %v, %v; want true, nil", name, ran, err)
	}
}

func testTryLock(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	release, result := holdLock(t, s, "digest")
	wantNotRun(t, s, "digest")
	wantRun(t, s, "cleanup") // other names are free
	release()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	wantRun(t, s, "digest")
	boom := errors.New("boom")
	ran, err := s.TryLock(t.Context(), "digest", func(context.Context) error { return boom })
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("TryLock with a failing job = %v, %v; want true, the job's error", ran, err)
	}
	wantRun(t, s, "digest") // a failed job released the lock too
}

func testCrossTryLock(t *testing.T, open PairOpener) {
	_, opt := prepare(t, noLimits())
	first, second := open(t, opt)
	release, result := holdLock(t, first, "digest")
	wantNotRun(t, second, "digest")
	wantRun(t, second, "cleanup")
	release()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	wantRun(t, second, "digest")
}

func testPingAndClose(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ch := s.Events(t.Context())
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(eventWait):
		t.Fatal("Events channel not closed by Close")
	}
	// The opener's cleanup closes the store again: that must be harmless.
}
