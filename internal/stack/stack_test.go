package stack

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
)

// stackBytes is the memory goroutine stacks hold now.
func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// parked starts n goroutines that run f and wait, and says how much the
// stacks grew while they wait. Collections are off meanwhile: one would
// shrink the stacks being measured.
func parked(t *testing.T, n int, f func()) uint64 {
	t.Helper()
	// A collection first returns the stacks freed earlier, which would
	// otherwise be reused without showing in the measure.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := stackBytes()
	release := make(chan struct{})
	var started, done sync.WaitGroup
	for range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			f()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	grew := stackBytes() - before
	close(release)
	done.Wait()
	return grew
}

func TestGrowLeavesAnEightKilobyteStack(t *testing.T) {
	const n = 1000
	plain := parked(t, n, func() {})
	grown := parked(t, n, Grow)
	t.Logf("%d goroutines: %d KB of stacks without Grow, %d KB with it", n, plain>>10, grown>>10)
	if grown < n*7<<10 || grown >= n*12<<10 {
		t.Errorf("stacks grew %d KB for %d goroutines that called Grow; want 8 KB each", grown>>10, n)
	}
	if plain > grown*3/4 {
		t.Errorf("stacks grew %d KB without Grow and %d KB with it; the measure does not tell them apart", plain>>10, grown>>10)
	}
}

// deep recurses with a frame of some size, as drawing a frame does.
//
//go:noinline
func deep(n int) byte {
	var pad [192]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%len(pad)]
}

// BenchmarkDeepGoroutine is a new goroutine making a 6 KB deep call, with
// and without growing its stack first.
func BenchmarkDeepGoroutine(b *testing.B) {
	for _, c := range []struct {
		name string
		grow bool
	}{{"plain", false}, {"grown", true}} {
		b.Run(c.name, func(b *testing.B) {
			done := make(chan byte)
			for b.Loop() {
				go func() {
					if c.grow {
						Grow()
					}
					done <- deep(24)
				}()
				<-done
			}
		})
	}
}
