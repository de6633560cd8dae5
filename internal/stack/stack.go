// Package stack grows a goroutine's stack ahead of deep work.
//
// A goroutine starts with a small stack, and the runtime doubles it each
// time a call would run past its end: it allocates the bigger stack,
// copies the old one and walks every frame on it to move its pointers.
// Grown on the way down a deep call (drawing a frame, a SQLite query),
// that happens two or three times, each time with more frames to walk.
// A goroutine that calls Grow first, while its stack is nearly empty,
// gets the room in one copy of almost nothing.
//
// The runtime shrinks a stack again at a collection when a quarter of it
// is enough, so calling Grow keeps no memory for longer than the work
// needs.
package stack

import "sync/atomic"

// growFrame is the frame Grow asks for: with the guard the runtime keeps
// below every frame, it makes the stack 8 KB (a 7 KB frame would make it
// 16 KB). Deliveries to a session and most of its first frame run within
// that. Measured at 5,000 watchers, 16 KB stacks were no faster, and 32 KB
// slower, as zeroing the frame cost more than the copies it saved.
const growFrame = 6 << 10

// sink and index keep the compiler from dropping the frame; sink is
// atomic because every goroutine that grows writes it.
var (
	sink  atomic.Uint32
	index int
)

// Grow makes the calling goroutine's stack at least 8 KB.
//
//go:noinline
func Grow() {
	var frame [growFrame]byte
	frame[index] = 1
	sink.Store(uint32(frame[index]))
}
