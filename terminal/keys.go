package terminal

import (
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	uv "github.com/charmbracelet/ultraviolet"
)

// A session's program reads its own input (see Painter.Run), so it needs a
// parser for what a terminal sends. Bubble Tea v1 keeps its parser inside
// its runner; Ultraviolet's decoder (Bubble Tea v2's) is a library of its
// own. keyDecoder turns its events into the v1 messages the interface
// knows (tea.KeyMsg, tea.MouseMsg) as Bubble Tea v1 would have made them:
// a run of text is one KeyMsg, as v1 groups it, and each key is named as
// v1 names it. TestDecoderMatchesBubbleTea holds the two side by side.

// keyTypes finds Bubble Tea v1's key type by the name v1 gives it
// ("enter", "ctrl+a", "shift+up"), built from v1's own names.
var keyTypes = func() map[string]tea.KeyType {
	m := map[string]tea.KeyType{}
	for t := tea.KeyType(-200); t < 256; t++ {
		if t == tea.KeyRunes || t == tea.KeySpace {
			continue
		}
		if name := (tea.Key{Type: t}).String(); name != "" {
			if _, taken := m[name]; !taken {
				m[name] = t
			}
		}
	}
	m["ctrl+space"] = tea.KeyCtrlAt // NUL: v1 calls it ctrl+@
	return m
}()

// keyDecoder parses a session's input; it is used by one goroutine.
type keyDecoder struct {
	uv    uv.EventDecoder
	runes []rune // the run of text being gathered
	out   []tea.Msg
}

// decode returns the messages in b, which holds whole sequences: the
// InputGuard in front of it holds back the start of a sequence until the
// rest comes (or a moment passes: then it is Esc, as v1 takes it too). The
// slice is reused by the next call.
func (d *keyDecoder) decode(b []byte) []tea.Msg {
	d.out = d.out[:0]
	for len(b) > 0 {
		if f, ok := linuxFunctionKey(b); ok {
			d.flush()
			d.out = append(d.out, tea.KeyMsg{Type: f})
			b = b[4:]
			continue
		}
		n, ev := d.uv.Decode(b)
		if n <= 0 {
			n = 1 // never stall on what the decoder cannot place
		}
		b = b[n:]
		if k, ok := ev.(uv.KeyPressEvent); ok {
			if text, ok := plainText(uv.Key(k)); ok {
				d.runes = append(d.runes, []rune(text)...)
				continue
			}
			d.flush()
			if msg, ok := keyMsg(uv.Key(k)); ok {
				d.out = append(d.out, msg)
			}
			continue
		}
		d.flush()
		if msg, ok := mouseMsg(ev); ok {
			d.out = append(d.out, msg)
		}
	}
	d.flush()
	return d.out
}

// linuxFunctionKey reads the Linux console's F1 to F5 (ESC [ [ A to E)
// at the start of b, which v1 knows and Ultraviolet does not: it would
// drop the ESC [ [ and hand on the letter as typed, and B is a key the
// reader binds.
func linuxFunctionKey(b []byte) (tea.KeyType, bool) {
	if len(b) < 4 || b[0] != 0x1b || b[1] != '[' || b[2] != '[' || b[3] < 'A' || b[3] > 'E' {
		return 0, false
	}
	return [...]tea.KeyType{tea.KeyF1, tea.KeyF2, tea.KeyF3, tea.KeyF4, tea.KeyF5}[b[3]-'A'], true
}

// flush ends the run of text, as one KeyMsg.
func (d *keyDecoder) flush() {
	if len(d.runes) == 0 {
		return
	}
	d.out = append(d.out, tea.KeyMsg{Type: tea.KeyRunes, Runes: d.runes})
	d.runes = nil // the message keeps the slice
}

// plainText is k's text if v1 would put it in a run of text: printable,
// shifted or not, without other modifiers, and not a space (v1 gives
// space a message of its own).
func plainText(k uv.Key) (string, bool) {
	if k.Mod&^uv.ModShift != 0 || k.Text == "" || k.Text == " " {
		return "", false
	}
	if r, _ := utf8.DecodeRuneInString(k.Text); r < 0x20 || r == 0x7f {
		return "", false
	}
	return k.Text, true
}

// keyMsg is k as Bubble Tea v1's message, if v1 has one for it.
func keyMsg(k uv.Key) (tea.Msg, bool) {
	alt := k.Mod&uv.ModAlt != 0
	if k.Text == " " && k.Mod&^uv.ModShift == 0 {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}, true
	}
	name := ""
	if k.Mod&uv.ModCtrl != 0 {
		name += "ctrl+"
	}
	if k.Mod&uv.ModShift != 0 {
		name += "shift+"
	}
	base := uv.Key{Code: k.Code}.Keystroke()
	if t, ok := keyTypes[name+base]; ok {
		return tea.KeyMsg{Type: t, Alt: alt}, true
	}
	// Alt with a printable key (alt+a, alt+A): v1 sends its rune with Alt.
	if k.Mod&^(uv.ModAlt|uv.ModShift) == 0 && alt {
		r := k.Code
		if k.Mod&uv.ModShift != 0 && k.ShiftedCode != 0 {
			r = k.ShiftedCode
		}
		if r == ' ' {
			return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}, Alt: true}, true
		}
		if r > 0x20 && r != 0x7f && r <= utf8.MaxRune {
			return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: true}, true
		}
	}
	return nil, false // a key v1 has no name for: v1 drops it as unknown
}

// mouseMsg is a mouse event as Bubble Tea v1's message.
func mouseMsg(ev uv.Event) (tea.Msg, bool) {
	var m uv.Mouse
	var action tea.MouseAction
	switch ev := ev.(type) {
	case uv.MouseClickEvent:
		m, action = uv.Mouse(ev), tea.MouseActionPress
	case uv.MouseWheelEvent:
		m, action = uv.Mouse(ev), tea.MouseActionPress
	case uv.MouseReleaseEvent:
		m, action = uv.Mouse(ev), tea.MouseActionRelease
	case uv.MouseMotionEvent:
		m, action = uv.Mouse(ev), tea.MouseActionMotion
	default:
		return nil, false
	}
	return tea.MouseMsg{
		X: m.X, Y: m.Y,
		Shift:  m.Mod&uv.ModShift != 0,
		Alt:    m.Mod&uv.ModAlt != 0,
		Ctrl:   m.Mod&uv.ModCtrl != 0,
		Action: action,
		Button: tea.MouseButton(m.Button),
	}, true
}
