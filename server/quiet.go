package server

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Readers arrive in bursts (a link is shared, a post goes out) and then sit
// idle. A burst leaves the heap at the size the collector let it grow to,
// and the stacks its sessions grew while opening; the runtime hands that
// memory back only slowly, so idle readers would carry it for minutes.
// Once the server has been quiet for a while, one collection returns it
// at once: idle readers make no garbage, so it stays returned until the
// next burst. Nothing runs while the server is idle or while it is busy.

// quietTrigger runs release once after each spell of activity, when no
// activity has been seen for a whole quiet period.
type quietTrigger struct {
	quiet time.Duration
	// release gets a function that reports activity seen since it began,
	// so a long release can stop early.
	release func(busy func() bool)
	last    atomic.Int64 // unix nanoseconds of the latest activity
	kick    chan struct{}
}

func newQuietTrigger(quiet time.Duration, release func(busy func() bool)) *quietTrigger {
	return &quietTrigger{quiet: quiet, release: release, kick: make(chan struct{}, 1)}
}

// touch records activity; cheap enough for every session open and event.
func (q *quietTrigger) touch() {
	if q == nil {
		return
	}
	q.last.Store(time.Now().UnixNano())
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// run waits for activity, then for quiet, then releases; until ctx ends.
func (q *quietTrigger) run(ctx context.Context) {
	if q == nil {
		return
	}
	t := time.NewTimer(q.quiet)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		}
		for {
			wait := time.Until(time.Unix(0, q.last.Load()).Add(q.quiet))
			if wait <= 0 {
				break
			}
			t.Reset(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		// Activity seen while waiting is already covered by the wait.
		select {
		case <-q.kick:
		default:
		}
		began := time.Now().UnixNano()
		q.release(func() bool { return q.last.Load() > began })
	}
}

// maxStackShrinks bounds the collections one release runs to shrink stacks.
const maxStackShrinks = 6

// released is what one release did: the collections it ran, the bytes of
// goroutine stacks before and after them, and whether it stopped early.
type released struct {
	collections               int
	stacksBefore, stacksAfter uint64
	interrupted               bool
}

// releaseMemory collects garbage and returns free memory to the system.
//
// A collection halves each stack that uses less than a quarter of itself,
// and no more. A session's goroutines grow their stacks while its first
// frame is drawn (and while a burst is drawn), and then sit idle on a
// small part of them: one collection leaves them at half their size. So
// this collects until the stacks stop shrinking (a few rounds, each cheap
// next to the burst that grew them), then hands what was freed back. It
// stops as soon as busy reports activity (a comment to fan out, readers
// arriving), which would otherwise compete with the collections for the
// CPU: the next quiet spell finishes the job.
func releaseMemory(busy func() bool) released {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	stacks := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	r := released{stacksBefore: stacks()}
	last := r.stacksBefore
	for r.collections < maxStackShrinks {
		runtime.GC()
		r.collections++
		if busy() {
			r.interrupted = true
			r.stacksAfter = stacks()
			return r
		}
		now := stacks()
		if now >= last-last/50 { // less than 2% smaller: as small as they get
			break
		}
		last = now
	}
	debug.FreeOSMemory()
	r.collections++
	r.stacksAfter = stacks()
	return r
}
