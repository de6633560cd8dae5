package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"blog/data"
	"blog/threads"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

var (
	adaKey = data.Author{KeyFingerprint: "SHA256:adaAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", IP: "192.0.2.1"}
	bobKey = data.Author{KeyFingerprint: "SHA256:bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", IP: "192.0.2.2"}
)

func postAs(t *testing.T, st data.Store, a data.Author, name, body string, replyTo int64) data.Comment {
	t.Helper()
	c, err := st.AddComment(context.Background(), data.NewComment{PostSlug: benchPost, Name: name, Body: body, Author: a, ReplyTo: replyTo})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// threadText is the comment section as plain text.
func threadText(m *Model) string { return ansi.Strip(strings.Join(m.reader.thread.lines, "\n")) }

// lineWith is the first line of the thread holding s, or "".
func lineWith(m *Model, s string) (int, string) {
	for i, l := range m.reader.thread.lines {
		if p := ansi.Strip(l); strings.Contains(p, s) {
			return i, p
		}
	}
	return -1, ""
}

func ctrlS(m *Model) { send(m, tea.KeyMsg{Type: tea.KeyCtrlS}) }

// r on a selected comment writes a reply to it, drawn under it one step
// in and before comments posted later; a reply to the reply stays at
// that depth and names whom it answers. At 40 columns every line fits.
func TestReplyShowsUnderItsParent(t *testing.T) {
	cfg, st := testConfig(t, 0)
	first := postAs(t, st, adaKey, "ada", "first-comment", 0)
	postAs(t, st, adaKey, "ada", "later-comment", 0)
	for _, w := range []int{40, 100} {
		m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: w, Height: 30, Author: bobKey})
		drain(m, m.Init())
		press(m, "r")
		if m.composer != nil || !strings.Contains(m.status, "Select a comment first") {
			t.Fatalf("r with nothing selected: composer %v, status %q", m.composer != nil, m.status)
		}
		press(m, "n", "r")
		if m.composer == nil || !strings.Contains(ansi.Strip(m.View()), "Replying to ada") {
			t.Fatalf("%d columns: r did not open a reply:\n%s", w, ansi.Strip(m.View()))
		}
		typeRunes(m, "bob-reply-"+itoa(w))
		ctrlS(m)
		if m.composer != nil {
			t.Fatalf("reply not sent: %q", m.status)
		}
		saved, err := st.Comments(context.Background(), benchPost, data.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if last := saved[len(saved)-1]; last.ReplyTo != first.ID {
			t.Fatalf("stored reply %+v, want ReplyTo %d", last, first.ID)
		}
		pi, _ := lineWith(m, "first-comment")
		ri, reply := lineWith(m, "bob-reply-"+itoa(w))
		li, _ := lineWith(m, "later-comment")
		if !(pi < ri && ri < li) {
			t.Fatalf("%d columns: parent at %d, reply at %d, later comment at %d:\n%s", w, pi, ri, li, threadText(m))
		}
		if !strings.HasPrefix(reply, replyIndent+"  bob-reply") {
			t.Fatalf("%d columns: reply line %q is not one step in", w, reply)
		}
	}

	// A reply to the reply: same depth, names whom it answers.
	replies, _ := st.Comments(context.Background(), benchPost, data.ListOptions{})
	bobs := replies[len(replies)-1]
	postAs(t, st, adaKey, "ada", "ada-answers-bob", bobs.ID)
	for _, w := range []int{40, 100} {
		m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: w, Height: 30, Author: bobKey})
		drain(m, m.Init())
		i, deep := lineWith(m, "ada-answers-bob")
		_, note := lineWith(m, "↳ replying to Anonymous")
		if i < 0 || !strings.HasPrefix(deep, replyIndent+"  ada-answers") {
			t.Fatalf("%d columns: a reply to a reply drawn %q, want one step in like its parent:\n%s", w, deep, threadText(m))
		}
		if note == "" {
			t.Fatalf("%d columns: no \"replying to\" line:\n%s", w, threadText(m))
		}
		for _, l := range m.reader.thread.lines {
			if ansi.StringWidth(l) > m.contentWidth() {
				t.Errorf("%d columns: line of %d: %q", w, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
		// n walks the comments in the order drawn.
		var order []string
		for range 5 {
			press(m, "n")
			c, _ := m.reader.selectedComment()
			order = append(order, c.Body)
		}
		want := []string{"first-comment", "bob-reply-40", "bob-reply-100", "ada-answers-bob", "later-comment"}
		if strings.Join(order, ",") != strings.Join(want, ",") {
			t.Fatalf("%d columns: n selects %v, want %v", w, order, want)
		}
	}
}

// A reply arriving live goes under its parent; a deletion of a comment
// with replies leaves "[deleted]" in its place, a hiding "[hidden]" for
// readers and the text for moderators.
func TestLiveRepliesAndPlaceholders(t *testing.T) {
	cfg, st := testConfig(t, 0)
	parent := postAs(t, st, adaKey, "ada", "secret-parent", 0)
	postAs(t, st, adaKey, "ada", "later-comment", 0)
	reader := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30, Author: bobKey})
	drain(reader, reader.Init())
	mod := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30, Admin: true, Author: data.Author{KeyFingerprint: "SHA256:mod"}})
	drain(mod, mod.Init())
	r := postAs(t, st, bobKey, "bob", "live-reply", parent.ID)
	for _, m := range []*Model{reader, mod} {
		m.Update(EventMsg(data.Event{Kind: data.CommentAdded, Comment: r}))
		pi, _ := lineWith(m, "secret-parent")
		ri, _ := lineWith(m, "live-reply")
		li, _ := lineWith(m, "later-comment")
		if !(pi < ri && ri < li) {
			t.Fatalf("live reply at %d, parent %d, later %d:\n%s", ri, pi, li, threadText(m))
		}
	}
	if err := st.SetHidden(context.Background(), parent.ID, true, "SHA256:mod"); err != nil {
		t.Fatal(err)
	}
	hide := data.Event{Kind: data.CommentChanged, Comment: data.Comment{ID: parent.ID, PostSlug: benchPost, Hidden: true}}
	for _, m := range []*Model{reader, mod} {
		m.Update(EventMsg(hide))
	}
	if text := threadText(reader); strings.Contains(text, "secret-parent") || !strings.Contains(text, "[hidden]") || !strings.Contains(text, "live-reply") {
		t.Fatalf("a reader's thread after hiding a comment with a reply:\n%s", text)
	}
	if text := threadText(mod); !strings.Contains(text, "secret-parent") {
		t.Fatalf("a moderator's thread lost the hidden text:\n%s", text)
	}
	// Opened afresh, the reader's page has the same placeholder.
	fresh := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30})
	drain(fresh, fresh.Init())
	if text := threadText(fresh); strings.Contains(text, "secret-parent") || !strings.Contains(text, "[hidden]") {
		t.Fatalf("a fresh reader's thread:\n%s", text)
	}
	// Placeholders cannot be selected.
	press(fresh, "n")
	if c, _ := fresh.reader.selectedComment(); c.ID != r.ID {
		t.Fatalf("n selected %+v, want the reply (a placeholder is skipped)", c)
	}

	if err := st.DeleteComment(context.Background(), parent.ID, "SHA256:mod"); err != nil {
		t.Fatal(err)
	}
	del := data.Event{Kind: data.CommentChanged, Comment: data.Comment{ID: parent.ID, PostSlug: benchPost}, Deleted: true}
	for _, m := range []*Model{reader, mod} {
		m.Update(EventMsg(del))
		text := threadText(m)
		if strings.Contains(text, "secret-parent") || !strings.Contains(text, "[deleted]") || !strings.Contains(text, "live-reply") {
			t.Fatalf("thread after deleting a comment with a reply:\n%s", text)
		}
		if !strings.Contains(text, "Comments (2)") {
			t.Fatalf("placeholders counted:\n%s", text)
		}
	}
	// A comment without replies still goes whole.
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30})
	drain(m, m.Init())
	if !strings.Contains(threadText(m), "[deleted]") {
		t.Fatalf("a fresh thread has no placeholder:\n%s", threadText(m))
	}
}

