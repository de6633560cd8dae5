package terminal

import (
	"fmt"
	"hash/maphash"
	"io"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"blog/internal/lru"
	"blog/ui"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Bubble Tea's standard renderer redraws on a ticker (up to 120 times a
// second) whether or not anything changed, so a thousand idle readers keep
// a core busy. We run programs without it and paint here instead: after
// each update, only the lines that changed, and nothing at all while a
// session is idle. A keypress is painted at once rather than on the next
// tick.

// Enter sets the terminal modes a session needs (alternate screen, hidden
// cursor, mouse wheel with cell motion and SGR encoding, bracketed paste)
// (the painter blanks the screen before its first frame); Leave restores
// them when the session ends.
const (
	Enter = ansi.SetModeAltScreenSaveCursor + ansi.HideCursor + ansi.SetModeMouseButtonEvent + ansi.SetModeMouseExtSgr + ansi.SetModeBracketedPaste
	Leave = ansi.ResetModeBracketedPaste + ansi.ResetModeMouseExtSgr + ansi.ResetModeMouseButtonEvent + ansi.ShowCursor + ansi.ResetModeAltScreenSaveCursor
)

// Painter runs one session's model and writes its frames itself. It
// takes the place of Bubble Tea v1's runner (tea.Program), which gives
// every session two goroutines of its own besides the one that runs it:
// an input reader and a command runner, about 9 KB a session at rest,
// stacks and descriptors. Here the session's own goroutine reads the
// input (Run), and every message, whoever brings it (a key, a live event,
// a command's result, a window change), updates the model and paints the
// frame on the goroutine that brings it (Send). Commands run each on a
// goroutine of their own, as in Bubble Tea, which end with them.
//
// mu keeps the goroutines apart, so each update and the frame painted
// after it happen together, and frames never interleave on the channel.
type Painter struct {
	mu      sync.Mutex
	model   tea.Model
	out     io.Writer
	windows *Windows // where window sizes wait; nil for a session without a channel of its own
	width   int
	height  int
	last    []uint64 // hashes of the lines on screen
	clear   bool     // the window changed: repaint from a blank screen
	before  string   // written ahead of the next frame (Session.Before)

	filter    func(tea.Msg) tea.Msg // sees every message first, once running
	ready     chan struct{}         // closed once the model is initialised, or the program has ended
	readyOnce sync.Once
	closed    bool           // the program has ended: Send drops what comes
	failure   *deliveryPanic // the panic of an update or a command, if one did

	endOnce sync.Once
	end     func()        // the caller's end of the session, run once
	hangUp  func()        // ends the input when the program ends before it
	ended   chan struct{} // closed once end has returned
}

// NewPainter paints m's frames to out for a window of width x height; the
// window sizes that arrive later come from windows (nil: only the
// tea.WindowSizeMsg the program is sent).
func NewPainter(m tea.Model, out io.Writer, width, height int, windows *Windows) *Painter {
	return &Painter{model: m, out: out, windows: windows, width: width, height: height,
		ready: make(chan struct{}), ended: make(chan struct{})}
}

func (p *Painter) markReady() { p.readyOnce.Do(func() { close(p.ready) }) }

// Session is what Run needs besides the model.
type Session struct {
	// Input is the session's input: keys, mouse and pastes.
	Input io.Reader
	// Filter, if set, sees every message before the model does and may
	// replace it (with tea.QuitMsg, say) or drop it (nil).
	Filter func(tea.Msg) tea.Msg
	// End is called once when the program ends, on the goroutine that
	// ended it: nothing updates the model or paints after it is called,
	// so it may use both. Run returns once End has.
	End func()
	// HangUp ends Input, after End, when the program ends while Input is
	// still open (a quit, a panic): Run is blocked reading it until then.
	HangUp func()
	// Before is written with the first frame, in the same write: the
	// terminal modes the session needs (Enter), say. One write fewer a
	// session is one SSH packet fewer to seal and send.
	Before string
	// Done, if set, closes when the session ends. A client may close its
	// input and go on watching (ssh -tt < /dev/null), as Bubble Tea lets
	// it: once Input has ended the program runs until it quits or Done
	// closes. Without Done, the input's end ends the program.
	Done <-chan struct{}
}

// Run initialises the model, paints its first frame, and reads the input
// until the program ends: a quit, a panic, or the input's end. It returns
// the panic, if an update or a command panicked.
func (p *Painter) Run(s Session) error {
	p.filter, p.end, p.hangUp, p.before = s.Filter, s.End, s.HangUp, s.Before
	if cmd, ok := p.init(); ok {
		p.exec(cmd)
		p.read(s.Input, s.Done)
	}
	p.finish()
	<-p.ended
	if f := p.Failure(); f != "" {
		return fmt.Errorf("%w: %s", tea.ErrProgramPanic, f)
	}
	return nil
}

// init initialises the model and paints its first frame. ok is false if
// that panicked.
func (p *Painter) init() (cmd tea.Cmd, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.markReady()
	defer func() {
		if r := recover(); r != nil {
			p.closed, p.failure = true, &deliveryPanic{value: r, stack: debug.Stack()}
		}
	}()
	cmd = p.model.Init()
	p.paint(p.model.View())
	return cmd, true
}

// read hands the input's keys to the model until the program ends, or
// the input does and then done closes (see Session.Done).
func (p *Painter) read(in io.Reader, done <-chan struct{}) {
	if in != nil {
		buf := make([]byte, guardBuffer)
		var keys keyDecoder
		for {
			n, err := in.Read(buf)
			for _, msg := range keys.decode(buf[:n]) {
				p.Send(msg)
			}
			if p.isClosed() {
				return
			}
			if err != nil {
				break
			}
		}
		if done == nil {
			return
		}
	}
	select {
	case <-p.ended:
	case <-done:
	}
}

func (p *Painter) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// finish ends the program once: no update after it, then the caller's
// End. End runs on whichever goroutine ends the program (a hub's, a
// command's, the session's own), so its panic is caught here as an
// update's is, and Run still returns.
func (p *Painter) finish() {
	p.endOnce.Do(func() {
		defer close(p.ended)
		p.Close()
		if p.end == nil {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				p.mu.Lock()
				if p.failure == nil {
					p.failure = &deliveryPanic{value: r, stack: debug.Stack()}
				}
				p.mu.Unlock()
			}
		}()
		p.end()
	})
}

