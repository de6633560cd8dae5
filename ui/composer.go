package ui

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"blog/data"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

const (
	// composerChrome: border 2, title, name, count line, message line.
	composerChrome = 2 + 1 + 1 + 1 + 1
	maxRetries     = 4
	// MaxCommentLines is the most lines a comment may have. The text
	// area keeps a wrapped copy of each line version it draws, as many as
	// its MaxHeight, so this also bounds that memory: with comments of at
	// most data.MaxCommentRunes, about a megabyte a composer at worst.
	MaxCommentLines = 100
)

// draftState keeps what a visitor typed for the whole session.
type draftState struct {
	text map[string]string // per draftKey
	name string
	// nameKnown says the name remembered for the visitor's key has been
	// read (it may be none). Until then an empty name field means "not
	// known yet", not "post as Anonymous".
	nameKnown bool
}

// maxDrafts bounds the drafts a session keeps (one per post, reply and
// edit begun); past it, other drafts are let go.
const maxDrafts = 32

// compose says what the composer writes: a new comment, a reply to
// replyTo (written by to), or new text for the visitor's comment edit.
type compose struct {
	replyTo int64
	to      string
	edit    int64
	body    string // the text an edit starts from
}

// draftKey names the draft of one post's comment, reply or edit.
func draftKey(slug string, w compose) string {
	switch {
	case w.edit != 0:
		return slug + "#edit-" + strconv.FormatInt(w.edit, 10)
	case w.replyTo != 0:
		return slug + "#reply-" + strconv.FormatInt(w.replyTo, 10)
	}
	return slug
}

// composer is the "Leave a comment" box. It exists only while open, so an
// idle reader carries no text widgets.
type composer struct {
	slug      string
	what      compose
	text      textarea.Model
	name      textinput.Model
	focusName bool
	// rows is the text box's height, kept here because textarea.Model's
	// Height has a value receiver: each call copies the whole model
	// (about 6 KB), and inlined into the reader's layout it made every
	// frame of every update that asks the view's height 12 KB, so each
	// delivery of a live comment grew its goroutine's stack.
	rows    int
	sending bool
	attempt int
	msg     string
	msgBad  bool
}

// postedMsg is the answer to a post attempt.
type postedMsg struct {
	slug    string
	draft   string // the draftKey of what was sent
	edit    bool
	comment data.Comment
	err     error
}

// retryMsg asks the composer to try posting again after a database fault.
type retryMsg struct{ attempt int }

// nameMsg carries the name remembered for this visitor's key.
type nameMsg struct{ name string }

func (m *Model) openComposer(w compose) tea.Cmd {
	if m.sess.Author.KeyFingerprint == "" {
		m.setStatus("To comment, connect with an SSH key: run ssh-keygen -t ed25519, then ssh again.", true)
		return nil
	}
	if c := m.composer; c != nil {
		c.keep(m) // another reply or edit begun: the first one's text is kept
	}
	slug := m.reader.post.Slug
	c := &composer{slug: slug, what: w}
	c.text = textarea.New()
	c.text.ShowLineNumbers = false
	c.text.Prompt = ""
	// The composer counts characters (runes), as the store does, before
	// any key reaches the text area (see fit); the text area counts
	// columns, two for a wide character, so its own limit is twice ours
	// and only a backstop.
	c.text.CharLimit = 2 * data.MaxCommentRunes
	c.text.MaxHeight = MaxCommentLines
	c.text.Placeholder = "Write your comment…"
	plain := textarea.Style{Base: m.st.Plain, Text: m.st.Body.Style, Placeholder: m.st.Dim.Style, CursorLine: m.st.Plain, EndOfBuffer: m.st.Plain, Prompt: m.st.Plain}
	c.text.FocusedStyle, c.text.BlurredStyle = plain, plain
	c.text.Cursor.Style = m.st.Plain
	c.text.Cursor.SetMode(cursor.CursorStatic)
	c.name = textinput.New()
	c.name.Prompt = ""
	c.name.Placeholder = data.DefaultName
	c.name.CharLimit = data.MaxNameRunes
	c.name.TextStyle, c.name.PlaceholderStyle = m.st.Body.Style, m.st.Dim.Style
	c.name.Cursor.Style = m.st.Plain
	c.name.Cursor.SetMode(cursor.CursorStatic)
	if m.draft.text == nil {
		m.draft.text = map[string]string{}
	}
	text, ok := m.draft.text[draftKey(slug, w)]
	if !ok && w.edit != 0 {
		text = w.body
	}
	c.text.SetValue(text)
	c.name.SetValue(m.draft.name)
	c.resize(m.contentWidth(), m.height)
	c.text.Focus()
	m.composer = c
	m.reader.clamp(m)

	var cmd tea.Cmd
	if m.draft.name == "" {
		key := m.sess.Author.KeyFingerprint
		cmd = m.run(func(ctx context.Context) tea.Msg {
			name, _ := m.cfg.Store.Name(ctx, key)
			return nameMsg{name: name}
		})
	}
	return cmd
}

