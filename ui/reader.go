package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"blog/data"
	"blog/posts"
	"blog/ui/render"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// commentPage is how many comments are fetched at a time; the server
// shares the first page of each post among its readers.
const commentPage = data.DefaultPageSize

// readerState is one open post: its rendered body, its comments and the
// scroll position over both.
type readerState struct {
	post  posts.Post
	width int // content width the lines were made for
	head  []string
	body  []string // lines of the shared rendered body; never modified
	err   string   // render error, shown instead of the body

	thread thread

	offset   int
	newCount int  // comments that arrived below the reader's view
	toEnd    bool // G was pressed: stay at the end as pages load

	// What the last visit left (see visits.go): offered is set once the
	// offer to jump to what is new or to continue has been made.
	offered   bool
	returning bool  // the visitor had opened this post before
	prevSeen  int64 // the highest comment ID seen then
	newSince  int   // visible comments since then
	resume    int   // where reading stopped, 0 to data.VisitPositionScale
}

// openPost switches to the reader and starts loading comments.
func (m *Model) openPost(p posts.Post) tea.Cmd {
	m.screen = readerScreen
	r := &readerState{post: p, thread: thread{selected: -1}}
	m.reader = r
	cmd := r.thread.loadFirst(m, p.Slug)
	r.layout(m)
	if cmd == nil {
		cmd = tea.Batch(r.maybeLoadMore(m), r.offerReturn(m))
	}
	return cmd
}

// layout (re)builds the lines for the current width, keeping the reader's
// place as a share of the body.
func (r *readerState) layout(m *Model) {
	cw := m.contentWidth()
	if cw < 1 {
		return
	}
	if cw == r.width && r.body != nil {
		r.thread.rebuild(m, cw)
		return
	}
	oldTotal := r.total()
	r.width = cw
	st := m.st
	meta := r.post.Date.Format("2 Jan 2006") + " · " + itoa(r.post.Minutes) + " min read"
	if len(r.post.Tags) > 0 {
		meta += " · " + strings.Join(r.post.Tags, ", ")
	}
	r.head = r.head[:0]
	for _, l := range wrap(r.post.Title, cw) {
		r.head = append(r.head, st.PostTitle.Render(l))
	}
	r.head = append(r.head, st.Meta.Render(truncate(meta, cw)), "")

	body, err := m.cfg.Render.Lines(r.post, cw, render.Style{Profile: m.sess.Look.Profile, Dark: m.sess.Look.Dark})
	if err != nil {
		m.cfg.log().Error("render post", "slug", r.post.Slug, "err", err)
		r.err = "This post could not be shown. The operator has been told."
		body = []string{st.Error.Render(r.err)}
	}
	r.body = body // shared with every reader at this width and look
	r.thread.rebuild(m, cw)
	if oldTotal > 0 && r.offset > 0 {
		r.offset = r.offset * r.total() / oldTotal
	}
	r.clamp(m)
}

func (r *readerState) total() int {
	return len(r.head) + len(r.body) + len(r.thread.lines)
}

// line returns content line i of head, body and thread in turn.
func (r *readerState) line(i int) string {
	if i < len(r.head) {
		return r.head[i]
	}
	i -= len(r.head)
	if i < len(r.body) {
		return r.body[i]
	}
	i -= len(r.body)
	if i < len(r.thread.lines) {
		return r.thread.lines[i]
	}
	return ""
}

// threadStart is the content line where the comments begin.
func (r *readerState) threadStart() int { return len(r.head) + len(r.body) }

// viewHeight is the number of content lines on screen.
func (r *readerState) viewHeight(m *Model) int {
	h := m.height - 4 // header, rule, status, help
	if m.composer != nil {
		h -= m.composer.height()
	}
	if m.subscribe != nil {
		h -= m.subscribe.height()
	}
	return max(h, 0)
}

func (r *readerState) maxOffset(m *Model) int {
	return max(r.total()-r.viewHeight(m), 0)
}

