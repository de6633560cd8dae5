package ui

import (
	"context"

	"blog/data"

	tea "github.com/charmbracelet/bubbletea"
)

// VisitStore is what the interface needs of data.Visits: what a key saw
// of each post, and marking a post opened or left. It is kept in the
// database, so a visitor finds it on any replica.
type VisitStore interface {
	MarkVisit(ctx context.Context, key string, v data.Visit) error
	Visits(ctx context.Context, key string) ([]data.Visit, error)
}

// visitState is what the session knows of the visitor's visits: read once
// when the session starts, then kept up to date here (live comments add to
// the new counts, leaving a post clears them), so the post list costs no
// query. Marks go to the store once when a post is opened and once when it
// is left, never per key press.
type visitState struct {
	loaded bool
	bySlug map[string]data.Visit
}

// visitsMsg carries the visits read when the session started.
type visitsMsg struct {
	visits []data.Visit
	err    error
}

// markedMsg reports a mark that failed; a mark that worked says nothing.
type markedMsg struct{ err error }

// tracksVisits reports whether this session keeps visits: it needs a key
// and a store for them. A keyless visitor gets none of this, and no error.
func (m *Model) tracksVisits() bool {
	return m.cfg.Visits != nil && m.sess.Author.KeyFingerprint != ""
}

// loadVisits reads the visitor's visits once, at the start.
func (m *Model) loadVisits() tea.Cmd {
	if !m.tracksVisits() {
		return nil
	}
	key := m.sess.Author.KeyFingerprint
	return m.run(func(ctx context.Context) tea.Msg {
		vs, err := m.cfg.Visits.Visits(ctx, key)
		return visitsMsg{visits: vs, err: err}
	})
}

func (m *Model) visitsLoaded(msg visitsMsg) tea.Cmd {
	if msg.err != nil {
		// Without them the session works as a keyless one does: no
		// marks, no offers, and nothing said, since nothing is lost.
		m.cfg.log().Warn("load visits", "err", msg.err)
		return nil
	}
	m.visits.loaded = true
	m.visits.bySlug = make(map[string]data.Visit, len(msg.visits))
	for _, v := range msg.visits {
		m.visits.bySlug[v.PostSlug] = v
	}
	if m.reader != nil {
		return m.reader.offerReturn(m)
	}
	return nil
}

// visit returns what the visitor saw of slug, if the visits are known.
func (m *Model) visit(slug string) (data.Visit, bool) {
	if !m.visits.loaded {
		return data.Visit{}, false
	}
	v, ok := m.visits.bySlug[slug]
	return v, ok
}

// mark stores v for the session's key off the update loop.
func (m *Model) mark(v data.Visit) tea.Cmd {
	key := m.sess.Author.KeyFingerprint
	return m.run(func(ctx context.Context) tea.Msg {
		return markedMsg{err: m.cfg.Visits.MarkVisit(ctx, key, v)}
	})
}

// visitEvent keeps the new counts of the post list live: a comment that
// arrives on a post the visitor has read counts as new until they open it
// again; one deleted or hidden before they saw it stops counting.
func (m *Model) visitEvent(ev data.Event) {
	if !m.visits.loaded {
		return
	}
	c := ev.Comment
	v, ok := m.visits.bySlug[c.PostSlug]
	if !ok || c.ID <= v.SeenID || (m.screen == readerScreen && m.reader != nil && m.reader.post.Slug == c.PostSlug) {
		return
	}
	switch {
	case ev.Kind == data.CommentAdded && !c.Hidden:
		v.New++
	case ev.Kind == data.CommentChanged && (ev.Deleted || c.Hidden):
		v.New = max(v.New-1, 0)
	case ev.Kind == data.CommentChanged:
		v.New++ // shown again
	default:
		return
	}
	m.visits.bySlug[c.PostSlug] = v
}

