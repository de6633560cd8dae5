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
// One timer per session, armed by a write and left to run out rather than
// stopped when the write ends: a fan-out writes to every session at once,
// and setting and stopping a timer for each write was a twentieth of its
// CPU. When it fires with nothing in flight it is not armed again, so an
// idle session costs no goroutine and no CPU, once one timeout has passed
// after its last write.
type timedChannel struct {
	gossh.Channel
	timeout time.Duration
	cut     func()

	mu       sync.Mutex
	timer    *time.Timer
	armed    bool      // the timer will fire
	inFlight int       // writes under way
	progress time.Time // when a write last started or finished
	stderr   *timedStream
}

func newTimedChannel(ch gossh.Channel, timeout time.Duration, cut func()) *timedChannel {
	return &timedChannel{Channel: ch, timeout: timeout, cut: cut}
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
	defer t.mu.Unlock()
	t.inFlight++
	if output || t.inFlight == 1 {
		t.progress = time.Now()
	}
	if t.armed {
		return // check measures from progress, and waits out the rest
	}
	t.armed = true
	if t.timer == nil {
		t.timer = time.AfterFunc(t.timeout, t.check)
		return
	}
	t.timer.Reset(t.timeout)
}

func (t *timedChannel) end(output bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight--
	if output {
		t.progress = time.Now()
	}
}

// stop disarms the timer once the channel is done with: nothing writes
// to it after that.
func (t *timedChannel) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
	t.armed = false
}

// check runs when the timer fires: it cuts the connection if a write has
// been stuck for the whole timeout, and otherwise waits out the rest.
func (t *timedChannel) check() {
	t.mu.Lock()
	if t.inFlight == 0 {
		t.armed = false
		t.mu.Unlock()
		return
	}
	if rest := t.timeout - time.Since(t.progress); rest > 0 {
		t.timer.Reset(rest)
		t.mu.Unlock()
		return
	}
	t.armed = false
	t.mu.Unlock()
	t.cut()
}

// timedStream is a timedChannel's stderr.
type timedStream struct {
	io.ReadWriter
	t *timedChannel
}

func (s *timedStream) Write(p []byte) (int, error) {
	return s.t.timed(p, s.ReadWriter.Write)
}