// e on one's own comment opens it for editing; saved, it is marked
// "edited", live for others too. Someone else's, or one past the window,
// cannot be edited, with a note saying why.
func TestEditOwnComment(t *testing.T) {
	cfg, st := testConfig(t, 0)
	mine := postAs(t, st, adaKey, "ada", "typo-here", 0)
	postAs(t, st, bobKey, "bob", "bobs-comment", 0)
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 40, Height: 30, Author: adaKey})
	drain(m, m.Init())
	other := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 40, Height: 30, Author: bobKey})
	drain(other, other.Init())

	press(m, "n", "n", "e")
	if m.composer != nil || !strings.Contains(m.status, "only your own") {
		t.Fatalf("e on someone else's comment: composer %v, status %q", m.composer != nil, m.status)
	}
	press(m, "N", "e")
	if m.composer == nil || m.composer.text.Value() != "typo-here" || !strings.Contains(ansi.Strip(m.View()), "Edit your comment") {
		t.Fatalf("e on my comment did not open it prefilled:\n%s", ansi.Strip(m.View()))
	}
	for range len("here") {
		send(m, tea.KeyMsg{Type: tea.KeyBackspace})
	}
	typeRunes(m, "fixed")
	ctrlS(m)
	if m.composer != nil || m.status != "Comment edited." {
		t.Fatalf("edit not saved: %q", m.status)
	}
	_, head := lineWith(m, "ada")
	if !strings.Contains(threadText(m), "typo-fixed") || !strings.Contains(threadText(m), "edited") {
		t.Fatalf("edited comment drawn as:\n%s (head %q)", threadText(m), head)
	}
	saved, err := st.Comments(context.Background(), benchPost, data.ListOptions{})
	if err != nil || saved[0].Body != "typo-fixed" || saved[0].EditedAt.IsZero() {
		t.Fatalf("stored %+v, %v", saved, err)
	}
	other.Update(EventMsg(data.Event{Kind: data.CommentEdited, Comment: saved[0]}))
	if text := threadText(other); !strings.Contains(text, "typo-fixed") || strings.Contains(text, "typo-here") || !strings.Contains(text, "edited") {
		t.Fatalf("another session after the edit:\n%s", text)
	}
	for _, l := range m.reader.thread.lines {
		if ansi.StringWidth(l) > m.contentWidth() {
			t.Errorf("line of %d: %q", ansi.StringWidth(l), ansi.Strip(l))
		}
	}

	// Past the window the interface says so at once.
	cfg.Now = func() time.Time { return mine.CreatedAt.Add(data.DefaultEditWindow + time.Second) }
	late := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30, Author: adaKey})
	drain(late, late.Init())
	press(late, "n", "e")
	if late.composer != nil || !strings.Contains(late.status, "first 10 minutes") {
		t.Fatalf("e after the window: composer %v, status %q", late.composer != nil, late.status)
	}
}

