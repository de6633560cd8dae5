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
	q := newQuietTrigger(time.Second, func(func() bool) { released.Add(1) })
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
	r := releaseMemory(func() bool { return false })
	close(wake)
	done.Wait()
	if r.stacksBefore < goroutines*100<<10 {
		t.Fatalf("stacks were %d KB before the release; the goroutines did not grow theirs", r.stacksBefore>>10)
	}
	// One collection would leave half; three or more, an eighth or less.
	if r.stacksAfter > r.stacksBefore/8 {
		t.Fatalf("stacks went from %d KB to %d KB in %d collections; want an eighth or less", r.stacksBefore>>10, r.stacksAfter>>10, r.collections)
	}
	if r.collections > maxStackShrinks+1 {
		t.Fatalf("%d collections; at most %d", r.collections, maxStackShrinks+1)
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

// Activity during a release stops it after the collection under way, so
// a comment's fan-out does not compete with the rest of it for the CPU.
func TestReleaseMemoryStopsForActivity(t *testing.T) {
	r := releaseMemory(func() bool { return true })
	if !r.interrupted || r.collections != 1 {
		t.Fatalf("busy from the start: %d collections, interrupted %v; want 1 and true", r.collections, r.interrupted)
	}
}

// The trigger's busy function reports activity seen after the release
// began, and none before.
func TestQuietTriggerReportsActivityDuringRelease(t *testing.T) {
	inRelease, resume := make(chan func() bool), make(chan struct{})
	q := newQuietTrigger(100*time.Millisecond, func(busy func() bool) {
		inRelease <- busy
		<-resume
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.run(ctx)
	q.touch()
	busy := <-inRelease
	if busy() {
		t.Fatal("busy before any activity since the release began")
	}
	// A touch in the nanosecond the release began would not count: wait
	// for the clock to move on first.
	for start := time.Now(); time.Since(start) <= time.Microsecond; {
	}
	q.touch()
	if !busy() {
		t.Fatal("not busy after activity during the release")
	}
	close(resume)
}
