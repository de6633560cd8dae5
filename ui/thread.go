package ui

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"blog/data"
	"blog/internal/zone"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// thread is the comment section under a post: the comments loaded so far
// (oldest first), paging state and the lines drawn for them.
type thread struct {
	comments        []data.Comment
	hasMore         bool // more pages wait on the server
	loading         bool
	firstPageLoaded bool // the first page has arrived
	loadErr         string
	selected        int // index into comments, -1 for none
	// pagedTo is the last comment of the pages loaded: the next page
	// starts after it. Comments that arrived live may sit past it, so it
	// is not simply the last one held.
	pagedTo int64
	confirm int64 // comment id awaiting a second d

	lines   []string
	lineOf  []int  // first line of each comment within lines
	linesID uint64 // names lines: a new drawing gets a new one
	builtAt time.Time

	mine mineMemo // whether the reader wrote one of comments
}

// mineMemo remembers, for one comments slice (its first element and its
// length name it, as in viewKey), whether the reader wrote one of them.
// The drawing's key needs that at every event, and scanning every
// comment's key for every watcher of a post was a tenth of what the
// model's update cost in a fan-out.
type mineMemo struct {
	first *data.Comment
	n     int
	mine  bool
}

// mineFor is the memo for cs.
func mineFor(cs []data.Comment, mine bool) mineMemo {
	return mineMemo{first: unsafe.SliceData(cs), n: len(cs), mine: mine}
}

// holds says whether the memo was made for cs.
func (mm mineMemo) holds(cs []data.Comment) bool {
	return mm.first != nil && mm.first == unsafe.SliceData(cs) && mm.n == len(cs)
}

// wroteOne reports whether one of the thread's comments is by key me.
func (t *thread) wroteOne(me string) bool {
	if t.mine.holds(t.comments) {
		return t.mine.mine
	}
	mine := slices.ContainsFunc(t.comments, func(c data.Comment) bool { return c.AuthorKey == me })
	t.mine = mineFor(t.comments, mine)
	return mine
}

// commentsMsg is a page of comments (or the error fetching it).
type commentsMsg struct {
	slug     string
	comments []data.Comment
	err      error
}

// loadFirst takes the first page from memory when the backend has it, so
// the reader's first frame shows the comments; otherwise it loads it.
func (t *thread) loadFirst(m *Model, slug string) tea.Cmd {
	if c, ok := m.cfg.Store.(CachedComments); ok {
		if cs, ok := c.CachedComments(slug, t.pageOptions(m, 0)); ok {
			t.loaded(m, commentsMsg{slug: slug, comments: cs})
			return nil
		}
	}
	return t.loadMore(m, slug)
}

func (t *thread) pageOptions(m *Model, after int64) data.ListOptions {
	return data.ListOptions{AfterID: after, Limit: commentPage, IncludeHidden: m.sess.Admin}
}

func (t *thread) loadMore(m *Model, slug string) tea.Cmd {
	if t.loading || (t.firstPageLoaded && !t.hasMore) || t.loadErr != "" {
		return nil
	}
	t.loading = true
	opt := t.pageOptions(m, t.pagedTo)
	return m.run(func(ctx context.Context) tea.Msg {
		cs, err := m.cfg.Store.Comments(ctx, slug, opt)
		return commentsMsg{slug: slug, comments: cs, err: err}
	})
}

func (t *thread) loaded(m *Model, msg commentsMsg) {
	t.loading = false
	if msg.err != nil {
		m.cfg.log().Warn("load comments", "slug", msg.slug, "err", msg.err)
		t.loadErr = "Couldn't load comments: " + friendly(msg.err) + " Press r to try again."
		return
	}
	t.firstPageLoaded = true
	t.hasMore = len(msg.comments) == commentPage
	if n := len(msg.comments); n > 0 {
		t.pagedTo = max(t.pagedTo, msg.comments[n-1].ID)
	}
	if len(t.comments) == 0 {
		// Keep the page as it came: it may be the server's shared first
		// page, which this session then holds without a copy.
		t.comments = msg.comments
		return
	}
	for _, c := range msg.comments {
		if !t.has(c.ID) {
			t.comments = append(t.comments, c)
		}
	}
	t.sort()
}