// Drafts are kept per reply begun, but no more than maxDrafts of them: a
// visitor opening reply after reply cannot grow the session's memory.
func TestReplyDraftsAreBounded(t *testing.T) {
	cfg, st := testConfig(t, 0)
	for range maxDrafts + 8 {
		postAs(t, st, adaKey, "ada", "a comment to answer", 0)
	}
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30, Author: bobKey})
	drain(m, m.Init())
	for range maxDrafts + 8 {
		press(m, "n", "r")
		if m.composer == nil {
			t.Fatalf("r did not open a reply: %q", m.status)
		}
		typeRunes(m, "draft")
		press(m, "esc")
	}
	if n := len(m.draft.text); n > maxDrafts {
		t.Fatalf("%d drafts kept, want at most %d", n, maxDrafts)
	}
	// The latest is kept whole and comes back.
	press(m, "r")
	if m.composer == nil || m.composer.text.Value() != "draft" {
		t.Fatalf("the last reply's draft did not come back")
	}
	// A keyless visitor is told what r needs.
	k := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30})
	drain(k, k.Init())
	press(k, "n", "r")
	if k.composer != nil || !strings.Contains(k.status, "SSH key") {
		t.Fatalf("keyless r: composer %v, status %q", k.composer != nil, k.status)
	}
}

