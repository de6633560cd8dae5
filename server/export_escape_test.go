package server

import "time"

// SetEscapeWait sets how long the start of an escape sequence waits for its
// rest and returns the wait it replaces, so tests over SSH on a loaded
// machine can make it longer than the pauses between their writes.
func SetEscapeWait(d time.Duration) time.Duration {
	return time.Duration(escapeWait.Swap(int64(d)))
}
