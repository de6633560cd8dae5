package web

import (
	"strings"
	"testing"
	"time"
)

// A stream that takes no frames (its reader is stuck) is cut once its
// buffer is full: it never holds more than streamBuffer frames, and the
// others are not held back.
func TestStuckStreamIsCut(t *testing.T) {
	l := newStreams(10, 10)
	stuck, _, err := l.open("p", "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range streamBuffer {
		l.publish("p", "comment", commentPayload{ID: int64(i)})
	}
	select {
	case <-stuck.done:
		t.Fatal("cut before its buffer was full")
	default:
	}
	l.publish("p", "comment", commentPayload{ID: 99})
	select {
	case <-stuck.done:
	default:
		t.Fatal("a full stream was not cut")
	}
	if len(stuck.ch) != streamBuffer {
		t.Fatalf("%d frames held", len(stuck.ch))
	}
}

// The ring keeps the last frames within its bounds; an id older than
// what it holds cannot be replayed (the page reloads the thread).
func TestRingIsBounded(t *testing.T) {
	l := newStreams(10, 10)
	start := l.position()
	big := strings.Repeat("x", 16<<10)
	for i := range 2 * ringFrames {
		l.publish("p", "comment", commentPayload{ID: int64(i), HTML: big})
	}
	if len(l.ring) > ringFrames || l.bytes > ringBytes {
		t.Fatalf("ring: %d frames, %d bytes", len(l.ring), l.bytes)
	}
	if l.canReplay(start) {
		t.Fatal("an id from before the ring was replayable")
	}
	if !l.canReplay(l.position()) {
		t.Fatal("the newest id was not replayable")
	}
	_, replay, _ := l.open("p", "192.0.2.1", l.id(l.seq-2))
	if len(replay) != 2 {
		t.Fatalf("replayed %d frames, want 2", len(replay))
	}
	l.forget()
	if l.canReplay(l.id(l.seq - 1)) {
		t.Fatal("an id from before a resync was replayable")
	}
}

// One shared ticker beats only the streams that have been quiet.
func TestHeartbeatOnlyWhenQuiet(t *testing.T) {
	l := newStreams(10, 10)
	quiet, _, _ := l.open("p", "192.0.2.1", "")
	busy, _, _ := l.open("p", "192.0.2.2", "")
	now := time.Now()
	quiet.last.Store(now.Add(-time.Minute).UnixNano())
	busy.last.Store(now.UnixNano())
	l.beat(now)
	if len(quiet.ch) != 1 || <-quiet.ch != heartbeat {
		t.Fatal("the quiet stream got no heartbeat")
	}
	if len(busy.ch) != 0 {
		t.Fatal("a stream that just wrote got a heartbeat")
	}
}