func (t *thread) has(id int64) bool {
	for i := len(t.comments) - 1; i >= 0; i-- {
		if t.comments[i].ID == id {
			return true
		}
	}
	return false
}

// The comments slice may be shared with other sessions: it is never
// changed in place, only replaced.

// add puts c in the thread. When the thread is the server's shared first
// page of slug, the hub has already appended c to it, so the thread takes
// the shared page again instead of a copy of its own: a thousand watchers
// of a post then allocate nothing for a new comment, and hold one slice.
func (t *thread) add(m *Model, slug string, c data.Comment) {
	// What was known of the comments held stays true with c among them.
	known := t.mine.holds(t.comments)
	me := m.sess.Author.KeyFingerprint
	mine := t.mine.mine || me != "" && c.AuthorKey == me
	if shared, ok := t.sharedWith(m, slug, c); ok {
		t.comments = shared
	} else {
		t.comments = append(slices.Clip(t.comments), c)
		t.sort()
	}
	if known {
		t.mine = mineFor(t.comments, mine)
	}
}

// sharedWith returns the shared first page of slug if it is this thread
// with c added at its end.
func (t *thread) sharedWith(m *Model, slug string, c data.Comment) ([]data.Comment, bool) {
	cached, ok := m.cfg.Store.(CachedComments)
	if !ok {
		return nil, false
	}
	// As many as the thread holds, and c: a thread grows past its first
	// page as comments come in.
	opt := t.pageOptions(m, 0)
	opt.Limit = len(t.comments) + 1
	if opt.Limit > data.MaxPageSize {
		return nil, false
	}
	cs, ok := cached.CachedComments(slug, opt)
	if !ok || len(cs) != len(t.comments)+1 {
		return nil, false
	}
	// The shared page is this thread with c in its place: at the end, or
	// before comments stored after it but announced first.
	i, added := 0, false
	for _, x := range cs {
		if !added && x.ID == c.ID {
			added = true
			continue
		}
		if i == len(t.comments) || !sameState(x, t.comments[i]) {
			return nil, false
		}
		i++
	}
	return cs, added
}

// sameState reports whether a shared comment is as this reader holds it.
// The shared page hears a moderation event apart from each reader: the
// reader's own deletion, say, may have blanked a comment the shared page
// still holds whole. Taken then, the page would undo it, and what the
// thread remembers of it (whether the reader wrote one, thread.mine)
// would no longer hold. Shared comments compare their strings by pointer
// first, so this stays cheap for the watchers of one post.
func sameState(a, b data.Comment) bool {
	return a.ID == b.ID && a.Hidden == b.Hidden && a.Deleted == b.Deleted &&
		a.AuthorKey == b.AuthorKey && a.EditedAt.Equal(b.EditedAt)
}

func (t *thread) sort() {
	byID := func(a, b data.Comment) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(t.comments, byID) {
		t.comments = slices.Clone(t.comments)
		slices.SortStableFunc(t.comments, byID)
	}
}

func (t *thread) remove(m *Model, id int64) {
	for i, c := range t.comments {
		if c.ID == id {
			t.comments = slices.Concat(t.comments[:i], t.comments[i+1:])
			if t.selected == i {
				t.selected = -1
			} else if t.selected > i {
				t.selected--
			}
			break
		}
	}
	if m.reader != nil {
		t.rebuild(m, m.reader.width)
	}
}

// setHidden updates a loaded comment; false when it is not loaded.
func (t *thread) setHidden(id int64, hidden bool) bool {
	return t.update(id, func(c *data.Comment) { c.Hidden = hidden })
}