// quit ends the program from any goroutine but Run's, which may be
// waiting for input: after End, the input is hung up so Run returns.
func (p *Painter) quit() {
	p.finish()
	if p.hangUp != nil {
		p.hangUp()
	}
}

// Close says the program has ended: Send leaves the model alone from
// now on, so the caller may use it, and the channel, by itself. It may be
// called more than once.
func (p *Painter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.markReady()
}

// Failure returns the panic of an update or a command, as a message with
// its stack, or "" if none panicked.
func (p *Painter) Failure() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failure == nil {
		return ""
	}
	return p.failure.String()
}

// Send updates the model with msg and paints the frame on the calling
// goroutine, from any goroutine.
//
// A live event reaches every watcher of a post at once. Through an event
// loop, each would wake a goroutine of the session after the sender's;
// here it wakes none, and the hub's delivering goroutine does the update
// and the write itself. A command the update returns runs on a goroutine
// of its own. Before the model is initialised, Send waits for it. A panic
// in the update ends the program, and never reaches the sender.
func (p *Painter) Send(msg tea.Msg) {
	<-p.ready
	if p.filter != nil && msg != nil {
		msg = p.filter(msg)
	}
	if msg == nil || p.isClosed() {
		return // nothing starts after the end, not even a command
	}
	switch m := msg.(type) {
	case tea.QuitMsg:
		p.quit()
		return
	case tea.BatchMsg:
		for _, cmd := range m {
			p.exec(cmd)
		}
		return
	}
	if cmds, ok := sequence(msg); ok {
		go p.runInOrder(cmds)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	cmd, failure := p.updateAndPaint(msg)
	if failure != nil {
		p.closed, p.failure = true, failure // the model may be half updated
	}
	p.mu.Unlock()
	if failure != nil {
		p.quit()
		return
	}
	p.exec(cmd)
}

// exec runs cmd on a goroutine of its own and sends its result, as
// Bubble Tea does: a command may wait on storage or a timer.
func (p *Painter) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		defer p.recoverCommand()
		p.Send(cmd())
	}()
}

// runInOrder runs a tea.Sequence's commands one after the other, each
// result sent before the next command starts; a batch among them runs
// side by side and is waited for, as in Bubble Tea.
func (p *Painter) runInOrder(cmds []tea.Cmd) {
	defer p.recoverCommand()
	p.inOrder(cmds)
}

