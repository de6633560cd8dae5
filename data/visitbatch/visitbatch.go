// Package visitbatch writes visit marks behind the sessions that make them.
// A mark (a post opened or left) goes into a queue in memory, folded with
// any earlier mark of the same key and post, and one goroutine writes the
// queue in one MarkVisits transaction a moment later (Config.FlushAt marks
// at most, the oldest, the rest right after). A burst of
// sessions opening posts then costs a few transactions, not one each.
//
// What the queue holds is bounded twice: by the distinct key and post
// pairs marked within a flush, since marks of one pair fold into one, and
// by Config.MaxPending marks in all. A mark that finds the queue full is
// written by its caller at once, as it was before batching: none is
// dropped to make room.
//
// Reads see the queue: Visits and ForgetVisits first wait for the key's
// queued marks to be written (the flush is hurried for them), so a visitor
// who leaves a post and comes back on the same replica finds their place,
// with the new-comment counts the store computes. Another replica sees a
// mark once it is flushed, within Config.Every.
//
// A flush that fails (the database is down) puts its marks back in the
// queue, folded with those that came meanwhile, and is tried again after
// a pause that doubles up to MaxBackoff, for as long as the process runs:
// a routine database restart loses no mark, and MaxPending bounds what
// waits meanwhile. Only Close gives marks up, those it cannot write before
// its context ends (the database still down at shutdown); they are logged,
// with a count and never keys, and counted in Stats.Dropped.
package visitbatch

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
)

// Defaults for the zero fields of Config.
const (
	DefaultEvery      = 150 * time.Millisecond
	DefaultFlushAt    = 1000
	DefaultMaxPending = 10000
	DefaultTimeout    = 5 * time.Second
	// MaxBackoff bounds the pause between failed flushes (unless Every is
	// longer): the first retry waits Every, each next one twice as long,
	// and from then on every MaxBackoff until the store takes them.
	MaxBackoff = 5 * time.Second
)

