package ui

import (
	"context"
	"errors"
	"strings"

	"blog/data"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// subscribeHeight: border 2, title, explanation, input, keys, message.
const subscribeHeight = 2 + 5

// subscribeForm is the newsletter sign-up box. It asks for the address,
// then, once the confirmation mail is on its way, for the code in it.
type subscribeForm struct {
	email    textinput.Model
	code     textinput.Model
	awaiting bool   // the mail went out: the form asks for the code
	address  string // the address the code was sent to
	sending  bool
	msg      string
	msgBad   bool
}

// subscribedMsg answers a subscribe, unsubscribe or confirm.
type subscribedMsg struct {
	unsubscribe bool
	confirm     bool
	email       string
	err         error
}

// Words the visitor reads. The first is the same whether the address was
// new, pending or already confirmed, so nobody can probe the list.
const (
	checkInbox    = "Check your inbox to confirm: type the code from the mail here."
	confirmedNote = "Confirmed: new posts will come by email. Every mail has a link to unsubscribe."
	keylessLeave  = "Without an SSH key, unsubscribe by the link in any newsletter mail."
	badCode       = "That code is wrong or has expired; subscribe again for a new one."
)

func (m *Model) newInput(prompt, placeholder string, limit int) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	in.CharLimit = limit
	in.Width = max(m.contentWidth()-14, 10)
	in.PromptStyle, in.TextStyle, in.PlaceholderStyle = m.st.Accent.Style, m.st.Body.Style, m.st.Dim.Style
	in.Cursor.Style = m.st.Plain
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

func (m *Model) openSubscribe() tea.Cmd {
	f := &subscribeForm{
		email: m.newInput("Email: ", "you@example.com", data.MaxEmailBytes),
		// A code is 8 letters and a dash; a little room for spaces.
		code: m.newInput("Code: ", "ABCD-EFGH", 2*data.CodeLen),
	}
	m.subscribe = f
	if m.reader != nil {
		m.reader.clamp(m)
	}
	return f.email.Focus()
}

func (f *subscribeForm) height() int { return subscribeHeight }

func (f *subscribeForm) input() *textinput.Model {
	if f.awaiting {
		return &f.code
	}
	return &f.email
}

func (f *subscribeForm) key(m *Model, k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Close):
		m.subscribe = nil
		return nil
	case k.String() == "enter":
		if f.awaiting {
			return f.confirm(m)
		}
		return f.submit(m, false)
	case k.String() == "ctrl+x" && !f.awaiting:
		return f.submit(m, true)
	}
	if f.sending {
		return nil
	}
	in := f.input()
	if k.Paste && len(k.Runes) > in.CharLimit {
		f.msg, f.msgBad = "That paste is too long for this field.", true
		return nil
	}
	f.msg = ""
	var cmd tea.Cmd
	*in, cmd = in.Update(k)
	return cmd
}

func (f *subscribeForm) submit(m *Model, unsubscribe bool) tea.Cmd {
	if f.sending {
		return nil
	}
	email, err := data.NormalizeEmail(f.email.Value())
	if err != nil {
		f.msg, f.msgBad = capitalize(friendly(err)), true
		return nil
	}
	if unsubscribe && m.sess.Author.KeyFingerprint == "" {
		f.msg, f.msgBad = keylessLeave, true
		return nil
	}
	f.sending = true
	f.msg, f.msgBad = "Sending…", false
	author := m.sess.Author
	return m.run(func(ctx context.Context) tea.Msg {
		var err error
		if unsubscribe {
			err = m.cfg.Store.Unsubscribe(ctx, email, author)
		} else {
			err = m.cfg.Newsletter.Subscribe(ctx, email, author)
		}
		return subscribedMsg{unsubscribe: unsubscribe, email: email, err: err}
	})
}

func (f *subscribeForm) confirm(m *Model) tea.Cmd {
	if f.sending {
		return nil
	}
	code, ok := data.NormalizeCode(f.code.Value())
	if !ok {
		f.msg, f.msgBad = "A code is 8 letters and digits, like ABCD-EFGH.", true
		return nil
	}
	f.sending = true
	f.msg, f.msgBad = "Checking…", false
	author := m.sess.Author
	return m.run(func(ctx context.Context) tea.Msg {
		return subscribedMsg{confirm: true, email: f.address, err: m.cfg.Newsletter.Confirm(ctx, code, author)}
	})
}

// done shows the answer.
func (f *subscribeForm) done(m *Model, msg subscribedMsg) tea.Cmd {
	f.sending = false
	switch {
	case msg.confirm && errors.Is(msg.err, data.ErrNotFound):
		f.msg, f.msgBad = badCode, true
		return nil
	case msg.err != nil:
		f.msg, f.msgBad = "Couldn't do that: "+friendly(msg.err), true
		return nil
	case msg.confirm:
		m.subscribe = nil
		m.setStatus(confirmedNote, false)
		return nil
	case msg.unsubscribe:
		m.subscribe = nil
		m.setStatus("If "+msg.email+" was subscribed with this key, it is now unsubscribed.", false)
		return nil
	}
	f.awaiting, f.address = true, msg.email
	f.msg, f.msgBad = "", false
	f.email.Blur()
	return f.code.Focus()
}

func (f *subscribeForm) view(m *Model) string {
	st := m.st
	w := m.contentWidth()
	msg := noteLine(st, f.msg, f.msgBad, w-4)
	title, explain, keysLine := "Subscribe to the newsletter",
		"New posts by email. Your address is never shown or shared.",
		"enter subscribe · ctrl+x unsubscribe · esc close"
	if f.awaiting {
		title, explain, keysLine = "Check your inbox", checkInbox, "enter confirm · esc close"
	}
	body := strings.Join([]string{
		st.BoxTitle.Render(title),
		st.Dim.Render(truncate(explain, w-4)),
		f.input().View(),
		st.Dim.Render(truncate(keysLine, w-4)),
		msg,
	}, "\n")
	return indent(st.Box.Width(w-2).Render(body)) + "\n"
}

// homeOverlay draws the subscribe form on the home screen.
func (m *Model) homeOverlay() string {
	if m.subscribe == nil {
		return ""
	}
	return m.subscribe.view(m)
}