func (r *readerState) atBottom(m *Model) bool { return r.offset >= r.maxOffset(m) }

func (r *readerState) clamp(m *Model) {
	r.offset = max(0, min(r.offset, r.maxOffset(m)))
	if r.atBottom(m) {
		r.newCount = 0
	}
}

// scroll moves by d lines and pages in more comments near the end.
func (r *readerState) scroll(m *Model, d int) tea.Cmd {
	r.toEnd = false
	r.offset += d
	r.clamp(m)
	return r.maybeLoadMore(m)
}

func (r *readerState) maybeLoadMore(m *Model) tea.Cmd {
	vh := r.viewHeight(m)
	if r.offset+2*vh >= r.total() {
		return r.thread.loadMore(m, r.post.Slug)
	}
	return nil
}

func (r *readerState) key(m *Model, k tea.KeyMsg) tea.Cmd {
	vh := r.viewHeight(m)
	t := &r.thread
	if t.confirm != 0 && !key.Matches(k, keys.Delete) {
		t.confirm = 0
	}
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Back):
		v, track := r.leaveVisit(m)
		m.screen = homeScreen
		m.reader = nil
		if track {
			return m.mark(v)
		}
		return nil
	case m.tracksVisits() && key.Matches(k, keys.JumpNew):
		return r.jumpToNew(m)
	case m.tracksVisits() && key.Matches(k, keys.Resume):
		return r.resumeReading(m)
	case key.Matches(k, keys.Copy):
		return r.copyCommand(m)
	case key.Matches(k, keys.Down):
		return r.scroll(m, 1)
	case key.Matches(k, keys.Up):
		return r.scroll(m, -1)
	case key.Matches(k, keys.PageDown):
		return r.scroll(m, max(vh-1, 1))
	case key.Matches(k, keys.PageUp):
		return r.scroll(m, -max(vh-1, 1))
	case key.Matches(k, keys.HalfDown):
		return r.scroll(m, max(vh/2, 1))
	case key.Matches(k, keys.HalfUp):
		return r.scroll(m, -max(vh/2, 1))
	case key.Matches(k, keys.Top):
		r.offset, r.toEnd = 0, false
		return nil
	case key.Matches(k, keys.Bottom):
		r.offset, r.toEnd = r.maxOffset(m), true
		r.newCount = 0
		return r.maybeLoadMore(m)
	case key.Matches(k, keys.Help):
		m.showHelp = true
	case key.Matches(k, keys.Comment):
		return m.openComposer(compose{})
	case key.Matches(k, keys.Subscribe):
		return m.openSubscribe()
	case key.Matches(k, keys.NextComment):
		r.selectComment(m, 1)
	case key.Matches(k, keys.PrevComment):
		r.selectComment(m, -1)
	case key.Matches(k, keys.Delete):
		return r.deleteSelected(m)
	case m.sess.Admin && key.Matches(k, keys.Hide):
		return r.hideSelected(m)
	case m.sess.Admin && key.Matches(k, keys.Ban):
		return r.banSelected(m)
	case k.String() == "r" && t.loadErr != "":
		t.loadErr = ""
		t.rebuild(m, r.width)
		return t.loadMore(m, r.post.Slug)
	case key.Matches(k, keys.Reply):
		return r.replySelected(m)
	case key.Matches(k, keys.Edit):
		return r.editSelected(m)
	}
	return nil
}

// replySelected opens the composer as a reply to the selected comment.
func (r *readerState) replySelected(m *Model) tea.Cmd {
	c, ok := r.selectedComment()
	if !ok {
		m.setStatus("Select a comment first with n or N, then press r to reply to it.", false)
		return nil
	}
	return m.openComposer(compose{replyTo: c.ID, to: data.DisplayName(c.AuthorName)})
}