// Config tunes a Batcher; zero fields take the defaults above.
type Config struct {
	// Every is how long the first mark queued waits for others before
	// they are written together.
	Every time.Duration
	// FlushAt writes the queue at once when this many marks wait, and
	// bounds the marks one flush writes: past it, the rest are written
	// by the next flush, at once.
	FlushAt int
	// MaxPending bounds the marks held, queued and being written: a mark
	// of a new key and post past it is written by its caller.
	MaxPending int
	// Timeout bounds one flush's transaction.
	Timeout time.Duration
	// Log gets the failures; nil means slog.Default().
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	if c.FlushAt <= 0 {
		c.FlushAt = DefaultFlushAt
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Stats counts what a Batcher did, for metrics and tests.
type Stats struct {
	// Queued counts marks taken into the queue, folded or not.
	Queued uint64
	// WrittenThrough counts marks their caller wrote at once: the queue
	// was full, or closed.
	WrittenThrough uint64
	// Flushes counts the transactions that stored a batch, and Failures
	// the flushes that failed.
	Flushes, Failures uint64
	// Flushed counts the marks the flushes stored, after folding.
	Flushed uint64
	// Dropped counts marks given up, which only Close does: those it
	// could not write before its context ended.
	Dropped uint64
	// Pending is how many marks wait in the queue now, and Writing how
	// many are being written.
	Pending, Writing int
}

// entry is one queued key and post.
type entry struct {
	v   data.Visit
	seq uint64 // when it was last marked, to write a batch in order
}

// marks are entries by key, then by post.
type marks map[string]map[string]*entry

func (m marks) get(key, slug string) *entry { return m[key][slug] }

// round is one flush: done is closed when it has ended, and err is then
// its answer.
type round struct {
	done chan struct{}
	err  error
}

// Batcher queues visit marks in front of a store; see the package comment.
// It implements the visits part of a store (MarkVisit, Visits,
// ForgetVisits) and is safe for concurrent use.
type Batcher struct {
	store data.Visits
	cfg   Config

	mu       sync.Mutex
	pending  marks
	npending int
	writing  marks // the batch being written, nil between flushes
	nwriting int
	seq      uint64
	running  bool   // a flusher goroutine is there; it ends when the queue is empty
	hurry    bool   // someone waits for the queue: flush without waiting out the pause
	fails    int    // flushes failed in a row
	closing  bool   // Close has begun: flush without pausing while flushes work
	backlog  bool   // the last flush left marks past FlushAt: the next goes at once
	closed   bool   // Close has ended: marks are written through
	next     *round // the flush that will take the queue as it is now
	cur      *round // the flush under way, nil between flushes
	wake     chan struct{}

	queued, through, flushes, failures, flushed, dropped atomic.Uint64
	waits                                                atomic.Uint64 // marks and key reads that waited for a flush, for tests
}

// New returns a Batcher writing to store. It starts no goroutine until a
// mark is queued, and its flusher ends whenever the queue is empty, so an
// idle Batcher costs nothing.
func New(store data.Visits, cfg Config) *Batcher {
	return &Batcher{
		store: store,
		cfg:   cfg.withDefaults(),
		next:  &round{done: make(chan struct{})},
		wake:  make(chan struct{}, 1),
	}
}

// MarkVisit queues v for key and returns at once, unless the queue is
// full or closed: then it writes v to the store itself. A mark the store
// would refuse is refused here, as the store would.
func (b *Batcher) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	v, err := data.CheckVisit(key, v)
	if err != nil {
		return err
	}
	for {
		b.mu.Lock()
		if e := b.pending.get(key, v.PostSlug); e != nil {
			e.v.SeenID = max(e.v.SeenID, v.SeenID)
			e.v.Position = v.Position
			b.seq++
			e.seq = b.seq
			b.mu.Unlock()
			b.queued.Add(1)
			return nil
		}
		full := b.closed || b.npending+b.nwriting >= b.cfg.MaxPending
		if !full {
			b.addLocked(key, &entry{v: v})
			b.mu.Unlock()
			b.queued.Add(1)
			return nil
		}
		if b.writing.get(key, v.PostSlug) == nil {
			b.mu.Unlock()
			return b.writeThrough(ctx, key, v)
		}
		// The queue is full or closed and this post's last mark is being
		// written: written now, this one could land first and be
		// overwritten by the older. It waits for that flush, then tries
		// again.
		done := b.cur.done
		b.mu.Unlock()
		b.waits.Add(1)
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Batcher) writeThrough(ctx context.Context, key string, v data.Visit) error {
	b.through.Add(1)
	return b.store.MarkVisit(ctx, key, v)
}

// addLocked queues e, new to the queue, and sees that a flush will come.
// An entry back from a failed flush keeps its place in the order.
func (b *Batcher) addLocked(key string, e *entry) {
	if b.pending == nil {
		b.pending = make(marks)
	}
	bySlug := b.pending[key]
	if bySlug == nil {
		bySlug = make(map[string]*entry)
		b.pending[key] = bySlug
	}
	if e.seq == 0 {
		b.seq++
		e.seq = b.seq
	}
	bySlug[e.v.PostSlug] = e
	b.npending++
	b.startLocked()
	if b.npending >= b.cfg.FlushAt && b.fails == 0 {
		b.poke()
	}
}

// startLocked starts the flusher if none is running. The flusher sleeps
// out its pause on a timer armed for the queue's first mark, so there is
// no ticker while nothing is queued.
func (b *Batcher) startLocked() {
	if !b.running {
		b.running = true
		go b.run()
	}
}

// poke wakes the flusher if it is pausing.
func (b *Batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// run is the flusher: it pauses, writes the queue, and ends once the
// queue is empty.
func (b *Batcher) run() {
	for {
		b.mu.Lock()
		if b.npending == 0 {
			// Whatever failed before is behind us: the next mark starts
			// afresh, not after the longest pause.
			b.running = false
			b.fails = 0
			b.mu.Unlock()
			return
		}
		pause := b.pauseLocked()
		b.mu.Unlock()
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-b.wake:
			}
			t.Stop()
		}
		b.flush()
	}
}

// pauseLocked is how long the flusher waits before the next flush: not at
// all when someone waits for it or the queue has reached FlushAt, Every
// normally, and longer after each failed flush.
func (b *Batcher) pauseLocked() time.Duration {
	if b.hurry {
		return 0
	}
	if b.fails == 0 {
		if b.closing || b.backlog || b.npending >= b.cfg.FlushAt {
			return 0
		}
		return b.cfg.Every
	}
	if b.closing {
		// Shutdown has little time: keep trying at the first pace.
		return b.cfg.Every
	}
	pause := b.cfg.Every
	for i := 1; i < b.fails && pause < MaxBackoff; i++ {
		pause *= 2
	}
	return min(pause, max(MaxBackoff, b.cfg.Every))
}

// flush writes the queue's oldest marks, FlushAt at most, in one
// transaction. On failure the marks go back
// into the queue, folded with any that came meanwhile (those are newer:
// their position and place win, the highest seen ID is kept), except the
// ones Close has given up on meanwhile: those are dropped.
func (b *Batcher) flush() {
	b.mu.Lock()
	// This flush answers every wake-up so far.
	select {
	case <-b.wake:
	default:
	}
	b.hurry = false
	if b.npending == 0 {
		// Close gave the queue up while the flusher paused: there is
		// nothing to write, and no transaction to count.
		b.mu.Unlock()
		return
	}
	r := b.next
	b.cur, b.next = r, &round{done: make(chan struct{})}
	type queued struct {
		key string
		e   *entry
	}
	batch := make([]queued, 0, b.npending)
	for key, bySlug := range b.pending {
		for _, e := range bySlug {
			batch = append(batch, queued{key, e})
		}
	}
	// In the order they were marked, so that the store's bound keeps the
	// latest when one key marks more posts than it keeps, and at most
	// FlushAt of them, the oldest: one transaction holding a long queue
	// (after an outage) would keep SQLite's write lock long enough to make
	// comment writes time out. The rest go in the next flush, at once.
	slices.SortFunc(batch, func(x, y queued) int { return cmp.Compare(x.e.seq, y.e.seq) })
	batch = batch[:min(len(batch), b.cfg.FlushAt)]
	b.writing, b.nwriting = make(marks), len(batch)
	sorted := make([]data.KeyedVisit, len(batch))
	for i, q := range batch {
		sorted[i] = data.KeyedVisit{Key: q.key, Visit: q.e.v}
		bySlug := b.writing[q.key]
		if bySlug == nil {
			bySlug = make(map[string]*entry)
			b.writing[q.key] = bySlug
		}
		bySlug[q.e.v.PostSlug] = q.e
		delete(b.pending[q.key], q.e.v.PostSlug)
		if len(b.pending[q.key]) == 0 {
			delete(b.pending, q.key)
		}
	}
	b.npending -= len(batch)
	b.backlog = b.npending > 0
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	err := b.store.MarkVisits(ctx, sorted)
	cancel()
	if data.IsSkippedVisits(err) {
		// Every mark was checked when it was queued, so this is a fault
		// of ours; the others are stored, and retrying would not help.
		b.cfg.Log.Error("visit marks refused by the store", "marks", len(sorted), "err", err)
		err = nil
	}

	b.mu.Lock()
	var dropped int
	if err != nil {
		b.fails++
		for key, bySlug := range b.writing {
			for slug, e := range bySlug {
				if b.closed {
					dropped++
					continue
				}
				if p := b.pending.get(key, slug); p != nil {
					p.v.SeenID = max(p.v.SeenID, e.v.SeenID)
					continue
				}
				b.addLocked(key, e)
			}
		}
	}
	fails := b.fails
	if err == nil {
		b.fails = 0
		b.flushes.Add(1)
		b.flushed.Add(uint64(len(sorted)))
	} else {
		b.failures.Add(1)
	}
	b.dropped.Add(uint64(dropped))
	b.writing, b.nwriting = nil, 0
	b.cur = nil
	// The counts are up to date before anyone waiting hears of the end.
	r.err = err
	close(r.done)
	b.mu.Unlock()

	// Counts and errors only: the marks' keys identify visitors.
	switch {
	case err == nil && fails > 0:
		b.cfg.Log.Info("visit marks written again", "marks", len(sorted), "after_failures", fails)
	case err != nil:
		b.cfg.Log.Warn("visit marks not written; they wait for the next flush", "marks", len(sorted), "failures", fails, "err", err)
	}
	if dropped > 0 {
		b.cfg.Log.Error("visit marks not written at shutdown", "marks", dropped, "err", err)
	}
}

// settle waits until the marks queued for key, or for every key when all
// is set, are written, hurrying the flush. It answers the flush's
// error when that failed. While flushes are failing, a key's read waits
// for the next try instead of hurrying it: sessions opening during an
// outage would otherwise send the failing database a flush each.
func (b *Batcher) settle(ctx context.Context, key string, all bool) error {
	for waited := false; ; waited = true {
		b.mu.Lock()
		var r *round
		switch {
		case (all && b.npending > 0) || (!all && b.pending[key] != nil):
			r = b.next
			if all || b.fails == 0 {
				b.hurry = true
				b.poke()
			}
			b.startLocked()
		case (all && b.nwriting > 0) || (!all && b.writing[key] != nil):
			r = b.cur
		}
		b.mu.Unlock()
		if r == nil {
			return nil
		}
		if !waited && !all {
			b.waits.Add(1)
		}
		select {
		case <-r.done:
			if r.err != nil {
				return r.err
			}
			// A flush takes at most FlushAt marks: some of these may be
			// left for the next.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Visits lists key's visits once its queued marks are written, so they
// are among them.
func (b *Batcher) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	if err := b.settle(ctx, key, false); err != nil {
		return nil, err
	}
	return b.store.Visits(ctx, key)
}

// ForgetVisits writes key's queued marks and then deletes all of key's
// visits, so none comes back after and the count includes them.
func (b *Batcher) ForgetVisits(ctx context.Context, key string) (int64, error) {
	if err := b.settle(ctx, key, false); err != nil {
		return 0, err
	}
	return b.store.ForgetVisits(ctx, key)
}

// Flush writes every queued mark and waits until the queue is empty, in
// as many flushes as it takes.
func (b *Batcher) Flush(ctx context.Context) error {
	return b.settle(ctx, "", true)
}

// Close writes every queued mark, marks queued while it works included:
// it hurries the flusher and waits for its rounds, which go on without
// pausing while they work and at the pace of Every while the store fails,
// until the queue is empty or ctx ends. From then on each MarkVisit
// writes through. What it could not write is given up, counted as dropped
// and logged, and the answer is then an error. Close waits for a flush
// still under way (at most Timeout), so the store may be closed after it.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	b.hurry = true // one try at once, even while flushes fail
	b.mu.Unlock()
	var last error
	for {
		b.mu.Lock()
		var r *round
		switch {
		case b.npending > 0:
			r = b.next
			b.poke()
			b.startLocked()
		case b.nwriting > 0:
			r = b.cur
		default:
			// Nothing is queued or being written, so a mark written
			// through from now on cannot be overtaken by an older one.
			b.closed = true
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-r.done:
			if r.err != nil {
				last = r.err
			}
		case <-ctx.Done():
			return b.giveUp(ctx, last)
		}
	}
}

// giveUp ends a Close whose ctx ended with marks unwritten; last is the
// last failed flush's error, if any.
func (b *Batcher) giveUp(ctx context.Context, last error) error {
	err := fmt.Errorf("visit marks given up at shutdown: %w", context.Cause(ctx))
	if last != nil {
		err = fmt.Errorf("%w (the last flush: %w)", err, last)
	}
	b.mu.Lock()
	b.closed = true
	lost := b.npending
	b.pending, b.npending = nil, 0
	// Whoever waits for the queue hears that it was given up, not that
	// it was written.
	r := b.next
	b.next = &round{done: make(chan struct{})}
	r.err = err
	close(r.done)
	// A flush under way gives its marks up if it fails (see flush). It
	// ends within Timeout; the store must not be closed under it.
	cur := b.cur
	b.mu.Unlock()
	if lost > 0 {
		b.dropped.Add(uint64(lost))
		b.cfg.Log.Error("visit marks not written at shutdown", "marks", lost, "err", err)
	}
	if cur != nil {
		t := time.NewTimer(b.cfg.Timeout)
		defer t.Stop()
		select {
		case <-cur.done:
			if lost == 0 && cur.err == nil {
				return nil // the last marks made it after all
			}
		case <-t.C:
		}
	}
	return err
}

// Stats reports what the Batcher has done so far.
func (b *Batcher) Stats() Stats {
	b.mu.Lock()
	pending, writing := b.npending, b.nwriting
	b.mu.Unlock()
	return Stats{
		Queued:         b.queued.Load(),
		WrittenThrough: b.through.Load(),
		Flushes:        b.flushes.Load(),
		Failures:       b.failures.Load(),
		Flushed:        b.flushed.Load(),
		Dropped:        b.dropped.Load(),
		Pending:        pending,
		Writing:        writing,
	}
}