// Comments that arrive together (a session that fell behind in a burst)
// draw exactly as the same comments arriving one by one.
func TestEventsTogetherDrawAsOneByOne(t *testing.T) {
	cfg, st := testConfig(t, 0)
	parent := postAs(t, st, adaKey, "ada", "first-comment", 0)
	one := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30, Author: bobKey})
	drain(one, one.Init())
	together := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30, Author: bobKey})
	drain(together, together.Init())
	press(one, "G")
	press(together, "G")
	var evs EventsMsg
	for i, body := range []string{"burst-one", "burst-two", "burst-reply", "burst-four"} {
		to := int64(0)
		if i == 2 {
			to = parent.ID
		}
		c := postAs(t, st, bobKey, "bob", body, to)
		ev := data.Event{Kind: data.CommentAdded, Comment: c}
		drain(one, func() tea.Msg { return EventMsg(ev) })
		evs = append(evs, ev)
	}
	drain(together, func() tea.Msg { return evs })
	if a, b := one.View(), together.View(); a != b {
		t.Fatalf("one by one:\n%s\n\ntogether:\n%s", a, b)
	}
	if !strings.Contains(threadText(together), "burst-four") || !strings.Contains(threadText(together), "burst-reply") {
		t.Fatalf("the burst is not drawn:\n%s", threadText(together))
	}
}

// openAtComments opens the bench post as a, at 60x30, at its comments.
func openAtComments(cfg *Config, a data.Author) *Model {
	m := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 60, Height: 30, Author: a})
	drain(m, m.Init())
	press(m, "G")
	return m
}

