package ui

import (
	"context"
	"strings"

	"blog/data"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// subscribeHeight: border 2, title, explanation, input, keys, message.
const subscribeHeight = 2 + 5

// subscribeForm is the newsletter sign-up box.
type subscribeForm struct {
	email   textinput.Model
	sending bool
	msg     string
	msgBad  bool
}

// subscribedMsg answers a subscribe or unsubscribe.
type subscribedMsg struct {
	unsubscribe bool
	email       string
	err         error
}

func (m *Model) openSubscribe() tea.Cmd {
	f := &subscribeForm{}
	f.email = textinput.New()
	f.email.Prompt = "Email: "
	f.email.Placeholder = "you@example.com"
	f.email.CharLimit = data.MaxEmailBytes
	f.email.Width = max(m.contentWidth()-14, 10)
	f.email.PromptStyle, f.email.TextStyle, f.email.PlaceholderStyle = m.st.Accent.Style, m.st.Body.Style, m.st.Dim.Style
	f.email.Cursor.Style = m.st.Plain
	f.email.Cursor.SetMode(cursor.CursorStatic)
	m.subscribe = f
	if m.reader != nil {
		m.reader.clamp(m)
	}
	return f.email.Focus()
}

func (f *subscribeForm) height() int { return subscribeHeight }

func (f *subscribeForm) key(m *Model, k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Close):
		m.subscribe = nil
		return nil
	case k.String() == "enter":
		return f.submit(m, false)
	case k.String() == "ctrl+x":
		return f.submit(m, true)
	}
	if f.sending {
		return nil
	}
	if k.Paste && len(k.Runes) > data.MaxEmailBytes {
		f.msg, f.msgBad = "That paste is too long for an email address.", true
		return nil
	}
	f.msg = ""
	var cmd tea.Cmd
	f.email, cmd = f.email.Update(k)
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
		f.msg, f.msgBad = "Unsubscribing needs the SSH key you subscribed with.", true
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
			err = m.cfg.Store.Subscribe(ctx, email, author)
		}
		return subscribedMsg{unsubscribe: unsubscribe, email: email, err: err}
	})
}

// done shows the answer. It is the same whether the address was new or
// already subscribed, so nobody can probe the list.
func (f *subscribeForm) done(m *Model, msg subscribedMsg) {
	f.sending = false
	if msg.err != nil {
		f.msg, f.msgBad = "Couldn't do that: "+friendly(msg.err), true
		return
	}
	m.subscribe = nil
	if msg.unsubscribe {
		m.setStatus("If "+msg.email+" was subscribed with this key, it is now unsubscribed.", false)
		return
	}
	m.setStatus("Thanks! "+msg.email+" will get new posts. Unsubscribe any time with s, then ctrl+x.", false)
}

func (f *subscribeForm) view(m *Model) string {
	st := m.st
	w := m.contentWidth()
	msg := noteLine(st, f.msg, f.msgBad, w-4)
	body := strings.Join([]string{
		st.BoxTitle.Render("Subscribe to the newsletter"),
		st.Dim.Render(truncate("New posts by email. Your address is never shown or shared.", w-4)),
		f.email.View(),
		st.Dim.Render(truncate("enter subscribe · ctrl+x unsubscribe · esc close", w-4)),
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
