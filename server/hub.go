package server

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
	"blog/ui"

	tea "github.com/charmbracelet/bubbletea"
)

// countsRefresh re-reads comment counts now and then, so deletions that
// announce nothing (retention) still show. One query a replica a minute.
const countsRefresh = time.Minute

// hub fans live events out to every open program on this replica and keeps
// the shared comment counts the post list shows.
type hub struct {
	store   data.Store
	metrics *metrics
	log     *slog.Logger

	mu    sync.Mutex
	progs map[*tea.Program]struct{}

	counts atomic.Pointer[map[string]int]
	reload chan struct{}
	// onEvent sees each event before any session does.
	onEvent func(data.Event)
}

func newHub(store data.Store, m *metrics, log *slog.Logger) *hub {
	h := &hub{store: store, metrics: m, log: log, progs: map[*tea.Program]struct{}{}, reload: make(chan struct{}, 1)}
	empty := map[string]int{}
	h.counts.Store(&empty)
	return h
}

func (h *hub) add(p *tea.Program) {
	h.mu.Lock()
	h.progs[p] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(p *tea.Program) {
	h.mu.Lock()
	delete(h.progs, p)
	h.mu.Unlock()
}

func (h *hub) programs() []*tea.Program {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*tea.Program, 0, len(h.progs))
	for p := range h.progs {
		out = append(out, p)
	}
	return out
}

// Counts is the current map of visible comments per post. Callers must not
// modify it.
func (h *hub) Counts() map[string]int { return *h.counts.Load() }

// broadcast sends msg to every program. Send blocks until a program takes
// the message, so each send runs on its own goroutine: a stuck session
// never holds up the others.
func (h *hub) broadcast(msg tea.Msg) {
	for _, p := range h.programs() {
		go p.Send(msg)
	}
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
		case ev.Kind != data.CommentAdded:
			h.requestReload()
		}
		h.broadcast(ui.EventMsg(ev))
	}
}

func (h *hub) observe(ev data.Event) {
	kind := map[data.EventKind]string{data.CommentAdded: "added", data.CommentChanged: "changed", data.Resync: "resync"}[ev.Kind]
	h.metrics.liveEvents.WithLabelValues(kind).Inc()
	if ev.Kind == data.CommentAdded {
		h.metrics.liveEventLag.Observe(time.Since(ev.Comment.CreatedAt).Seconds())
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
