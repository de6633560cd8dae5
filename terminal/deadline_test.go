package terminal

import (
	"testing"
	"time"
)

// A write arms the deadline's timer and leaves it running after the write
// ends; once the channel's handler is done, WaitHandler stops it, so a
// closed session is not kept for a write timeout by its timer.
func TestWaitHandlerStopsTheWriteTimer(t *testing.T) {
	tc := newTimedChannel(nil, time.Hour, func() { t.Error("cut a channel with nothing stuck") })
	tc.begin(true)
	tc.end(true)
	tc.mu.Lock()
	armed := tc.armed
	tc.mu.Unlock()
	if !armed {
		t.Fatal("the timer is not armed after a write")
	}
	c := &Channel{raw: tc}
	c.WaitHandler() // no handler was started: it returns at once
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.armed || tc.timer.Stop() {
		t.Fatal("the write timer still runs after the handler is done")
	}
}

// A second write while the timer runs does not set it again, and when it
// fires with nothing in flight it stops for good.
func TestWriteTimerFiresOnceAfterWritesStop(t *testing.T) {
	tc := newTimedChannel(nil, 20*time.Millisecond, func() { t.Error("cut a channel with nothing stuck") })
	tc.begin(true)
	tc.end(true)
	tc.begin(true)
	tc.end(true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		tc.mu.Lock()
		armed := tc.armed
		tc.mu.Unlock()
		if !armed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the timer never ran out after the writes ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.timer.Stop() {
		t.Fatal("the timer was set again after running out with nothing in flight")
	}
}