// Readers who see a thread the same way share one drawing of it, which
// follows the clock: when a comment's "ago" changes, the drawing does. A
// reader who wrote one of the comments, and a reader with a comment
// selected, draw their own.
func TestReadersShareTheThreadView(t *testing.T) {
	cfg, st := testConfig(t, 0)
	cfg.Caches = NewCaches(CacheBudgets{})
	// As on a server: readers share each post's comments, which live
	// events are applied to before any reader hears of them.
	shared := threads.New(st, 0)
	cfg.Store = shared
	clock := time.Now()
	cfg.Now = func() time.Time { return clock }
	postAs(t, st, adaKey, "ada", "older-comment", 0)
	postAs(t, st, adaKey, "ada", "newer-comment", 0)
	open := func(a data.Author) *Model { return openAtComments(cfg, a) }
	one, two := open(bobKey), open(data.Author{KeyFingerprint: "SHA256:carol", IP: "192.0.2.3"})
	own := open(adaKey)
	same := func(a, b *Model) bool {
		la, lb := a.reader.thread.lines, b.reader.thread.lines
		return len(la) > 0 && len(la) == len(lb) && &la[0] == &lb[0]
	}
	if !same(one, two) {
		t.Fatalf("two readers who see the same thread hold two drawings:\n%s\n\n%s", threadText(one), threadText(two))
	}
	if same(one, own) || !strings.Contains(threadText(own), "(you)") {
		t.Fatalf("the author's thread is another reader's:\n%s", threadText(own))
	}
	// A new comment: each draws the thread again, and the two share again.
	if n := cfg.Caches.views.Len(); n != 2 {
		t.Errorf("%d thread views for two readers who see the same and one author, want 2", n)
	}
	c := postAs(t, st, adaKey, "ada", "live-comment", 0)
	shared.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
	for _, m := range []*Model{one, two, own} {
		drain(m, func() tea.Msg { return EventMsg(data.Event{Kind: data.CommentAdded, Comment: c}) })
	}
	if !same(one, two) || !strings.Contains(threadText(two), "live-comment") {
		t.Fatalf("after a live comment:\n%s\n\n%s", threadText(one), threadText(two))
	}
	// Their whole screens are one frame; the author's, with "(you)" on
	// it, and one with the composer open are their own.
	f1, f2, f3 := one.View(), two.View(), own.View()
	if f1 != f2 || unsafe.StringData(f1) != unsafe.StringData(f2) {
		t.Fatalf("two readers at the same place hold two frames:\n%s\n\n%s", f1, f2)
	}
	if unsafe.StringData(f3) == unsafe.StringData(f1) {
		t.Fatal("the author's frame is another reader's")
	}
	press(two, "c")
	if f := two.View(); unsafe.StringData(f) == unsafe.StringData(one.View()) || !strings.Contains(f, "/ 2000") {
		t.Fatalf("with the composer open, the frame is still shared:\n%s", f)
	}
	press(two, "esc")
	// Two minutes on, a keypress redraws a thread older than 30 s: the
	// drawing says so; the one before did not.
	if strings.Contains(threadText(one), "2 minutes ago") {
		t.Fatalf("the clock has not moved yet:\n%s", threadText(one))
	}
	clock = clock.Add(2*time.Minute + time.Second)
	press(one, "j")
	press(two, "j")
	if !strings.Contains(threadText(two), "2 minutes ago") || !same(one, two) {
		t.Fatalf("two minutes later:\n%s", threadText(two))
	}
	// A selected comment is drawn for its reader alone.
	press(one, "n")
	if _, ok := one.reader.selectedComment(); !ok || same(one, two) {
		t.Fatal("a reader with a comment selected shares the drawing of one without")
	}
}

// A session that fell too far behind gets a Resync and then the newest
// comment, before its reload has answered (the mailbox keeps the newest
// event after the Resync). The thread it ends with is every comment, as a
// fresh reader's: the live comment must not make the reload skip the
// pages between.
func TestResyncWithALiveCommentLoadsEveryPage(t *testing.T) {
	cfg, st := testConfig(t, 2*commentPage+10)
	watcher := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30, Author: bobKey})
	drain(watcher, watcher.Init())
	press(watcher, "G")
	var last data.Comment
	for i := range commentPage + 5 {
		last = postAs(t, st, adaKey, "ada", fmt.Sprintf("missed-%d", i), 0)
	}
	// Both events are applied before the reload's query runs, as in the
	// program; then the query and the pages after it.
	drain(watcher, func() tea.Msg { return EventsMsg{{Kind: data.Resync}, {Kind: data.CommentAdded, Comment: last}} })
	press(watcher, "G")
	fresh := New(cfg, Session{Slug: benchPost, Look: Look{Profile: termenv.Ascii}, Width: 80, Height: 30, Author: bobKey})
	drain(fresh, fresh.Init())
	press(fresh, "G")
	w, f := watcher.reader.thread.comments, fresh.reader.thread.comments
	if len(w) != len(f) || len(f) != 3*commentPage+15 {
		t.Fatalf("after the resync the watcher holds %d comments, a fresh reader %d (want %d)", len(w), len(f), 3*commentPage+15)
	}
	if a, b := threadText(watcher), threadText(fresh); a != b {
		t.Fatalf("the watcher's thread:\n%s\n\nthe fresh reader's:\n%s", a, b)
	}
}

