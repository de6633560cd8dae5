//go:build race

package ui

// raceEnabled: the race detector's instrumentation makes frames larger.
const raceEnabled = true