// update changes a loaded comment in a copy of the thread; false when it
// is not loaded.
func (t *thread) update(id int64, fn func(*data.Comment)) bool {
	i := t.index(id)
	if i < 0 {
		return false
	}
	t.comments = slices.Clone(t.comments)
	fn(&t.comments[i])
	return true
}

// index is where comment id is in t.comments, -1 when not loaded.
func (t *thread) index(id int64) int {
	for i := len(t.comments) - 1; i >= 0; i-- {
		if t.comments[i].ID == id {
			return i
		}
	}
	return -1
}

// hasReplies reports whether a loaded comment answers id.
func (t *thread) hasReplies(id int64) bool {
	for _, c := range t.comments {
		if c.ReplyTo == id {
			return true
		}
	}
	return false
}

// gone handles the deletion of id, or its hiding from a reader: a
// comment with replies stays as a placeholder without text or author, as
// the store keeps it, so the replies keep their context; any other goes.
func (t *thread) gone(m *Model, id int64, deleted bool) {
	if !t.hasReplies(id) {
		t.remove(m, id)
		return
	}
	t.update(id, func(c *data.Comment) {
		c.AuthorName, c.AuthorKey, c.Body, c.EditedAt = "", "", "", time.Time{}
		if deleted {
			c.Deleted = true
		} else {
			c.Hidden = true
		}
	})
	if i := t.index(id); i == t.selected {
		t.selected = -1
	}
}

// placeholder reports whether this visitor sees c only as a stand-in
// for the replies under it.
func placeholder(m *Model, c data.Comment) bool {
	return c.Placeholder() || c.Hidden && !m.sess.Admin
}

// layout is the order the comments are drawn in, how deep each is and
// whether this visitor sees it: every comment that answers none (or one
// not loaded) in the order posted, each followed by all the replies under
// it, however deep, in the order posted, drawn one step in. A hidden
// comment or a placeholder is seen only when a reply under it is.
func (t *thread) layout(m *Model) (order, depth []int, shown []bool) {
	n := len(t.comments)
	// Without replies there is nothing to work out: skip the map.
	var at map[int64]int
	if slices.ContainsFunc(t.comments, func(c data.Comment) bool { return c.ReplyTo != 0 }) {
		at = make(map[int64]int, n)
		for i, c := range t.comments {
			at[c.ID] = i
		}
	}
	// parent[i] is the loaded comment i answers, -1 for none. Parents
	// come before replies (IDs only grow), so one pass finds every root.
	parent := make([]int, n)
	root := make([]int, n)
	replies := false
	for i, c := range t.comments {
		parent[i], root[i] = -1, i
		if p, ok := at[c.ReplyTo]; ok && c.ReplyTo != 0 && p < i {
			parent[i], root[i] = p, root[p]
			replies = true
		}
	}
	shown = make([]bool, n)
	for i := n - 1; i >= 0; i-- {
		shown[i] = shown[i] || !placeholder(m, t.comments[i])
		if shown[i] && parent[i] >= 0 {
			shown[parent[i]] = true
		}
	}
	depth = make([]int, n)
	order = make([]int, 0, n)
	if !replies {
		for i := range n {
			order = append(order, i)
		}
		return order, depth, shown
	}
	under := make(map[int][]int)
	for i := range n {
		if root[i] != i {
			under[root[i]] = append(under[root[i]], i)
			depth[i] = 1
		}
	}
	for i := range n {
		if root[i] == i {
			order = append(order, i)
			order = append(order, under[i]...)
		}
	}
	return order, depth, shown
}

// visibleIndexes are the comments this visitor can select, in the order
// drawn: not placeholders.
func (t *thread) visibleIndexes(m *Model) []int {
	order, _, shown := t.layout(m)
	out := order[:0]
	for _, i := range order {
		if shown[i] && !placeholder(m, t.comments[i]) {
			out = append(out, i)
		}
	}
	return out
}