// A reader whose own comment arrives live (written from another session
// of theirs) stops sharing the others' drawing: theirs marks it "(you)".
// The thread remembers whether the reader wrote one of its comments, and
// a new comment must update that, not keep the old answer.
func TestAReadersOwnLiveCommentIsMarkedTheirs(t *testing.T) {
	cfg, st := testConfig(t, 0)
	cfg.Caches = NewCaches(CacheBudgets{})
	shared := threads.New(st, 0)
	cfg.Store = shared
	postAs(t, st, adaKey, "ada", "first-comment", 0)
	open := func(a data.Author) *Model { return openAtComments(cfg, a) }
	bob, carol := open(bobKey), open(data.Author{KeyFingerprint: "SHA256:carol", IP: "192.0.2.3"})
	live := func(key data.Author, name, body string) {
		c := postAs(t, st, key, name, body, 0)
		shared.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
		for _, m := range []*Model{bob, carol} {
			drain(m, func() tea.Msg { return EventMsg(data.Event{Kind: data.CommentAdded, Comment: c}) })
		}
	}
	live(adaKey, "ada", "second-comment")
	if strings.Contains(threadText(bob), "(you)") {
		t.Fatalf("bob wrote nothing yet:\n%s", threadText(bob))
	}
	live(bobKey, "bob", "bobs-comment")
	if !strings.Contains(threadText(bob), "(you)") {
		t.Fatalf("bob's own live comment is not marked his:\n%s", threadText(bob))
	}
	if strings.Contains(threadText(carol), "(you)") {
		t.Fatalf("carol's drawing marks bob's comment hers:\n%s", threadText(carol))
	}
	live(adaKey, "ada", "third-comment")
	if !strings.Contains(threadText(bob), "(you)") || !strings.Contains(threadText(bob), "third-comment") {
		t.Fatalf("after another comment, bob's is no longer marked his:\n%s", threadText(bob))
	}
}

// A reader who deleted their own comment, while the shared page has not
// heard of it yet, keeps their own thread when a comment arrives: taking
// the shared page would bring the deleted comment back, and the drawing,
// made as if the reader wrote nothing, would be shared with everyone
// with their "(you)" on it.
func TestAnOwnDeletionTheSharedPageMissedStaysTheReadersOwn(t *testing.T) {
	cfg, st := testConfig(t, 0)
	cfg.Caches = NewCaches(CacheBudgets{})
	shared := threads.New(st, 0)
	cfg.Store = shared
	x := postAs(t, st, bobKey, "bob", "bobs-comment", 0)
	postAs(t, st, adaKey, "ada", "reply-to-bob", x.ID)
	bob, carol := openAtComments(cfg, bobKey), openAtComments(cfg, data.Author{KeyFingerprint: "SHA256:carol", IP: "192.0.2.3"})
	if err := st.DeleteOwnComment(context.Background(), x.ID, bobKey.KeyFingerprint); err != nil {
		t.Fatal(err)
	}
	// Bob's own session hears its delete at once; the hub has not applied
	// the event to the shared page yet when the next comment comes.
	drain(bob, func() tea.Msg { return moderatedMsg{what: "deleted", id: x.ID} })
	if strings.Contains(threadText(bob), "bobs-comment") {
		t.Fatalf("bob's deleted comment still shows for him:\n%s", threadText(bob))
	}
	c := postAs(t, st, adaKey, "ada", "new-comment", 0)
	shared.Apply(data.Event{Kind: data.CommentAdded, Comment: c})
	for _, m := range []*Model{bob, carol} {
		drain(m, func() tea.Msg { return EventMsg(data.Event{Kind: data.CommentAdded, Comment: c}) })
	}
	if strings.Contains(threadText(carol), "(you)") {
		t.Fatalf("carol's drawing marks bob's comment hers:\n%s", threadText(carol))
	}
	if strings.Contains(threadText(bob), "bobs-comment") || !strings.Contains(threadText(bob), "new-comment") {
		t.Fatalf("bob's thread after the new comment:\n%s", threadText(bob))
	}
}