// resize fits the box to the window: up to five lines of text, fewer on a
// short window so a line or two of the post stays in view.
func (c *composer) resize(w, h int) {
	c.text.SetWidth(max(w-4, 10))
	c.text.SetHeight(max(1, min(5, h-4-composerChrome-2)))
	c.rows = c.text.Height()
	c.name.Width = max(w-12, 10)
}

func (c *composer) height() int { return composerChrome + c.rows }

// keep saves the draft so closing loses nothing.
func (c *composer) keep(m *Model) {
	k := draftKey(c.slug, c.what)
	if _, ok := m.draft.text[k]; !ok && len(m.draft.text) >= maxDrafts {
		for old := range m.draft.text {
			delete(m.draft.text, old)
			if len(m.draft.text) < maxDrafts {
				break
			}
		}
	}
	m.draft.text[k] = c.text.Value()
	if n := strings.TrimSpace(c.name.Value()); n != "" {
		m.draft.name = n
	}
}

func (c *composer) key(m *Model, k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Close):
		c.keep(m)
		m.composer = nil
		m.reader.clamp(m)
		if strings.TrimSpace(m.draft.text[draftKey(c.slug, c.what)]) != "" {
			switch {
			case c.what.edit != 0:
				m.setStatus("Edit kept. Press e on the comment to go on.", false)
			case c.what.replyTo != 0:
				m.setStatus("Draft kept. Press r on the comment to go on writing.", false)
			default:
				m.setStatus("Draft kept. Press c to go on writing.", false)
			}
		}
		return nil
	case key.Matches(k, keys.Send):
		return c.send(m)
	case key.Matches(k, keys.Tab) && c.what.edit != 0:
		return nil // an edit keeps the name
	case key.Matches(k, keys.Tab):
		c.focusName = !c.focusName
		if c.focusName {
			c.text.Blur()
			return c.name.Focus()
		}
		c.name.Blur()
		return c.text.Focus()
	}
	if c.sending {
		return nil
	}
	k, note := c.fit(k)
	if k.Type == tea.KeyRunes && len(k.Runes) == 0 {
		c.msg, c.msgBad = note, true
		return nil
	}
	c.msg, c.msgBad = note, note != ""
	var cmd tea.Cmd
	if c.focusName {
		if k.Type == tea.KeyEnter {
			c.focusName = false
			c.name.Blur()
			return c.text.Focus()
		}
		c.name, cmd = c.name.Update(k)
	} else {
		c.text, cmd = c.text.Update(k)
	}
	return cmd
}