// editSelected opens the composer on the text of the visitor's own
// selected comment, while it may still be edited.
func (r *readerState) editSelected(m *Model) tea.Cmd {
	c, ok := r.selectedComment()
	if !ok {
		m.setStatus("Select one of your comments first with n or N, then press e to edit it.", false)
		return nil
	}
	if me := m.sess.Author.KeyFingerprint; me == "" || c.AuthorKey != me {
		m.setStatus("You can edit only your own comments.", true)
		return nil
	}
	window := m.cfg.editWindow()
	if m.cfg.now().Sub(c.CreatedAt) > window {
		m.setStatus(capitalize(friendly(&data.EditClosedError{Window: window})), true)
		return nil
	}
	return m.openComposer(compose{edit: c.ID, body: c.Body})
}

func (r *readerState) mouse(m *Model, msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		return r.scroll(m, -3)
	case tea.MouseButtonWheelDown:
		return r.scroll(m, 3)
	}
	return nil
}

// selectComment moves the selection and scrolls it into view.
func (r *readerState) selectComment(m *Model, d int) {
	t := &r.thread
	vis := t.visibleIndexes(m)
	if len(vis) == 0 {
		m.setStatus("There are no comments to select yet.", false)
		return
	}
	pos := -1
	for i, idx := range vis {
		if idx == t.selected {
			pos = i
		}
	}
	switch {
	case pos == -1 && d > 0:
		pos = 0
	case pos == -1:
		pos = len(vis) - 1
	default:
		pos = (pos + d + len(vis)) % len(vis)
	}
	t.selected = vis[pos]
	t.rebuild(m, r.width)
	line := r.threadStart() + t.lineOf[t.selected]
	vh := r.viewHeight(m)
	if line < r.offset || line >= r.offset+vh-2 {
		r.offset = line - 2
	}
	r.clamp(m)
}

func (r *readerState) selectedComment() (data.Comment, bool) {
	t := &r.thread
	if t.selected < 0 || t.selected >= len(t.comments) {
		return data.Comment{}, false
	}
	return t.comments[t.selected], true
}

func (r *readerState) deleteSelected(m *Model) tea.Cmd {
	c, ok := r.selectedComment()
	if !ok {
		m.setStatus("Select one of your comments first with n (next) or N (previous).", false)
		return nil
	}
	own := m.sess.Author.KeyFingerprint != "" && c.AuthorKey == m.sess.Author.KeyFingerprint
	if !own && !m.sess.Admin {
		m.setStatus("You can delete only your own comments.", true)
		return nil
	}
	t := &r.thread
	if t.confirm != c.ID {
		t.confirm = c.ID
		m.setStatus("Delete this comment? Press d again to delete it, any other key to keep it.", false)
		return nil
	}
	t.confirm = 0
	key := m.sess.Author.KeyFingerprint
	admin := m.sess.Admin && !own
	return m.run(func(ctx context.Context) tea.Msg {
		var err error
		if admin {
			err = m.cfg.Store.DeleteComment(ctx, c.ID, key)
		} else {
			err = m.cfg.Store.DeleteOwnComment(ctx, c.ID, key)
		}
		return moderatedMsg{what: "deleted", id: c.ID, err: err}
	})
}

// onSelected runs a moderator's action on the selected comment; act says
// what was done and returns the storage error, if any.
func (r *readerState) onSelected(m *Model, act func(ctx context.Context, c data.Comment, by string) (string, error)) tea.Cmd {
	c, ok := r.selectedComment()
	if !ok {
		m.setStatus("Select a comment first with n or N.", false)
		return nil
	}
	by := m.sess.Author.KeyFingerprint
	return m.run(func(ctx context.Context) tea.Msg {
		what, err := act(ctx, c, by)
		return moderatedMsg{what: what, id: c.ID, err: err}
	})
}

