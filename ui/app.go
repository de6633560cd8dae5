// Package ui is the blog's terminal interface: Bubble Tea models for the post
// list, the reader with its comments, the comment composer and the subscribe
// form. It reaches storage only through the Backend interface and messages,
// so a slow database never freezes a session's keyboard.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"blog/data"
	"blog/internal/stack"
	"blog/posts"
	"blog/ui/render"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Minimum terminal size the layout needs.
const (
	MinWidth  = 40
	MinHeight = 12
	// maxContentWidth keeps lines readable on very wide terminals.
	maxContentWidth = 100
	// opTimeout bounds every storage call a session makes.
	opTimeout = 5 * time.Second
)

// Backend is what the UI needs from storage and nothing more: reading and
// writing comments (part of data.Comments), leaving the newsletter
// (data.Subscriptions) and the moderators' actions (part of
// data.Moderation). data.Store satisfies it.
type Backend interface {
	Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error)
	AddComment(ctx context.Context, c data.NewComment) (data.Comment, error)
	EditComment(ctx context.Context, e data.CommentEdit) (data.Comment, error)
	DeleteOwnComment(ctx context.Context, id int64, key string) error
	Name(ctx context.Context, key string) (string, error)
	Unsubscribe(ctx context.Context, email string, a data.Author) error
	SetHidden(ctx context.Context, id int64, hidden bool, by string) error
	DeleteComment(ctx context.Context, id int64, by string) error
	Ban(ctx context.Context, b data.Ban) error
}

// Signup is the newsletter's double opt-in. Subscribe answers alike for
// new, pending and confirmed addresses; Confirm takes the mailed code and
// answers data.ErrNotFound when it is wrong or expired.
type Signup interface {
	Subscribe(ctx context.Context, email string, a data.Author) error
	Confirm(ctx context.Context, code string, a data.Author) error
}

// CachedComments is what a Backend may add when it keeps pages of comments
// in memory: the page for opt if it is there, without waiting on storage.
// The slice is shared and must not be modified.
type CachedComments interface {
	CachedComments(slug string, opt data.ListOptions) ([]data.Comment, bool)
}

// Config is shared by every session of a server.
type Config struct {
	Title  string
	Notice string
	// Host is what readers type after "ssh", shown in the corner.
	Host   string
	Posts  *posts.Library
	Render *render.Cache
	// Caches are the comment drawings shared by sessions; nil means a
	// process-wide set with the default budgets.
	Caches *Caches
	Store  Backend
	// Newsletter signs readers up (double opt-in: it mails a code).
	Newsletter Signup
	// Visits keeps, per SSH key, what each visitor saw of each post; nil
	// keeps nothing, and the interface shows no "new" marks.
	Visits VisitStore
	// Counts returns visible comment counts per post, kept by the server.
	Counts func() map[string]int
	// Moderator reports whether the key with this SHA256 fingerprint is a
	// moderator's, whose comments carry a badge.
	Moderator func(fingerprint string) bool
	Now       func() time.Time
	Log       *slog.Logger
	// EditWindow is how long authors may edit a comment, as the store
	// allows; 0 means data.DefaultEditWindow. The store decides; this
	// only spares a visitor rewriting a comment that can no longer change.
	EditWindow time.Duration
}

// Session is what one visitor brings.
type Session struct {
	// Context ends when the visitor disconnects, and with it every storage
	// call the session has under way. Nil means context.Background().
	Context context.Context
	Author  data.Author
	Admin   bool
	Look    Look
	Width   int
	Height  int
	// Slug, when set, opens that post first (ssh -t host read SLUG, or
	// ssh SLUG@host).
	Slug string
	// Location is the visitor's time zone (from TZ), for absolute times;
	// nil is UTC.
	Location *time.Location
}

// EventMsg carries a live change from the server's hub to a session.
type EventMsg data.Event

// EventsMsg carries several live changes at once, in order, to a session
// that fell behind: they are applied together and drawn in one frame, so
// a burst of comments costs a slow session one frame, not one per comment.
type EventsMsg []data.Event

type screen int

const (
	homeScreen screen = iota
	readerScreen
)

// Model is one session's interface. It is used through a pointer so that
// Update does not copy it.
type Model struct {
	cfg    *Config
	sess   Session
	st     *Styles
	width  int
	height int
	screen screen

	home      homeState
	visits    visitState
	reader    *readerState
	composer  *composer
	subscribe *subscribeForm
	showHelp  bool

	// draft survives closing the composer and moving between posts.
	draft draftState
	// status is a one-line message shown above the help bar.
	status    string
	statusBad bool
	// frameSize is the length of the last frame, to size the next one.
	frameSize int
}

// The Config is shared by every session and never written after the server
// builds it; these read it with defaults for what was left unset.

func (c *Config) editWindow() time.Duration {
	if c.EditWindow > 0 {
		return c.EditWindow
	}
	return data.DefaultEditWindow
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Config) counts() map[string]int {
	if c.Counts == nil {
		return nil
	}
	return c.Counts()
}

func (c *Config) moderator(fingerprint string) bool {
	return fingerprint != "" && c.Moderator != nil && c.Moderator(fingerprint)
}