// fit keeps a key within the limits of the field it goes to: what would
// take the comment past data.MaxCommentRunes characters or
// MaxCommentLines lines, or the name past data.MaxNameRunes, is not
// typed, and note says so. What is already typed is never touched. A
// paste that does not fit is refused whole, so it is not cut somewhere
// the visitor did not choose; typed keys fill up to the limit. An empty
// KeyRunes means the key is dropped.
func (c *composer) fit(k tea.KeyMsg) (tea.KeyMsg, string) {
	none := tea.KeyMsg{Type: tea.KeyRunes}
	if c.focusName {
		if k.Type != tea.KeyRunes && k.Type != tea.KeySpace {
			return k, ""
		}
		room := data.MaxNameRunes - utf8.RuneCountInString(c.name.Value())
		if len(k.Runes) <= room {
			return k, ""
		}
		note := "Names are at most " + itoa(data.MaxNameRunes) + " characters."
		if k.Paste || room <= 0 {
			return none, note
		}
		k.Runes = k.Runes[:room]
		return k, note
	}
	value := c.text.Value()
	n := utf8.RuneCountInString(value)
	atLimit := "The comment is at the limit of " + itoa(data.MaxCommentRunes) + " characters; nothing more can be typed."
	switch k.Type {
	case tea.KeyEnter:
		if c.text.LineCount() >= MaxCommentLines {
			return none, "A comment may have at most " + itoa(MaxCommentLines) + " lines."
		}
		if n >= data.MaxCommentRunes {
			return none, atLimit
		}
		return k, ""
	case tea.KeyRunes, tea.KeySpace:
	default:
		return k, ""
	}
	// The text area turns a tab into four spaces.
	add := len(k.Runes) + 3*countRune(k.Runes, '\t')
	lines := c.text.LineCount() + countRune(k.Runes, '\n')
	if k.Paste {
		switch {
		case n+add > data.MaxCommentRunes:
			return none, "Nothing was pasted: it would make the comment " + itoa(n+add) + " characters; the limit is " + itoa(data.MaxCommentRunes) + "."
		case lines > MaxCommentLines:
			return none, "Nothing was pasted: it would make the comment " + itoa(lines) + " lines; the limit is " + itoa(MaxCommentLines) + "."
		}
		return k, ""
	}
	room := data.MaxCommentRunes - n
	if add <= room && lines <= MaxCommentLines {
		return k, ""
	}
	// Typed faster than read: keep what fits, one rune at a time.
	kept := k.Runes[:0:0]
	line := c.text.LineCount()
	for _, r := range k.Runes {
		w := 1
		if r == '\t' {
			w = 4
		}
		if r == '\n' {
			line++
		}
		if w > room || line > MaxCommentLines {
			break
		}
		room -= w
		kept = append(kept, r)
	}
	k.Runes = kept
	if lines > MaxCommentLines && add <= data.MaxCommentRunes-n {
		return k, "A comment may have at most " + itoa(MaxCommentLines) + " lines."
	}
	return k, atLimit
}

func countRune(rs []rune, r rune) int {
	n := 0
	for _, x := range rs {
		if x == r {
			n++
		}
	}
	return n
}

func (c *composer) send(m *Model) tea.Cmd {
	if c.sending {
		return nil
	}
	c.keep(m)
	body := c.text.Value()
	if strings.TrimSpace(body) == "" {
		c.msg, c.msgBad = "Write something first.", true
		return nil
	}
	if n := utf8.RuneCountInString(body); n > data.MaxCommentRunes {
		c.msg, c.msgBad = "The comment is "+itoa(n)+" characters; the limit is "+itoa(data.MaxCommentRunes)+". Shorten it a little.", true
		return nil
	}
	c.sending, c.attempt = true, c.attempt+1
	c.msg, c.msgBad = "Posting…", false
	if id := c.what.edit; id != 0 {
		e := data.CommentEdit{ID: id, Body: body, Author: m.sess.Author}
		slug, draft := c.slug, draftKey(c.slug, c.what)
		return m.run(func(ctx context.Context) tea.Msg {
			saved, err := m.cfg.Store.EditComment(ctx, e)
			return postedMsg{slug: slug, draft: draft, edit: true, comment: saved, err: err}
		})
	}
	nc := data.NewComment{PostSlug: c.slug, Name: c.name.Value(), Body: body, Author: m.sess.Author, ReplyTo: c.what.replyTo}
	draft := draftKey(c.slug, c.what)
	// Posted before the remembered name came back (a busy server, a quick
	// visitor): read it here, or the comment would go out as Anonymous and
	// the remembered name with it.
	askName := nc.Name == "" && !m.draft.nameKnown && nc.Author.KeyFingerprint != ""
	return m.run(func(ctx context.Context) tea.Msg {
		if askName {
			if name, err := m.cfg.Store.Name(ctx, nc.Author.KeyFingerprint); err == nil {
				nc.Name = name
			}
		}
		saved, err := m.cfg.Store.AddComment(ctx, nc)
		return postedMsg{slug: nc.PostSlug, draft: draft, comment: saved, err: err}
	})
}