// replyingTo names the comment c answers, when it is a reply to a reply
// (drawn at the same depth as its parent, so the name tells them apart).
func (t *thread) replyingTo(m *Model, c data.Comment, depth []int) string {
	if c.ReplyTo == 0 {
		return ""
	}
	p := t.index(c.ReplyTo)
	if p < 0 || depth[p] == 0 {
		return ""
	}
	return authorOf(m, t.comments[p])
}

// authorOf is the name a comment is known by, or what stands in for it.
func authorOf(m *Model, c data.Comment) string {
	switch {
	case c.Deleted:
		return "[deleted]"
	case placeholder(m, c):
		return "[hidden]"
	}
	return data.DisplayName(c.AuthorName)
}

// count is the number shown in "Comments (N)".
func (t *thread) count(m *Model, slug string) int {
	if t.firstPageLoaded && !t.hasMore {
		n := 0
		for _, c := range t.comments {
			if !c.Hidden && !c.Deleted {
				n++
			}
		}
		return n
	}
	return max(m.cfg.counts()[slug], len(t.comments))
}

// stale reports whether relative times ("3 minutes ago") need redrawing.
func (t *thread) stale(now time.Time) bool {
	return now.Sub(t.builtAt) > 30*time.Second
}

// rebuild draws the comment section for width w. Every part of it is a
// block shared across sessions (the heading and footer, each comment not
// selected), and a session whose blocks are the same as another's takes
// that session's drawing instead of a copy: a thousand readers of a post
// hold its thread once.
func (t *thread) rebuild(m *Model, w int) {
	st := m.st
	now := m.cfg.now()
	t.builtAt = now
	slug := ""
	if m.reader != nil {
		slug = m.reader.post.Slug
	}
	me := m.sess.Author.KeyFingerprint
	caches := m.cfg.caches()
	fk := frameKey{t.count(m, slug), t.state(), t.loadErr != "", me == "", w, st}
	// Readers of a post who see the same comments the same way share the
	// whole drawing: a new comment is laid out once per width and look,
	// not once per watcher.
	vk, memo := t.viewKey(m, fk)
	if memo {
		if v, ok := caches.views.Get(vk); ok && !now.Before(v.from) && now.Before(v.until) {
			t.lines, t.lineOf, t.linesID = v.lines, v.lineOf, v.id
			return
		}
	}
	frame := caches.frameFor(fk)

	// Parts go in the order drawn, an empty one for a comment not seen,
	// so the drawing has one part a comment.
	order, depth, seen := t.layout(m)
	parts := make([][]string, 0, len(t.comments)+2)
	parts = append(parts, frame.head)
	shared := true
	for _, i := range order {
		c := t.comments[i]
		if !seen[i] {
			parts = append(parts, nil)
			continue
		}
		d := drawn{own: me != "" && c.AuthorKey == me, when: ago(c.CreatedAt, now, m.sess.Location), depth: depth[i],
			replyingTo: t.replyingTo(m, c, depth), stub: placeholder(m, c)}
		if d.stub {
			d.when, d.own = "", false
		}
		if i == t.selected {
			// The selected comment shows when it was written, in the
			// visitor's zone.
			d.selected = true
			if !d.stub {
				d.when = zone.Stamp(c.CreatedAt, m.sess.Location)
			}
			parts = append(parts, drawComment(m, c, w, d))
			shared = false
			continue
		}
		k := blockKey{c.AuthorName, data.KeyTag(c.AuthorKey), c.Body, c.CreatedAt.UnixNano(), w, st, d.when,
			d.own, c.Hidden, m.cfg.moderator(c.AuthorKey), d.depth, d.replyingTo, !c.EditedAt.IsZero(), d.stub, c.Deleted}
		ls, ok := caches.blocks.Get(k)
		if !ok {
			ls = drawComment(m, c, w, d)
			caches.blocks.Add(k, ls)
		}
		parts = append(parts, ls)
	}
	inOrder := true
	for k, i := range order {
		inOrder = inOrder && k == i
	}
	parts = append(parts, frame.tail)
	d := caches.drawingOf(parts, shared)
	t.lines, t.lineOf, t.linesID = d.lines, d.lineOf, d.id
	if !inOrder {
		// lineOf is by part; the selection needs it by comment.
		t.lineOf = make([]int, len(t.comments))
		for k, i := range order {
			t.lineOf[i] = d.lineOf[k]
		}
	}
	if memo {
		// The key holds the comments alive too: they count.
		v := &threadView{lines: t.lines, lineOf: t.lineOf, id: t.linesID, from: now, until: farFuture}
		for _, c := range t.comments {
			v.until = minTime(v.until, agoChanges(c.CreatedAt, now))
			v.comments += int64(unsafe.Sizeof(c)) + int64(len(c.Body)+len(c.AuthorName)+len(c.AuthorKey)+len(c.PostSlug))
		}
		caches.views.Add(vk, v)
	}
}

