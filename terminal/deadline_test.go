package terminal

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// watching reports whether the watchdog holds t, and whether its timer
// is set.
func watching(w *watchdog, t *timedChannel) (held, running bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.list, t), w.running
}

// A write puts the channel on the watch once, however many writes follow;
// the round after they end lets it go, and the watchdog's timer stops when
// nothing is watched: an idle session costs no timer.
func TestWatchdogLetsIdleChannelsGo(t *testing.T) {
	tc := newTimedChannel(nil, time.Hour, func() { t.Error("cut a channel with nothing stuck") })
	w := tc.dog
	tc.begin(true)
	tc.end(true)
	tc.begin(true)
	tc.end(true)
	w.mu.Lock()
	n := 0
	for _, c := range w.list {
		if c == tc {
			n++
		}
	}
	w.mu.Unlock()
	if n != 1 {
		t.Fatalf("the channel is on the watch %d times after two writes; want once", n)
	}
	w.round()
	if held, running := watching(w, tc); held || running {
		t.Fatalf("after a round with nothing in flight: watched %v, timer set %v; want neither", held, running)
	}
	// The next write comes back on the watch.
	tc.begin(true)
	if held, running := watching(w, tc); !held || !running {
		t.Fatalf("a new write: watched %v, timer set %v; want both", held, running)
	}
	tc.end(true)
	w.round()
}

// A channel whose handler is done leaves the watch at the next round, so
// a closed session is not kept by it.
func TestWaitHandlerLetsTheChannelGo(t *testing.T) {
	tc := newTimedChannel(nil, 2*time.Hour, func() { t.Error("cut a channel with nothing stuck") })
	tc.begin(true) // a write that never returns, as to a vanished client
	c := &Channel{raw: tc}
	c.WaitHandler() // no handler was started: it returns at once
	tc.dog.round()
	if held, _ := watching(tc.dog, tc); held {
		t.Fatal("the channel is still watched after its handler is done")
	}
	if tc.begin(true); func() bool { held, _ := watching(tc.dog, tc); return held }() {
		t.Fatal("a write after the end put the channel back on the watch")
	}
}

// A write stuck for the whole timeout is cut, within a quarter timeout
// more; one that makes progress is not.
func TestWatchdogCutsAStuckWrite(t *testing.T) {
	const timeout = 40 * time.Millisecond
	var cutStuck, cutMoving atomic.Int32
	stuck := newTimedChannel(nil, timeout, func() { cutStuck.Add(1) })
	moving := newTimedChannel(nil, timeout, func() { cutMoving.Add(1) })
	started := time.Now()
	stuck.begin(true)
	moving.begin(true)
	for cutStuck.Load() == 0 {
		if time.Since(started) > 10*time.Second {
			t.Fatal("a write stuck for 10 s was never cut")
		}
		moving.end(true) // progress: another piece went out
		moving.begin(true)
		time.Sleep(time.Millisecond)
	}
	if took := time.Since(started); took < timeout {
		t.Fatalf("cut after %v, before the %v timeout", took, timeout)
	}
	if cutMoving.Load() != 0 {
		t.Fatal("a write making progress was cut")
	}
	moving.end(true)
	stuck.end(true)
}
