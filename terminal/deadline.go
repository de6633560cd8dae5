package terminal

import (
	"io"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// maxTimedWrite is the most one write sends under one deadline: a big write
// to a slow but honest client is progress, piece by piece.
const maxTimedWrite = 32 << 10

// timedChannel puts a deadline on every write to a session's channel:
// output, stderr and request replies. A client that stops taking output
// (its SSH window stays shut, or its TCP connection does) would otherwise
// hold the writing goroutine forever, and with it the session, its memory
// and its slot. Closing the channel does not help (the library waits for
// the client to answer the close); cut closes the whole connection, which
// wakes every write blocked on it.
//
// The channels are checked by a watchdog shared by all of them (see
// watchdog), not a timer each: a write puts its channel on the watch if
// it is not there yet, and the watchdog lets it go once nothing is in
// flight. An idle session costs no timer and no CPU.
type timedChannel struct {
	gossh.Channel
	timeout time.Duration
	cut     func()
	dog     *watchdog

	mu       sync.Mutex
	watched  bool      // on the watchdog's list
	done     bool      // nothing writes any more: leave the watch
	inFlight int       // writes under way
	progress time.Time // when a write last started or finished
	stderr   *timedStream
}

func newTimedChannel(ch gossh.Channel, timeout time.Duration, cut func()) *timedChannel {
	return &timedChannel{Channel: ch, timeout: timeout, cut: cut, dog: watchdogFor(timeout)}
}

func (t *timedChannel) Write(p []byte) (int, error) {
	return t.timed(p, t.Channel.Write)
}

// Stderr is the channel's stderr under the same deadline.
func (t *timedChannel) Stderr() io.ReadWriter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stderr == nil {
		t.stderr = &timedStream{ReadWriter: t.Channel.Stderr(), t: t}
	}
	return t.stderr
}

// reply answers a request, under the deadline.
func (t *timedChannel) reply(r *gossh.Request, ok bool) {
	if !r.WantReply {
		return
	}
	t.begin(false)
	_ = r.Reply(ok, nil)
	t.end(false)
}

func (t *timedChannel) timed(p []byte, write func([]byte) (int, error)) (int, error) {
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), maxTimedWrite)]
		t.begin(true)
		m, err := write(piece)
		t.end(true)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(piece):]
	}
	return n, nil
}

// begin and end bracket one write; output says whether it is the
// channel's data (stdout or stderr) rather than a request's reply. A reply
// is not held by the channel's window, so it goes out while output is
// stuck behind a window the client keeps shut: it counts as progress only
// when nothing else is in flight, or a client could keep a stuck write
// alive by sending requests that want replies.
func (t *timedChannel) begin(output bool) {
	t.mu.Lock()
	t.inFlight++
	if output || t.inFlight == 1 {
		t.progress = time.Now()
	}
	watch := !t.watched && !t.done
	t.watched = t.watched || watch
	t.mu.Unlock()
	if watch {
		t.dog.watch(t)
	}
}

func (t *timedChannel) end(output bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight--
	if output {
		t.progress = time.Now()
	}
}

// stop says the channel is done with: nothing writes to it after that,
// and the watchdog lets it go at its next round.
func (t *timedChannel) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
}

// writeState is what the watchdog finds of a channel.
type writeState int

const (
	writeIdle  writeState = iota // nothing in flight, or done: off the watch
	writing                      // in flight, within the deadline
	writeStuck                   // in flight for the whole timeout: cut it
)

// check is the watchdog's look at the channel at now.
func (t *timedChannel) check(now time.Time) writeState {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.done || t.inFlight == 0:
		t.watched = false
		return writeIdle
	case now.Sub(t.progress) >= t.timeout:
		t.watched = false
		return writeStuck
	}
	return writing
}

// watchdog checks the writes of every channel with one timeout, with one
// timer that runs only while a channel is on its list.
//
// A timer per session, armed by a write, would have to be stopped when
// the write ends (setting and stopping one for every write was a
// twentieth of a fan-out's CPU), or left to run out: then one comment to
// 10,000 watchers fired 10,000 timers a timeout later, each waking the
// scheduler, about as much CPU again as the fan-out itself, and all of an
// idle server's. The watchdog goes over its list every quarter timeout,
// so a stuck write is cut between one and 1.25 timeouts after its last
// progress.
type watchdog struct {
	timeout time.Duration
	every   time.Duration

	mu      sync.Mutex
	list    []*timedChannel
	timer   *time.Timer
	running bool // the timer is set
}

var (
	watchdogsMu sync.Mutex
	watchdogs   = map[time.Duration]*watchdog{}
)

// watchdogFor returns the watchdog for timeout: a server has one; tests
// may make a few.
func watchdogFor(timeout time.Duration) *watchdog {
	watchdogsMu.Lock()
	defer watchdogsMu.Unlock()
	w := watchdogs[timeout]
	if w == nil {
		w = &watchdog{timeout: timeout, every: max(timeout/4, time.Millisecond)}
		watchdogs[timeout] = w
	}
	return w
}

// watch puts t on the list and sets the timer if it is not running.
func (w *watchdog) watch(t *timedChannel) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, t)
	if w.running {
		return
	}
	w.running = true
	if w.timer == nil {
		w.timer = time.AfterFunc(w.every, w.round)
		return
	}
	w.timer.Reset(w.every)
}

// round checks every channel on the list, keeps those still writing, cuts
// the stuck ones and lets the rest go; the timer is set again only if the
// list is not empty.
func (w *watchdog) round() {
	w.mu.Lock()
	list := w.list
	w.list = nil
	w.mu.Unlock()

	now := time.Now()
	keep := list[:0]
	var stuck []*timedChannel
	for _, t := range list {
		switch t.check(now) {
		case writing:
			keep = append(keep, t)
		case writeStuck:
			stuck = append(stuck, t)
		}
	}
	clear(list[len(keep):]) // what left the watch is not kept alive by it

	w.mu.Lock()
	if len(w.list) == 0 {
		w.list = keep
	} else {
		w.list = append(w.list, keep...)
	}
	if len(w.list) == 0 {
		w.list = nil // no buffer kept while nothing is watched
		w.running = false
	} else {
		w.timer.Reset(w.every)
	}
	w.mu.Unlock()

	for _, t := range stuck {
		t.cut()
	}
}

// timedStream is a timedChannel's stderr.
type timedStream struct {
	io.ReadWriter
	t *timedChannel
}

func (s *timedStream) Write(p []byte) (int, error) {
	return s.t.timed(p, s.ReadWriter.Write)
}