// viewKey names everything a thread's drawing depends on, when it can be
// shared: nothing selected (the selection is drawn for one reader) and the
// comments a slice that is never written in place (the shared page, or a
// reader's copy; every change to a thread makes a new slice). The first
// element's address, the length and the last comment tell the slices
// apart. A reader whose key wrote none of these comments draws them as
// any other reader with a key does.
func (t *thread) viewKey(m *Model, fk frameKey) (viewKey, bool) {
	if t.selected >= 0 || len(t.comments) == 0 {
		return viewKey{}, false
	}
	last := t.comments[len(t.comments)-1]
	k := viewKey{frame: fk, first: unsafe.SliceData(t.comments), n: len(t.comments), lastID: last.ID,
		lastCreated: last.CreatedAt.UnixNano(), loc: m.sess.Location, admin: m.sess.Admin}
	if me := m.sess.Author.KeyFingerprint; me != "" && t.wroteOne(me) {
		k.me = me
	}
	return k, true
}

// viewKey is what a shared thread drawing is looked up by.
type viewKey struct {
	frame       frameKey
	first       *data.Comment
	n           int
	lastID      int64
	lastCreated int64
	loc         *time.Location
	admin       bool
	me          string // the reader's key, when it wrote one of the comments
}

// threadView is a whole thread drawn, good while the "ago" times it shows
// stay as they are.
type threadView struct {
	lines       []string
	lineOf      []int
	id          uint64 // the drawing's
	from, until time.Time
	comments    int64 // bytes of the comments its key keeps alive
}

// farFuture is later than any time a drawing could change.
var farFuture = time.Unix(1<<62, 0)

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// agoChanges is when ago(t, now) next reads differently: the next minute,
// hour or day, or never once it shows a date.
func agoChanges(t, now time.Time) time.Time {
	d := now.Sub(t)
	step := func(unit time.Duration) time.Time { return t.Add((max(d, 0)/unit + 1) * unit) }
	switch {
	case d < time.Minute:
		return t.Add(time.Minute)
	case d < time.Hour:
		return step(time.Minute)
	case d < 24*time.Hour:
		return step(time.Hour)
	case d < 48*time.Hour:
		return t.Add(48 * time.Hour)
	case d < 30*24*time.Hour:
		return step(24 * time.Hour)
	}
	return farFuture
}

// state is the line under the comments: loading, an error, or the end.
func (t *thread) state() string {
	switch {
	case t.loadErr != "":
		return t.loadErr
	case t.loading && !t.firstPageLoaded:
		return "Loading comments…"
	case t.hasMore:
		return "Loading more comments as you scroll…"
	case len(t.comments) == 0:
		return "No comments yet. Be the first!"
	}
	return "No more comments. Check back later for more!"
}

// frameKey names the lines around the comments.
type frameKey struct {
	count   int
	state   string
	failed  bool // state is an error
	keyless bool // the visitor has no key, so cannot comment
	width   int
	st      *Styles
}

// threadFrame is the heading above the comments and everything below them.
type threadFrame struct{ head, tail []string }

