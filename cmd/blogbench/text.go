package main

// textScanner turns a terminal output stream into the text a reader sees,
// line by line, and answers the terminal queries a real terminal would.
// It is incremental: a sequence split across reads is handled. Emulating a
// full screen (x/vt) costs ~0.4 ms a frame; with 1,000 sessions on the
// server's own machine that would outweigh the server being measured.
type textScanner struct {
	state  int
	params []byte // body of the current CSI or OSC, capped
}

const (
	stGround = iota
	stEsc
	stCSI
	stOSC
	stOSCEsc // ESC inside an OSC: the start of ST
	stString // DCS, APC, PM, SOS: skipped up to ST
	stStringEsc
)

// Answers sent for the queries the blog asks: a black background (OSC 11)
// and a VT220-class terminal (DA1).
const (
	answerBackground = "\x1b]11;rgb:0000/0000/0000\x1b\\"
	answerDA1        = "\x1b[?62;22c"
	maxParams        = 64
)

// feed appends the visible text of p to text and the answers to any
// queries to reply. Cursor movements and other controls become a line
// break, so text from two places never reads as one phrase; colour and
// other SGR changes vanish, so a styled phrase reads as plain text.
func (t *textScanner) feed(p, text, reply []byte) ([]byte, []byte) {
	for _, c := range p {
		switch t.state {
		case stGround:
			switch {
			case c == 0x1b:
				t.state = stEsc
			case c == '\n':
				text = append(text, '\n')
			case c >= 0x20 && c != 0x7f:
				text = append(text, c)
			}
		case stEsc:
			t.params = t.params[:0]
			switch c {
			case '[':
				t.state = stCSI
			case ']':
				t.state = stOSC
			case 'P', '_', '^', 'X':
				t.state = stString
			default:
				t.state = stGround
				text = append(text, '\n')
			}
		case stCSI:
			if c >= 0x40 && c <= 0x7e {
				t.state = stGround
				switch {
				case c == 'c' && (len(t.params) == 0 || string(t.params) == "0"):
					reply = append(reply, answerDA1...)
				case c != 'm':
					text = append(text, '\n')
				}
			} else if len(t.params) < maxParams {
				t.params = append(t.params, c)
			}
		case stOSC, stOSCEsc:
			switch {
			case c == 0x07 || (t.state == stOSCEsc && c == '\\'):
				t.state = stGround
				if string(t.params) == "11;?" {
					reply = append(reply, answerBackground...)
				}
				text = append(text, '\n')
			case c == 0x1b:
				t.state = stOSCEsc
			default:
				t.state = stOSC
				if len(t.params) < maxParams {
					t.params = append(t.params, c)
				}
			}
		case stString, stStringEsc:
			switch {
			case c == 0x07 || (t.state == stStringEsc && c == '\\'):
				t.state = stGround
			case c == 0x1b:
				t.state = stStringEsc
			default:
				t.state = stString
			}
		}
	}
	return text, reply
}