func (r *readerState) hideSelected(m *Model) tea.Cmd {
	return r.onSelected(m, func(ctx context.Context, c data.Comment, by string) (string, error) {
		if c.Hidden {
			return "shown again", m.cfg.Store.SetHidden(ctx, c.ID, false, by)
		}
		return "hidden", m.cfg.Store.SetHidden(ctx, c.ID, true, by)
	})
}

func (r *readerState) banSelected(m *Model) tea.Cmd {
	now := m.cfg.now()
	return r.onSelected(m, func(ctx context.Context, c data.Comment, by string) (string, error) {
		err := m.cfg.Store.Ban(ctx, data.Ban{Target: c.AuthorKey, Until: now.Add(24 * time.Hour), CreatedBy: by, CreatedAt: now})
		return "author banned for 24 hours", err
	})
}

// moderatedMsg reports a delete, hide or ban.
type moderatedMsg struct {
	what string
	id   int64
	err  error
}

func (m *Model) moderated(msg moderatedMsg) {
	switch {
	case errors.Is(msg.err, data.ErrNotFound):
		m.setStatus("That comment is already gone.", true)
	case msg.err != nil:
		m.setStatus("Couldn't do that: "+friendly(msg.err), true)
	default:
		m.setStatus("Comment "+msg.what+".", false)
		if msg.what == "deleted" && m.reader != nil {
			m.reader.thread.gone(m, msg.id, true)
			m.reader.thread.rebuild(m, m.reader.width)
			m.reader.clamp(m)
		}
	}
}

// event applies a live change to the open post.
func (r *readerState) event(m *Model, ev data.Event) tea.Cmd {
	t := &r.thread
	switch ev.Kind {
	case data.Resync:
		r.thread = thread{selected: -1}
		cmd := r.thread.loadMore(m, r.post.Slug)
		r.thread.rebuild(m, r.width)
		r.clamp(m)
		return cmd
	case data.CommentAdded:
		c := ev.Comment
		if c.PostSlug != r.post.Slug || (c.Hidden && !m.sess.Admin) || t.hasMore || t.has(c.ID) {
			return nil
		}
		wasBottom := r.atBottom(m)
		t.add(m, r.post.Slug, c)
		t.rebuild(m, r.width)
		if wasBottom {
			r.offset = r.maxOffset(m)
		} else {
			r.newCount++
		}
	case data.CommentEdited:
		c := ev.Comment
		if c.PostSlug != r.post.Slug || !t.update(c.ID, func(old *data.Comment) { *old = c }) {
			return nil
		}
		t.rebuild(m, r.width)
		r.clamp(m)
	case data.CommentChanged:
		c := ev.Comment
		if c.PostSlug != r.post.Slug {
			return nil
		}
		loaded := t.has(c.ID)
		switch {
		case ev.Deleted || (c.Hidden && !m.sess.Admin):
			t.gone(m, c.ID, ev.Deleted)
		case !m.sess.Admin && (loaded || !t.hasMore), m.sess.Admin && !loaded && !t.hasMore:
			// A comment came back from hiding: fetch the thread again
			// (a reader holds at most its placeholder, without text).
			r.thread = thread{selected: -1}
			return r.thread.loadMore(m, r.post.Slug)
		default:
			t.setHidden(c.ID, c.Hidden)
		}
		t.rebuild(m, r.width)
		r.clamp(m)
	}
	return nil
}

func (r *readerState) loaded(m *Model, msg commentsMsg) tea.Cmd {
	if msg.slug != r.post.Slug {
		return nil
	}
	r.thread.loaded(m, msg)
	r.thread.rebuild(m, r.width)
	if r.toEnd {
		r.offset = r.maxOffset(m)
	}
	r.clamp(m)
	return tea.Batch(r.maybeLoadMore(m), r.offerReturn(m))
}