func (p *Painter) inOrder(cmds []tea.Cmd) {
	for _, cmd := range cmds {
		if cmd == nil || p.isClosed() {
			continue
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			var wg sync.WaitGroup
			for _, c := range msg {
				if c == nil {
					continue
				}
				wg.Go(func() {
					defer p.recoverCommand()
					p.Send(c())
				})
			}
			wg.Wait()
		default:
			if more, ok := sequence(msg); ok {
				p.inOrder(more)
				continue
			}
			p.Send(msg)
		}
	}
}

// recoverCommand ends the program on a command's panic, as Bubble Tea
// does, instead of the server.
func (p *Painter) recoverCommand() {
	if r := recover(); r != nil {
		p.mu.Lock()
		if p.failure == nil {
			p.failure = &deliveryPanic{value: r, stack: debug.Stack()}
		}
		p.closed = true
		p.mu.Unlock()
		p.quit()
	}
}

// sequence recognises tea.Sequence's message, which Bubble Tea keeps
// unexported: a list of commands of its own type.
func sequence(msg tea.Msg) ([]tea.Cmd, bool) {
	if _, ok := msg.(tea.BatchMsg); ok {
		return nil, false
	}
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice || !v.Type().ConvertibleTo(cmdList) {
		return nil, false
	}
	return v.Convert(cmdList).Interface().([]tea.Cmd), true
}

var cmdList = reflect.TypeFor[[]tea.Cmd]()

// updateAndPaint is Send's work, under mu, with any panic caught: the
// painter's own messages first, then the model's update and its frame.
func (p *Painter) updateAndPaint(msg tea.Msg) (cmd tea.Cmd, failure *deliveryPanic) {
	defer func() {
		if r := recover(); r != nil {
			failure = &deliveryPanic{value: r, stack: debug.Stack()}
		}
	}()
	if _, ok := msg.(windowNudge); ok {
		if p.windows == nil {
			return nil, nil
		}
		ws, ok := p.windows.take()
		if !ok {
			return nil, nil
		}
		msg = ws
	}
	switch m := msg.(type) {
	case tea.WindowSizeMsg:
		p.resize(m.Width, m.Height)
	case ui.CopyMsg:
		// OSC 52: the visitor's own terminal puts the text on its
		// clipboard. Only the visitor's y sends this, and the text is
		// base64 inside the sequence, so it cannot end it early.
		_, _ = io.WriteString(p.out, ansi.SetSystemClipboard(m.Text))
		return nil, nil
	}
	p.model, cmd = p.model.Update(msg)
	p.paint(p.model.View())
	return cmd, nil
}

// resize notes a new window size: the next frame is painted from a blank
// screen.
func (p *Painter) resize(width, height int) {
	p.width, p.height = width, height
	p.last, p.clear = nil, true
}

// deliveryPanic is a panic caught in an update or a command.
type deliveryPanic struct {
	value any
	stack []byte
}

func (d *deliveryPanic) String() string {
	return fmt.Sprintf("%v\n\n%s", d.value, d.stack)
}

func (p *Painter) paint(frame string) {
	sp := splitFrame(frame, p.width, p.height)
	lines, hashes := sp.lines, sp.hashes // shared: read only
	if p.last != nil && slices.Equal(hashes, p.last) {
		return
	}
	// Buffers are shared through a pool: an idle session keeps none, and
	// a busy one makes no garbage.
	buf := paintBuffers.Get().(*[]byte)
	b := append((*buf)[:0], p.before...)
	p.before = ""
	// The first frame, and the first after a resize, is painted on a
	// blank screen, so its rows need no erasing: 5 bytes a row of the
	// frame every reader gets first.
	blank := p.clear || p.last == nil
	if blank {
		b = append(b, ansi.EraseEntireScreen...)
		p.clear = false
	}
	onScreen := p.last
	if !blank && len(p.last) > 0 {
		b, onScreen = scroll(b, p.last, hashes)
	}
	b = append(b, ansi.CursorHomePosition...)
	// Rows skipped as unchanged are passed in one cursor move, made only
	// when something below them is written.
	down := 0
	for i, line := range lines {
		if i < len(onScreen) && onScreen[i] == hashes[i] {
			if i < len(lines)-1 {
				down++
			}
			continue
		}
		if down > 0 {
			b = append(b, ansi.CursorDown(down)...)
			down = 0
		}
		// Clear the row, then write: no need to measure each line, which
		// was a fifth of the cost of opening a session. The ui fits every
		// line to the window; its tests check that at several sizes.
		if !blank {
			b = append(b, "\r"+ansi.EraseEntireLine...)
		}
		b = append(b, line...)
		if i < len(lines)-1 {
			b = append(b, "\r\n"...)
		}
	}
	if len(onScreen) > len(lines) {
		if down > 0 {
			b = append(b, ansi.CursorDown(down)...)
		}
		// Erase from the start of the line below the frame: the cursor may
		// still be at the start of an unchanged last line, which erasing
		// from there would take with it. The frame is shorter than the
		// window here, so the new line never scrolls.
		b = append(b, "\r\n"...)
		b = append(b, ansi.EraseScreenBelow...)
	}
	// In pieces: the SSH channel and cipher each keep a buffer as big as
	// the largest write, for the life of the session.
	for out := b; len(out) > 0; {
		n := min(len(out), maxWrite)
		_, _ = p.out.Write(out[:n])
		out = out[n:]
	}
	if cap(b) <= maxPooled {
		*buf = b
		paintBuffers.Put(buf)
	}
	p.last = hashes
}

