package server

import (
	"context"
	"sync"
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

// A release shrinks grown stacks all the way, not by the half one
// collection allows: goroutines that grew their stacks to 128 KB and then
// wait (as sessions do after their first frame) are left on a few KB.
func TestReleaseMemoryShrinksGrownStacks(t *testing.T) {
	const goroutines = 64
	var ready, done sync.WaitGroup
	wake := make(chan struct{})
	ready.Add(goroutines)
	for range goroutines {
		done.Go(func() {
			growStack(100) // about 100 KB deep, so a 128 KB stack
			ready.Done()
			<-wake
		})
	}
	ready.Wait()
	r := releaseMemory()
	close(wake)
	done.Wait()
	if r.stacksBefore < goroutines*100<<10 {
		t.Fatalf("stacks were %d KB before the release; the goroutines did not grow theirs", r.stacksBefore>>10)
	}
	// One collection would leave half; three or more, an eighth or less.
	if r.stacksAfter > r.stacksBefore/8 {
		t.Fatalf("stacks went from %d KB to %d KB in %d collections; want an eighth or less", r.stacksBefore>>10, r.stacksAfter>>10, r.collections)
	}
	if r.collections > maxStackShrinks {
		t.Fatalf("%d collections; at most %d", r.collections, maxStackShrinks)
	}
}

// growStack uses about depth KB of stack, then returns.
//
//go:noinline
func growStack(depth int) byte {
	var frame [1 << 10]byte
	frame[depth%len(frame)] = byte(depth)
	if depth > 0 {
		frame[0] += growStack(depth - 1)
	}
	return frame[0]
}