func (c *Caches) frameFor(k frameKey) threadFrame {
	if f, ok := c.frames.Get(k); ok {
		return f
	}
	st, w := k.st, k.width
	var f threadFrame
	f.head = []string{"", st.Rule.Render(strings.Repeat("─", w)), st.Section.Render("Comments (" + itoa(k.count) + ")"), ""}
	wrapped := func(style Ink, s string) {
		for _, l := range wrap(s, w) {
			f.tail = append(f.tail, style.Render(l))
		}
	}
	if k.failed {
		wrapped(st.Error, k.state)
	} else {
		wrapped(st.Dim, k.state)
	}
	f.tail = append(f.tail, "")
	if k.keyless {
		wrapped(st.Dim, "To comment, connect with an SSH key (ssh-keygen -t ed25519).")
	} else {
		wrapped(st.Accent, "Leave a comment: press c")
	}
	f.tail = append(f.tail, "", st.Section.Render("Enjoyed this post?"))
	wrapped(st.Summary, "Subscribe to the newsletter for new posts: press s")
	f.tail = append(f.tail, "")
	c.frames.Add(k, f)
	return f
}

// drawing is a thread laid out as lines, with where each comment starts.
type drawing struct {
	id     uint64     // unique: frames name the drawing they show by it
	parts  [][]string // the shared blocks it was made of
	lines  []string
	lineOf []int // first line of comment i (parts[i+1])
}

// drawingIDs numbers drawings.
var drawingIDs atomic.Uint64

// drawingSeed hashes blocks to find the drawing of a thread sessions are
// showing (Caches.drawings).
var drawingSeed = maphash.MakeSeed()

// drawingOf lays out parts. When every part is a shared block, a drawing
// made of the same blocks is reused: blocks are never modified, so the
// same blocks make the same lines.
func (c *Caches) drawingOf(parts [][]string, shared bool) *drawing {
	var h uint64
	if shared {
		var mh maphash.Hash
		mh.SetSeed(drawingSeed)
		for _, p := range parts {
			if len(p) > 0 {
				mh.WriteString(p[0])
			}
			mh.WriteByte(byte(len(p)))
		}
		h = mh.Sum64()
		if d, ok := c.drawings.Get(h); ok && sameBlocks(d.parts, parts) {
			return d
		}
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	d := &drawing{id: drawingIDs.Add(1), parts: parts, lines: make([]string, 0, n), lineOf: make([]int, 0, max(len(parts)-2, 0))}
	for i, p := range parts {
		if i > 0 && i < len(parts)-1 {
			d.lineOf = append(d.lineOf, len(d.lines))
		}
		d.lines = append(d.lines, p...)
	}
	if shared {
		c.drawings.Add(h, d)
	} else {
		d.parts = nil
	}
	return d
}

// sameBlocks reports whether a and b are made of the very same blocks.
func sameBlocks(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || len(a[i]) > 0 && &a[i][0] != &b[i][0] {
			return false
		}
	}
	return true
}

// drawn is how one comment is drawn for this visitor.
type drawn struct {
	selected, own bool
	when          string // how long ago it was posted
	depth         int    // 0, or 1 for a reply
	replyingTo    string // the name a reply to a reply answers
	stub          bool   // a placeholder: "[deleted]" or "[hidden]"
}

// replyIndent is how far in replies are drawn.
const replyIndent = "  "

