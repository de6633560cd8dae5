package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// The trigger releases once per busy spell, only after a whole quiet
// period, and never while activity goes on or while nothing happens.
func TestQuietTriggerReleasesOnceAfterActivity(t *testing.T) {
	var released atomic.Int32
	q := newQuietTrigger(time.Second, func() { released.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.run(ctx)

	time.Sleep(1200 * time.Millisecond)
	if n := released.Load(); n != 0 {
		t.Fatalf("released %d times with no activity", n)
	}
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		q.touch() // activity never a second apart
		time.Sleep(10 * time.Millisecond)
	}
	if n := released.Load(); n != 0 {
		t.Fatalf("released %d times while busy", n)
	}
	waitCount(t, &released, 1)
	time.Sleep(1500 * time.Millisecond)
	if n := released.Load(); n != 1 {
		t.Fatalf("released %d times after one busy spell, want 1", n)
	}
	q.touch()
	waitCount(t, &released, 2)
}

func waitCount(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); n.Load() < want; {
		if time.Now().After(deadline) {
			t.Fatalf("released %d times, want %d", n.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A nil trigger (the feature turned off) is safe to use.
func TestQuietTriggerOff(t *testing.T) {
	var q *quietTrigger
	q.touch()
	q.run(context.Background()) // returns at once
}
