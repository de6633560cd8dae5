package server

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
	"blog/internal/stack"
	"blog/ops"
	"blog/terminal"
	"blog/ui"

	tea "github.com/charmbracelet/bubbletea"
)

// countsRefresh is how often the hub re-reads the comment counts, so that
// deletions which announce nothing (retention) still show in the post list.
// That costs each replica one query a minute.
const countsRefresh = time.Minute

// hubStore is what the hub reads: the live events, and the comment counts it
// refreshes after a Resync.
type hubStore interface {
	data.Events
	CommentCounts(ctx context.Context) (map[string]int, error)
}

// hub fans live events out to every open program on this replica and keeps
// the shared comment counts the post list shows.
type hub struct {
	store   hubStore
	metrics *ops.Metrics
	log     *slog.Logger

	mu    sync.Mutex
	progs map[*terminal.Painter]*mailbox

	counts atomic.Pointer[map[string]int]
	reload chan struct{}
	// onEvent sees each event before any session does.
	onEvent func(data.Event)
}

func newHub(store hubStore, m *ops.Metrics, log *slog.Logger) *hub {
	h := &hub{store: store, metrics: m, log: log, progs: map[*terminal.Painter]*mailbox{}, reload: make(chan struct{}, 1)}
	empty := map[string]int{}
	h.counts.Store(&empty)
	return h
}

// add delivers to p from now on (see terminal.Painter.Send).
func (h *hub) add(p *terminal.Painter) {
	h.mu.Lock()
	h.progs[p] = &mailbox{send: p.Send}
	h.mu.Unlock()
}

func (h *hub) remove(p *terminal.Painter) {
	h.mu.Lock()
	delete(h.progs, p)
	h.mu.Unlock()
}

// Counts is the current map of visible comments per post. Callers must not
// modify it.
func (h *hub) Counts() map[string]int { return *h.counts.Load() }

// broadcast posts msg to every program's mailbox; it never waits for one.
func (h *hub) broadcast(msg tea.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, mb := range h.progs {
		mb.post(msg)
	}
}

// maxMailbox is how many messages one program may fall behind by before its
// queued events are replaced by a Resync.
const maxMailbox = 64

// mailbox holds the messages on their way to one program. Delivering one
// blocks (the painter updates the model and writes the frame on the
// delivering goroutine), so a mailbox with messages has one goroutine
// delivering them, which exits once the mailbox is empty: an idle session
// has none, and a stuck one has one, however many events come. The events
// that queue while the program is busy are handed over as one message, so
// a session that cannot keep up with a burst draws fewer frames, each with
// every comment so far, instead of falling further behind. When a
// program falls maxMailbox events behind, its queued events are replaced by
// one Resync, which makes it reload everything (as the store's feed does
// for the hub). A stuck session is closed by the write deadline in the
// end; its program's end makes delivering return, and the mailbox drains.
type mailbox struct {
	send func(tea.Msg) // the program's Send: it blocks while it paints

	mu      sync.Mutex
	queue   []tea.Msg
	sending bool
}

func (mb *mailbox) post(msg tea.Msg) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if len(mb.queue) >= maxMailbox {
		// Keep what is not an event (a shutdown notice).
		kept := mb.queue[:0]
		for _, m := range mb.queue {
			if _, ok := m.(ui.EventMsg); !ok {
				kept = append(kept, m)
			}
		}
		clear(mb.queue[len(kept):])
		mb.queue = append(kept, ui.EventMsg(data.Event{Kind: data.Resync}))
	}
	mb.queue = append(mb.queue, msg)
	if !mb.sending {
		mb.sending = true
		go mb.deliver()
	}
}

func (mb *mailbox) deliver() {
	// Drawing a delivery runs about 8 KB deep on a new goroutine: grown
	// now, its stack is copied once, nearly empty (see internal/stack).
	// At 5,000 watchers this took a tenth off a comment's fan-out CPU.
	stack.Grow()
	for {
		mb.mu.Lock()
		if len(mb.queue) == 0 {
			mb.sending = false
			mb.queue = nil // an idle session keeps no buffer
			mb.mu.Unlock()
			return
		}
		// Take everything queued: events that piled up while the program
		// was busy go over together and are drawn in one frame.
		msgs := mb.queue
		mb.queue = nil
		mb.mu.Unlock()
		for _, msg := range coalesce(msgs) {
			mb.send(msg) // returns at once once the program has ended
		}
	}
}

// coalesce turns each run of events in msgs into one ui.EventsMsg, keeping
// the order of everything.
func coalesce(msgs []tea.Msg) []tea.Msg {
	if len(msgs) == 1 {
		return msgs
	}
	out := msgs[:0]
	var run ui.EventsMsg
	flush := func() {
		switch len(run) {
		case 0:
		case 1:
			out = append(out, ui.EventMsg(run[0]))
		default:
			out = append(out, run)
		}
		run = nil
	}
	for _, msg := range msgs {
		if ev, ok := msg.(ui.EventMsg); ok {
			run = append(run, data.Event(ev))
			continue
		}
		flush()
		out = append(out, msg)
	}
	flush()
	return out
}

// run consumes the store's events until ctx ends.
func (h *hub) run(ctx context.Context) {
	go h.keepCounts(ctx)
	h.requestReload()
	for ev := range h.store.Events(ctx) {
		h.observe(ev)
		if h.onEvent != nil {
			h.onEvent(ev)
		}
		switch {
		case ev.Kind == data.CommentAdded && !ev.Comment.Hidden:
			next := maps.Clone(h.Counts())
			next[ev.Comment.PostSlug]++
			h.counts.Store(&next)
		case ev.Kind != data.CommentAdded && ev.Kind != data.CommentEdited:
			h.requestReload() // an edit changes no count
		}
		h.broadcast(ui.EventMsg(ev))
	}
}

func (h *hub) observe(ev data.Event) {
	kind := map[data.EventKind]string{data.CommentAdded: "added", data.CommentChanged: "changed", data.CommentEdited: "edited", data.Resync: "resync"}[ev.Kind]
	h.metrics.LiveEvents.WithLabelValues(kind).Inc()
	if ev.Kind == data.CommentAdded {
		h.metrics.LiveEventLag.Observe(time.Since(ev.Comment.CreatedAt).Seconds())
	}
}

func (h *hub) requestReload() {
	select {
	case h.reload <- struct{}{}:
	default:
	}
}

// keepCounts reloads counts when asked and once a minute.
func (h *hub) keepCounts(ctx context.Context) {
	t := time.NewTicker(countsRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.reload:
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		counts, err := h.store.CommentCounts(qctx)
		cancel()
		if err != nil {
			h.log.Warn("load comment counts", "err", err)
			continue
		}
		h.counts.Store(&counts)
	}
}