// posted handles the answer to a post attempt: success clears the draft;
// any failure keeps the text where it is.
func (m *Model) posted(msg postedMsg) tea.Cmd {
	c := m.composer
	if c != nil && c.slug == msg.slug {
		c.sending = false
	}
	if msg.err != nil {
		text := "Couldn't post: " + friendly(msg.err)
		var retry tea.Cmd
		if data.Explain(msg.err).Kind == data.Unavailable {
			if c != nil && c.attempt <= maxRetries {
				delay := time.Duration(c.attempt) * 2 * time.Second
				text = "Couldn't save: the database isn't answering. Your text is kept; retrying in " + delay.String() + "."
				attempt := c.attempt
				retry = tea.Tick(delay, func(time.Time) tea.Msg { return retryMsg{attempt: attempt} })
			} else {
				text = "Couldn't save: the database isn't answering. Your text is kept; press ctrl+s to try again."
			}
		}
		if c != nil && c.slug == msg.slug {
			c.msg, c.msgBad = text, true
		} else {
			m.setStatus(text, true)
		}
		return retry
	}
	delete(m.draft.text, msg.draft)
	if c != nil && draftKey(c.slug, c.what) == msg.draft {
		m.composer = nil
	}
	if msg.edit {
		m.setStatus("Comment edited.", false)
		if r := m.reader; r != nil && r.post.Slug == msg.slug {
			r.thread.update(msg.comment.ID, func(old *data.Comment) { *old = msg.comment })
			r.thread.rebuild(m, r.width)
			r.clamp(m)
		}
		return nil
	}
	m.setStatus("Comment posted. Thank you!", false)
	if r := m.reader; r != nil && r.post.Slug == msg.slug {
		if !r.thread.has(msg.comment.ID) && !r.thread.hasMore {
			r.thread.add(m, msg.slug, msg.comment)
		}
		r.thread.rebuild(m, r.width)
		r.offset = r.maxOffset(m)
		r.newCount = 0
		return r.maybeLoadMore(m)
	}
	return nil
}

func (m *Model) retry(msg retryMsg) tea.Cmd {
	if c := m.composer; c != nil && !c.sending && c.attempt == msg.attempt {
		return c.send(m)
	}
	return nil
}

func (c *composer) view(m *Model) string {
	st := m.st
	w := m.contentWidth()
	n := utf8.RuneCountInString(c.text.Value())
	count := st.Dim.Render(itoa(n) + " / " + itoa(data.MaxCommentRunes))
	if n > data.MaxCommentRunes {
		count = st.Error.Render(itoa(n) + " / " + itoa(data.MaxCommentRunes))
	}
	nameLabel := st.Dim.Render("Name: ")
	if c.focusName {
		nameLabel = st.Accent.Render("Name: ")
	}
	nameLine := nameLabel + c.name.View()
	title := st.BoxTitle.Render("Leave a comment") + st.Dim.Render(" on "+truncate(m.reader.post.Title, max(w-24, 8)))
	keysHelp := "ctrl+s post · tab name · esc close"
	switch {
	case c.what.edit != 0:
		title = st.BoxTitle.Render("Edit your comment")
		nameLine = st.Dim.Render(truncate("The name stays as it was.", w-4))
		keysHelp = "ctrl+s save · esc close"
	case c.what.replyTo != 0:
		title = st.BoxTitle.Render(truncate("Replying to "+c.what.to, w-4))
	}
	msg := noteLine(st, c.msg, c.msgBad, w-4)
	body := strings.Join([]string{
		title,
		nameLine,
		c.text.View(),
		spread(count, st.Dim.Render(truncate(keysHelp, w-5-ansi.StringWidth(count))), w-4),
		msg,
	}, "\n")
	box := st.Box.Width(w - 2).Render(body)
	return indent(box) + "\n"
}

// indent prefixes every line with the one-column margin the screens use.
func indent(s string) string {
	return " " + strings.ReplaceAll(s, "\n", "\n ")
}

// friendly words a storage error for the visitor, as data.Explain does
// for every part of the blog.
func friendly(err error) string { return data.Explain(err).Sentence }