// drawComment is one comment's lines: head, body and a blank line; a
// reply one step in, with whom it answers when that is not its parent
// above; a placeholder as one line.
func drawComment(m *Model, c data.Comment, w int, d drawn) []string {
	st := m.st
	bar := "  "
	if d.selected {
		bar = st.Bar.Render("▌ ")
	}
	if d.depth > 0 {
		bar = replyIndent + bar
		w -= len(replyIndent)
	}
	var lines []string
	if d.replyingTo != "" {
		lines = append(lines, bar+st.Dim.Render(truncate("↳ replying to "+d.replyingTo, w-2)))
	}
	if d.stub {
		what := "[hidden]"
		if c.Deleted {
			what = "[deleted]"
		}
		return append(lines, bar+st.HiddenBody.Render(what), "")
	}
	selected, own, when := d.selected, d.own, d.when
	// Actions are offered on the selected comment only, to keep the
	// thread quiet.
	var tags []string
	if own {
		tags = append(tags, st.You.Render("(you)"))
	}
	if !c.EditedAt.IsZero() {
		tags = append(tags, st.Dim.Render("edited"))
	}
	if c.Hidden {
		tags = append(tags, st.Error.Render("[hidden]"))
	}
	switch {
	case !selected:
	case m.sess.Admin && own:
		tags = append(tags, st.Dim.Render("H hide · B ban · d delete · e edit · r reply"))
	case m.sess.Admin:
		tags = append(tags, st.Dim.Render("H hide · B ban · d delete · r reply"))
	case own:
		tags = append(tags, st.Dim.Render("e edit · d delete · r reply"))
	case m.sess.Author.KeyFingerprint != "":
		tags = append(tags, st.Dim.Render("r reply"))
	}
	head := commentHead(st, c.AuthorName, c.AuthorKey, m.cfg.moderator(c.AuthorKey), when, w-2)
	// Too narrow for the name and the exact time: the selected comment is
	// where the time is read, so it leads the actions, or takes a line of
	// its own after them when both do not fit.
	var timeLine string
	if selected && when != "" && !strings.Contains(ansi.Strip(head), when) {
		if wide := ansi.StringWidth(when) + 2 + ansi.StringWidth(strings.Join(tags, "  ")); len(tags) == 0 || wide <= w-2 {
			tags = append([]string{st.Dim.Render(when)}, tags...)
		} else {
			timeLine = st.Dim.Render(truncate(when, w-2))
		}
	}
	right := strings.Join(tags, "  ")
	if right == "" {
		lines = append(lines, bar+head)
	} else if hw, rw := ansi.StringWidth(head), ansi.StringWidth(right); hw+1+rw <= w-2 {
		lines = append(lines, bar+spread(head, right, w-2))
	} else {
		// Too narrow for both: the actions get a line of their own rather
		// than squeezing out the badge or the key tag.
		lines = append(lines, bar+head, bar+truncate(right, w-2))
	}
	if timeLine != "" {
		lines = append(lines, bar+timeLine)
	}
	bodyStyle := st.Body
	if c.Hidden {
		bodyStyle = st.HiddenBody
	}
	for _, l := range wrap(data.Displayable(c.Body), w-2) {
		lines = append(lines, bar+bodyStyle.Render(l))
	}
	return append(lines, "")
}

// commentHead is a comment's author and time in w columns: the name, a
// moderator's badge, the key tag and how long ago. The badge and the tag
// tell who wrote it, so the name is shortened (and then the time dropped)
// before they are.
func commentHead(st *Styles, name, key string, mod bool, when string, w int) string {
	var mark string
	if mod {
		mark += " " + st.Mod.Render("[mod]")
	}
	if tag := data.KeyTag(key); tag != "" {
		mark += " " + st.Dim.Render("#"+tag)
	}
	when = " · " + when
	name = data.DisplayName(name)
	room := w - ansi.StringWidth(mark) - ansi.StringWidth(when)
	if room < 8 {
		when, room = "", w-ansi.StringWidth(mark)
	}
	return st.Author.Render(truncate(name, max(min(room, 32), 1))) + mark + st.Dim.Render(when)
}

// blockKey names the lines of a comment that is not selected: they
// depend on nothing else, so every session reading it shares them. It
// holds the text, not the id: ids may be reused after a reset, and tests
// run many stores in one process.
type blockKey struct {
	name, tag, body  string
	created          int64
	width            int
	st               *Styles
	when             string
	own, hidden, mod bool
	depth            int
	replyingTo       string
	edited, stub     bool
	deleted          bool
}