// minScrollGain is how many more lines a scroll must keep on screen than
// painting in place would, before the painter scrolls.
const minScrollGain = 3

// scroll looks for the lines of the new frame that are the old frame's
// moved up or down by the same number of rows (a reader scrolling a line,
// a new comment pushing the thread up) and, when moving them keeps enough
// lines, has the terminal move them itself, by deleting rows on one side
// of the block and inserting as many on the other. The frame is then
// painted over that as usual, so only the rows the move uncovered and the
// lines that really changed are written. It returns b with the sequences
// and the hashes of what the screen holds after the move; when nothing
// moves, b and old unchanged.
//
// A frame whose content moved by k rows would otherwise be rewritten
// whole: at 100x40, about 6 KB to every watcher of a thread for each new
// comment, against a few hundred bytes this way. Deleting and inserting
// lines (DL, IL) is in every terminal since the VT102.
func scroll(b []byte, old, hashes []uint64) ([]byte, []uint64) {
	n := min(len(old), len(hashes))
	// right[r] counts the rows above r already right where they are.
	var buf [MaxHeight + 1]int
	right := buf[:0]
	if n+1 > len(buf) {
		right = make([]int, 0, n+1)
	}
	right = append(right, 0)
	for r := range n {
		right = append(right, right[r])
		if old[r] == hashes[r] {
			right[r+1]++
		}
	}
	// The shifts worth trying are those that bring some line back: a few
	// rows spread over the new frame (not blank ones, which match
	// anywhere) are looked for in the old one.
	var shifts [16]int
	ns := 0
	for _, a := range [...]int{n / 4, n / 2, 3 * n / 4} {
		for a < n && hashes[a] == blankLine {
			a++
		}
		for j := 0; j < n && a < n; j++ {
			if d := j - a; d != 0 && old[j] == hashes[a] && ns < len(shifts) && !slices.Contains(shifts[:ns], d) {
				shifts[ns] = d
				ns++
			}
		}
	}
	// For each shift (> 0: row i now shows what row i+shift showed, moved
	// up), the longest run of rows that moved by it. Moving a run is worth
	// its length, less the rows in its region that are right already and
	// would have to be painted again.
	best, top, bottom, bestScore := 0, 0, 0, minScrollGain-1
	for _, shift := range shifts[:ns] {
		run := 0 // O(n) a shift
		for i := range n {
			if j := i + shift; j >= 0 && j < n && hashes[i] == old[j] {
				run++
			} else {
				run = 0
			}
			if run == 0 || run <= bestScore {
				continue
			}
			// The run is rows i-run+1..i; the region adds the rows it
			// moves out of (below it going up, above it going down).
			t, e := i-run+1, i+shift
			if shift < 0 {
				t, e = i-run+1+shift, i
			}
			if score := run - (right[e+1] - right[t]); score > bestScore {
				best, top, bottom, bestScore = shift, t, e, score
			}
		}
	}
	if best == 0 {
		return b, old
	}
	// What the region holds once scrolled: the rows moved, and blank rows
	// where they came from.
	screen := slices.Clone(old)
	for r := top; r <= bottom; r++ {
		if j := r + best; j >= top && j <= bottom {
			screen[r] = old[j]
		} else {
			screen[r] = blankLine
		}
	}
	// Reset the style first: the rows a move uncovers take the current
	// background. The move deletes rows on one side of the block and
	// inserts as many on the other (DL and IL, VT102), rather than setting
	// a scrolling region: a region names rows that must exist, and a
	// client that has just shrunk its window (its window change still on
	// the way) may not have them; deleting and inserting at a row past its
	// screen stays within it, and the frame for the new size repaints all.
	b = append(b, ansi.ResetStyle...)
	if best > 0 { // up: drop the top rows, open as many under the block
		b = append(b, ansi.CursorPosition(1, top+1)...)
		b = append(b, ansi.DeleteLine(best)...)
		b = append(b, ansi.CursorPosition(1, bottom-best+2)...)
		b = append(b, ansi.InsertLine(best)...)
	} else { // down: drop the bottom rows, open as many over the block
		b = append(b, ansi.CursorPosition(1, bottom+best+2)...)
		b = append(b, ansi.DeleteLine(-best)...)
		b = append(b, ansi.CursorPosition(1, top+1)...)
		b = append(b, ansi.InsertLine(-best)...)
	}
	return b, screen
}