func (c *Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// New builds a session's model.
func New(cfg *Config, s Session) *Model {
	m := &Model{
		cfg:    cfg,
		sess:   s,
		st:     StylesFor(s.Look),
		width:  s.Width,
		height: s.Height,
	}
	m.home.refresh(cfg.Posts)
	return m
}

// Init reads the visitor's visits and opens the first post when the
// session asked for one.
func (m *Model) Init() tea.Cmd {
	visits := m.loadVisits()
	if m.sess.Slug == "" {
		return visits
	}
	if p, ok := m.cfg.Posts.Get(m.sess.Slug); ok {
		return tea.Batch(visits, m.openPost(p))
	}
	m.setStatus("No post called "+quoted(m.sess.Slug, maxEchoColumns)+" here; these are the posts.", true)
	return visits
}

// Update routes a message to the part of the interface that owns it.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		if m.composer != nil {
			m.composer.resize(m.contentWidth(), m.height)
		}
		if m.reader != nil {
			m.reader.layout(m)
		}
		return m, nil
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
		return m, m.handleKey(msg)
	case tea.MouseMsg:
		if m.screen == readerScreen && m.reader != nil && m.composer == nil {
			return m, m.reader.mouse(m, msg)
		}
		if m.screen == homeScreen {
			m.home.mouse(msg)
		}
		return m, nil
	case EventMsg:
		return m, m.handleEvent(data.Event(msg))
	case EventsMsg:
		cmds := make([]tea.Cmd, 0, len(msg))
		for _, ev := range msg {
			cmds = append(cmds, m.handleEvent(ev))
		}
		return m, tea.Batch(cmds...)
	case commentsMsg:
		if m.reader != nil {
			return m, m.reader.loaded(m, msg)
		}
		return m, nil
	case postedMsg:
		return m, m.posted(msg)
	case nameMsg:
		m.draft.nameKnown = true
		if m.draft.name == "" && msg.name != "" {
			m.draft.name = msg.name
			if m.composer != nil {
				m.composer.name.SetValue(msg.name)
			}
		}
		return m, nil
	case subscribedMsg:
		if m.subscribe != nil {
			return m, m.subscribe.done(m, msg)
		}
		return m, nil
	case retryMsg:
		return m, m.retry(msg)
	case moderatedMsg:
		m.moderated(msg)
		return m, nil
	case visitsMsg:
		return m, m.visitsLoaded(msg)
	case markedMsg:
		if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
			m.cfg.log().Warn("mark visit", "err", msg.err)
		}
		return m, nil
	}
	return m, nil
}

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if m.tooSmall() {
		if k.String() == "q" {
			return tea.Quit
		}
		return nil
	}
	m.status = ""
	// Keys typed faster than they are read arrive as one message ("jjj");
	// outside text fields each is its own command.
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && m.composer == nil && m.subscribe == nil {
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	switch {
	case m.composer != nil:
		return m.composer.key(m, k)
	case m.subscribe != nil:
		return m.subscribe.key(m, k)
	case m.showHelp:
		if k.String() == "q" {
			return tea.Quit
		}
		m.showHelp = false
		return nil
	}
	if m.screen == homeScreen {
		return m.home.key(m, k)
	}
	if m.reader.thread.stale(m.cfg.now()) {
		m.reader.thread.rebuild(m, m.reader.width)
	}
	return m.reader.key(m, k)
}

func (m *Model) handleEvent(ev data.Event) tea.Cmd {
	m.visitEvent(ev)
	if m.reader != nil {
		return m.reader.event(m, ev)
	}
	return nil
}

func (m *Model) setStatus(s string, bad bool) {
	m.status, m.statusBad = s, bad
}

func (m *Model) tooSmall() bool {
	return m.width < MinWidth || m.height < MinHeight
}

// contentWidth is the width text is wrapped to.
func (m *Model) contentWidth() int {
	return min(m.width-2, maxContentWidth)
}

// View draws the current screen.
func (m *Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.tooSmall() {
		msg := "The window is " + itoa(m.width) + "x" + itoa(m.height) +
			". Make it at least " + itoa(MinWidth) + "x" + itoa(MinHeight) + " to read."
		return lipgloss.NewStyle().Width(m.width).Render(msg)
	}
	var frame string
	switch {
	case m.showHelp:
		frame = m.helpView()
	case m.screen == readerScreen && m.reader != nil:
		frame = m.reader.view(m)
	default:
		frame = m.home.view(m)
	}
	m.frameSize = len(frame)
	return frame
}

func (m *Model) helpView() string {
	k := homeHelp
	if m.screen == readerScreen {
		k = readerHelp
		if m.sess.Admin {
			k.full = append(k.full, adminHelp)
		}
	}
	// Built when shown: a help.Model holds a copy of seven styles, too much
	// to keep in every idle session.
	h := help.New()
	h.Styles = m.st.Help
	h.ShowAll = true
	h.Width = max(m.width-4, 0)
	body := m.st.Section.Render("Keys") + "\n\n" + h.View(k) + "\n\n" + m.st.Dim.Render("Press any key to go back.")
	return lipgloss.NewStyle().Padding(1, 2).MaxWidth(m.width).MaxHeight(m.height).Render(body)
}

// footer is the status line (or a blank line) and the short help.
func (m *Model) footer(k helpKeys) string {
	status := noteLine(m.st, m.status, m.statusBad, m.width-2)
	return " " + status + "\n " + m.shortHelp(k.short)
}

// run makes a storage call off the update loop, bounded by opTimeout and
// by the session: a visitor who disconnects cancels the calls still
// running for them.
func (m *Model) run(f func(ctx context.Context) tea.Msg) tea.Cmd {
	parent := m.sess.Context
	if parent == nil {
		parent = context.Background()
	}
	return func() tea.Msg {
		// Bubble Tea runs each command on a new goroutine, and a storage
		// call runs deep (SQLite's interpreter above all): grown now,
		// the stack is copied once, nearly empty (see internal/stack).
		stack.Grow()
		ctx, cancel := context.WithTimeout(parent, opTimeout)
		defer cancel()
		return f(ctx)
	}
}