// seenVisit is what the open post's visit is now: the highest comment on
// screen and the reading position as a share of the whole.
func (r *readerState) seenVisit(m *Model) data.Visit {
	v := data.Visit{PostSlug: r.post.Slug}
	if prev, ok := m.visit(r.post.Slug); ok {
		v.SeenID = prev.SeenID
	}
	for _, c := range r.thread.comments {
		v.SeenID = max(v.SeenID, c.ID)
	}
	if mo := r.maxOffset(m); mo > 0 {
		v.Position = r.offset * data.VisitPositionScale / mo
	}
	return v
}

// offerReturn runs once per opened post, when both the visits and the
// first page of comments are there: it finds the first comment new since
// the last visit and the place the visitor stopped, offers to go to them,
// and marks the post opened (keeping the old position until it is left).
func (r *readerState) offerReturn(m *Model) tea.Cmd {
	if r.offered || !m.tracksVisits() || !m.visits.loaded || !r.thread.firstPageLoaded {
		return nil
	}
	r.offered = true
	prev, seen := m.visit(r.post.Slug)
	if seen {
		r.returning, r.prevSeen, r.newSince = true, prev.SeenID, prev.New
		r.resume = prev.Position
		// The note fits 80 columns: it names one comment or several, and the
		// keys that act on it.
		them := map[bool]string{true: "it", false: "them"}[r.newSince == 1]
		switch {
		case r.newSince > 0 && r.resume > 0:
			m.setStatus(plural(r.newSince, "new comment", "new comments")+" since your last visit · u jump to "+them+" · ' where you stopped", false)
		case r.newSince > 0:
			m.setStatus(plural(r.newSince, "new comment", "new comments")+" since your last visit: press u to jump to "+them+".", false)
		case r.resume > 0:
			m.setStatus("Welcome back: press ' to continue where you stopped ("+itoa(r.resume*100/data.VisitPositionScale)+"%).", false)
		}
	}
	v := r.seenVisit(m)
	v.Position = prev.Position
	m.visits.bySlug[r.post.Slug] = v
	return m.mark(v)
}

// leaveVisit is the visit to store as the open post is left: what was
// seen and where reading stopped. ok is false when the session keeps no
// visits.
func (r *readerState) leaveVisit(m *Model) (v data.Visit, ok bool) {
	if !m.tracksVisits() || !m.visits.loaded {
		return data.Visit{}, false
	}
	v = r.seenVisit(m)
	m.visits.bySlug[r.post.Slug] = v
	return v, true
}

// Leave marks the post the visitor is reading as left, with where they
// stopped. The server calls it when the program has ended (the visitor
// quit or hung up), with a context of its own: the session's has ended.
func (m *Model) Leave(ctx context.Context) error {
	if m.reader == nil {
		return nil
	}
	v, ok := m.reader.leaveVisit(m)
	if !ok {
		return nil
	}
	return m.cfg.Visits.MarkVisit(ctx, m.sess.Author.KeyFingerprint, v)
}

// jumpToNew selects the first comment new since the last visit and
// scrolls to it.
func (r *readerState) jumpToNew(m *Model) tea.Cmd {
	t := &r.thread
	idx := -1
	if r.returning {
		// The first new comment as drawn: the thread's own rule for what
		// may be selected (hidden ones for admins, never a placeholder).
		for _, i := range t.visibleIndexes(m) {
			if t.comments[i].ID > r.prevSeen {
				idx = i
				break
			}
		}
	}
	switch {
	case idx < 0 && r.returning && t.hasMore:
		// The new comments are past the pages loaded so far: go to the
		// end, which pages them in.
		r.offset, r.toEnd = r.maxOffset(m), true
		return r.maybeLoadMore(m)
	case idx < 0:
		m.setStatus("Nothing new since your last visit.", false)
		return nil
	}
	t.selected = idx
	t.rebuild(m, r.width)
	r.offset = r.threadStart() + t.lineOf[idx] - 1
	r.clamp(m)
	return r.maybeLoadMore(m)
}

// resumeReading goes back to where the visitor stopped last time.
func (r *readerState) resumeReading(m *Model) tea.Cmd {
	if r.resume <= 0 {
		m.setStatus("No earlier place to go back to in this post.", false)
		return nil
	}
	r.offset = r.resume * r.maxOffset(m) / data.VisitPositionScale
	r.clamp(m)
	return r.maybeLoadMore(m)
}