func (r *readerState) view(m *Model) string {
	st := m.st
	vh := r.viewHeight(m)
	pct := 100
	if mo := r.maxOffset(m); mo > 0 {
		pct = r.offset * 100 / mo
	}
	// Readers at the same place of the same post, seeing it the same way
	// and typing nothing, see the same screen: watchers of a thread share
	// each frame a new comment brings instead of each building it.
	sk, memo := r.screenKey(m, vh, pct)
	caches := m.cfg.caches()
	if memo {
		if f, ok := caches.screens.Get(sk); ok {
			return f
		}
	}
	var b strings.Builder
	b.Grow(m.frameSize) // one allocation, not a doubling series
	left := st.Accent.Render("← ") + st.AppTitle.Render(m.cfg.Title)
	right := st.Dim.Render(truncate(r.post.Title, max(m.width/3, 10)) + "  " + padLeft(itoa(pct)+"%", 4))
	b.WriteString(" " + spread(left, right, m.width-2) + "\n")
	b.WriteString(" " + st.Rule.Render(strings.Repeat("─", m.width-2)) + "\n")
	for i := 0; i < vh; i++ {
		if l := r.line(r.offset + i); l != "" {
			b.WriteByte(' ')
			b.WriteString(l)
		}
		b.WriteByte('\n')
	}
	if memo {
		r.footerView(m, &b)
		f := b.String()
		caches.screens.Add(sk, f)
		return f
	}
	if m.composer != nil {
		b.WriteString(m.composer.view(m))
	}
	if m.subscribe != nil {
		b.WriteString(m.subscribe.view(m))
	}
	r.footerView(m, &b)
	return b.String()
}

// footerView writes the lines under the text: the new comments' notice or
// the status, and the key bar.
func (r *readerState) footerView(m *Model, b *strings.Builder) {
	if r.newCount > 0 && m.status == "" {
		b.WriteString(" " + m.st.NewMark.Render(plural(r.newCount, "new comment", "new comments")+" ↓  press G") + "\n")
		b.WriteString(" " + m.shortHelp(r.helpKeys(m)))
		return
	}
	b.WriteString(m.footer(helpKeys{short: r.helpKeys(m)}))
}

// screenKey names everything a reader's frame shows, when nothing on it is
// the reader's own: no box open (a draft, an address) and no comment
// selected. The post's body is named by its revision (with the width and
// look, that decides how it renders), the thread by its drawing's number:
// the key holds no lines alive.
func (r *readerState) screenKey(m *Model, vh, pct int) (screenKey, bool) {
	if m.composer != nil || m.subscribe != nil || r.thread.selected >= 0 || len(r.head) < 2 {
		return screenKey{}, false
	}
	return screenKey{
		st: m.st, width: m.width, height: m.height, vh: vh, offset: r.offset, pct: pct,
		title: m.cfg.Title, postTitle: r.post.Title, meta: r.head[len(r.head)-2], headLines: len(r.head),
		slug: r.post.Slug, revision: r.post.Revision, bodyLen: len(r.body), err: r.err,
		thread: r.thread.linesID, threadLen: len(r.thread.lines),
		newCount: r.newCount, status: m.status, statusBad: m.statusBad,
	}, true
}

// screenKey is what a shared reader frame is looked up by.
type screenKey struct {
	st                             *Styles
	width, height, vh, offset, pct int
	title, postTitle, meta, err    string
	slug, revision                 string
	headLines, bodyLen, threadLen  int
	thread                         uint64
	newCount                       int
	status                         string
	statusBad                      bool
}

func (r *readerState) helpKeys(m *Model) []key.Binding {
	switch {
	case m.composer != nil:
		return composerHelp
	case m.subscribe != nil:
		return subscribeHelp
	}
	return readerHelp.short
}

// The key bars of the boxes, one slice each so that their drawn bars are
// shared (see shortHelp).
var (
	composerHelp  = []key.Binding{keys.Send, keys.Tab, keys.Close}
	subscribeHelp = []key.Binding{keys.Submit, keys.Close}
)

func padLeft(s string, w int) string {
	if n := w - lipgloss.Width(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}