// blankLine is the hash of an empty row, as a scroll leaves it.
var blankLine = maphash.String(lineSeed, "")

// frameLines is a frame cut into the lines a window shows, each fitted and
// hashed. Sessions showing the same frame (the ui shares the frame of
// readers at the same place) share one: the painter of each watcher of a
// thread neither splits nor hashes it again.
type frameLines struct {
	frame  string // held so that its address names no other frame
	lines  []string
	hashes []uint64
}

// frameKey names a frame by its address and length: strings are never
// changed, and the cache holds the frame alive.
type frameKey struct {
	data          *byte
	n             int
	width, height int
}

// frames are the frames split lately, bounded in bytes. Frames no other
// session shows pass through it once.
var frames = lru.New(4<<20, func(_ frameKey, f *frameLines) int64 {
	return int64(len(f.frame)+24*len(f.lines)+8*len(f.hashes)) + 64
})

func splitFrame(frame string, width, height int) *frameLines {
	k := frameKey{unsafe.StringData(frame), len(frame), width, height}
	if f, ok := frames.Get(k); ok {
		return f
	}
	var lines []string
	if height > 0 {
		// Lines past the window are never drawn, so never split off one
		// by one either.
		lines = strings.SplitN(frame, "\n", height+1)
		lines = lines[:min(len(lines), height)]
	} else {
		lines = strings.Split(frame, "\n")
	}
	// The ui fits every line to the window, but the painter does not take
	// that on trust: a line longer in bytes than any fitted line can be is
	// cut to the window, so a frame is never more than height lines of
	// lineBytes(width) each.
	most := lineBytes(width)
	hashes := make([]uint64, len(lines))
	for i, l := range lines {
		if len(l) > most {
			l = fitLine(l, width, most)
			lines[i] = l
		}
		hashes[i] = maphash.String(lineSeed, l)
	}
	f := &frameLines{frame: frame, lines: lines, hashes: hashes}
	frames.Add(k, f)
	return f
}

// lineBytes is the most bytes a painted line may hold at a width: 1 KiB
// plus 32 bytes a cell, room for a style change every cell or two (a
// truecolor foreground and background is about 40 bytes; the ui's styles
// change per word, not per cell). At 500 columns that is 17 KiB a line,
// 3.3 MB for a 200-row frame at most; at 80x24, 84 KiB.
func lineBytes(width int) int {
	return 1024 + 32*max(width, 1)
}

// fitLine cuts an oversized line to width cells, then, if escape sequences
// still make it longer than most bytes, to most bytes, ending with a style
// reset. Only lines that break the ui's promise come here.
func fitLine(line string, width, most int) string {
	line = ansi.Truncate(line, max(width, 1), "")
	if len(line) <= most {
		return line
	}
	cut := most - len(ansi.ResetStyle)
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return line[:cut] + ansi.ResetStyle
}

// paintBuffers hold frames while they are written. A buffer that grew past
// maxPooled (a frame for a huge terminal) is not kept, so it cannot stay
// pinned in the pool.
var paintBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 64 << 10

// maxWrite bounds one write to the session's channel; see paint.
const maxWrite = 2048

// lineSeed keys the line hashes. A collision would leave one line stale
// until it changes again; the odds are 2^-64 for each line painted.
var lineSeed = maphash.MakeSeed()
