package terminal

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/internal/syncbuf"

	tea "github.com/charmbracelet/bubbletea"
)

// counter is a model that counts what it is given: live events (an int)
// and the results of the commands it asks for (a string), and remembers
// the goroutine that updated it last.
type counter struct {
	mu      *sync.Mutex // guards the fields tests read while the program runs
	events  int
	results []string
	initted bool
	askFor  string // the next event returns a command that yields this
	panicOn int    // the event with this value panics
}

type cmdResult string

func (c *counter) Init() tea.Cmd {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.initted = true
	return nil
}

func (c *counter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch msg := msg.(type) {
	case int:
		if !c.initted {
			panic("an event before Init")
		}
		if msg == c.panicOn {
			panic("boom")
		}
		c.events++
		if c.askFor != "" {
			want := c.askFor
			c.askFor = ""
			return c, func() tea.Msg { return cmdResult(want) }
		}
	case cmdResult:
		c.results = append(c.results, string(msg))
	case tea.KeyMsg:
		if msg.String() == "q" {
			return c, tea.Quit
		}
	}
	return c, nil
}

func (c *counter) View() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("events %d", c.events)
}

// runPainted runs m behind a painter, with no input, and returns the
// painter and a function that waits for Run's error.
func runPainted(t *testing.T, m tea.Model, out io.Writer) (*Painter, func() error) {
	t.Helper()
	painter := NewPainter(m, out, 40, 10, nil)
	done := make(chan error, 1)
	go func() { done <- painter.Run(Session{}) }()
	wait := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() {
		painter.quit()
		_ = wait()
	})
	return painter, wait
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A delivered event is applied and painted before Send returns, on the
// caller's goroutine; the command it returns runs in the program, whose
// result reaches the model.
func TestSendUpdatesAndPaintsAtOnce(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu, askFor: "fetched"}
	var out syncbuf.Buffer
	painter, _ := runPainted(t, m, &out)
	waitFor(t, "the first frame", func() bool { return strings.Contains(out.String(), "events 0") })

	painter.Send(1)
	if s := out.String(); !strings.Contains(s, "events 1") {
		t.Fatalf("after Send returned the screen holds %q, want the frame with the event", s)
	}
	waitFor(t, "the command's result", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(m.results) == 1 && m.results[0] == "fetched"
	})
}

// An event delivered before the program has initialised its model waits
// for it; one delivered after the program ended leaves the model alone.
func TestSendBeforeStartWaitsAndAfterEndDrops(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu}
	painter := NewPainter(m, io.Discard, 40, 10, nil)

	delivered := make(chan struct{})
	go func() {
		painter.Send(1) // before Run: counter panics if it comes before Init
		close(delivered)
	}()
	done := make(chan error, 1)
	go func() {
		done <- painter.Run(Session{})
	}()
	<-delivered
	waitFor(t, "the early event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return m.events == 1
	})
	painter.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	painter.Send(2)
	mu.Lock()
	defer mu.Unlock()
	if m.events != 1 {
		t.Fatalf("%d events applied; the one after the end must be dropped", m.events)
	}
}

// A panic in an update ends the program, and the goroutine that sent the
// message carries on.
func TestUpdatePanicEndsTheProgramNotTheSender(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu, panicOn: 7}
	painter, wait := runPainted(t, m, io.Discard)
	painter.Send(1)
	painter.Send(7) // must return, not panic
	if err := wait(); !errors.Is(err, tea.ErrProgramPanic) {
		t.Fatalf("Run ended with %v, want a program panic", err)
	}
	if f := painter.Failure(); !strings.Contains(f, "boom") {
		t.Fatalf("Failure() = %q, want the panic", f)
	}
	painter.Send(8) // after the end: dropped, no panic, no block
	mu.Lock()
	defer mu.Unlock()
	if m.events != 1 {
		t.Fatalf("%d events applied; none after the panic", m.events)
	}
}

// tally counts what it is given and guards nothing: the painter alone must
// keep its updates and views apart (run with -race).
type tally struct{ events, keys, views int }

func (c *tally) Init() tea.Cmd { return nil }
func (c *tally) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case int:
		c.events++
	case tea.KeyMsg:
		c.keys++
	}
	return c, nil
}
func (c *tally) View() string { c.views++; return fmt.Sprint(c.events, c.keys) }

// Keys and live events sent from two goroutines at once never touch the
// model at the same time, and none is lost.
func TestSendersNeverOverlap(t *testing.T) {
	m := &tally{}
	painter, wait := runPainted(t, m, io.Discard)
	const n = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			painter.Send(1)
		}
	})
	wg.Go(func() {
		for range n {
			painter.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
		}
	})
	wg.Wait()
	painter.quit()
	if err := wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.events != n || m.keys != n {
		t.Fatalf("%d events and %d keys applied, want %d of each", m.events, m.keys, n)
	}
}

// A client may close its input and go on watching: the program runs on,
// live events still paint, and it ends when the session does.
func TestRunOutlivesItsInputUntilTheSessionEnds(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu}
	var out syncbuf.Buffer
	painter := NewPainter(m, &out, 40, 10, nil)
	sessionDone := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		ended <- painter.Run(Session{Input: strings.NewReader("j"), Done: sessionDone})
	}()
	painter.Send(1)
	if s := out.String(); !strings.Contains(s, "events 1") {
		t.Fatalf("after the input's end, a live event painted %q", s)
	}
	select {
	case err := <-ended:
		t.Fatalf("Run returned (%v) when the input ended; the session is still open", err)
	default:
	}
	close(sessionDone)
	if err := <-ended; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// steps records what a program gives it, in order.
type steps struct {
	mu   sync.Mutex
	got  []string
	init tea.Cmd
}

type step string

func (s *steps) Init() tea.Cmd { return s.init }
func (s *steps) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg, ok := msg.(step); ok {
		s.got = append(s.got, string(msg))
		if msg == "boom" {
			return s, func() tea.Msg { panic("a command panicked") }
		}
	}
	return s, nil
}
func (s *steps) View() string { return "" }

func (s *steps) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

func say(text string) tea.Cmd { return func() tea.Msg { return step(text) } }

// tea.Sequence runs its commands one after the other, nested sequences
// and batches included, and a command's tea.Quit ends the program: End
// runs, then the input is hung up.
func TestCommandsSequenceBatchAndQuit(t *testing.T) {
	slow := func() tea.Msg {
		// The batch's commands take a while: the sequence waits for them.
		<-time.After(50 * time.Millisecond)
		return step("4")
	}
	m := &steps{init: tea.Sequence(say("1"), tea.Sequence(say("2"), say("3")), tea.Batch(slow, slow), say("5"), tea.Quit)}
	pr, pw := io.Pipe()
	defer pw.Close()
	var order []string
	var orderMu sync.Mutex
	note := func(s string) { orderMu.Lock(); order = append(order, s); orderMu.Unlock() }
	painter := NewPainter(m, io.Discard, 40, 10, nil)
	err := painter.Run(Session{Input: pr, End: func() { note("end") }, HangUp: func() { note("hang up"); _ = pr.Close() }})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := m.list(); !slices.Equal(got, []string{"1", "2", "3", "4", "4", "5"}) {
		t.Errorf("the sequence ran as %q, want 1 2 3 4 4 5", got)
	}
	orderMu.Lock()
	defer orderMu.Unlock()
	if !slices.Equal(order, []string{"end", "hang up"}) {
		t.Errorf("on quit the painter did %q, want end, then hang up", order)
	}
}

// A command's panic ends the program as an update's would: Run returns
// the panic, and nothing reaches the model after it.
func TestCommandPanicEndsTheProgram(t *testing.T) {
	m := &steps{init: say("boom")}
	painter := NewPainter(m, io.Discard, 40, 10, nil)
	pr, pw := io.Pipe()
	defer pw.Close()
	err := painter.Run(Session{Input: pr, HangUp: func() { _ = pr.Close() }})
	if !errors.Is(err, tea.ErrProgramPanic) || !strings.Contains(err.Error(), "a command panicked") {
		t.Fatalf("Run ended with %v, want the command's panic", err)
	}
	painter.Send(step("after"))
	if got := m.list(); !slices.Equal(got, []string{"boom"}) {
		t.Fatalf("the model was given %q, want only the step before the panic", got)
	}
}

// Session.Before goes out with the first frame, in one write, and only
// with the first.
func TestBeforeGoesWithTheFirstFrame(t *testing.T) {
	var out writes
	m := &frame{view: "hello"}
	painter := NewPainter(m, &out, 20, 5, nil)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- painter.Run(Session{Input: pr, Before: Enter, HangUp: func() { _ = pr.Close() }}) }()
	<-painter.ready // the first frame is painted before ready
	painter.mu.Lock()
	sizes, all := slices.Clone(out.sizes), out.all.String()
	painter.mu.Unlock()
	if len(sizes) != 1 || !strings.HasPrefix(all, Enter) || !strings.Contains(all, "hello") {
		t.Fatalf("the first frame went out as %d writes %q; want one, the modes then the frame", len(sizes), all)
	}
	m.view = "again"
	painter.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")})
	painter.mu.Lock()
	second := out.all.String()[len(all):]
	painter.mu.Unlock()
	if strings.Contains(second, Enter) || !strings.Contains(second, "again") {
		t.Fatalf("the second frame went out as %q; want the frame alone", second)
	}
	_ = pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// End runs on whichever goroutine ends the program. Its panic is caught
// there, wherever that is (a live event's, a command's), and Run returns
// it rather than the process dying or Run waiting forever.
func TestEndPanicIsCaughtWhereverTheEndComes(t *testing.T) {
	for _, tc := range []struct {
		name string
		init tea.Cmd
		send tea.Msg // sent from a goroutine of the test's, as the hub does
	}{
		{name: "a command quits", init: tea.Quit},
		{name: "a live event quits", send: "shutdown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &steps{init: tc.init}
			painter := NewPainter(m, io.Discard, 10, 5, nil)
			pr, pw := io.Pipe()
			defer pw.Close()
			done := make(chan error, 1)
			go func() {
				done <- painter.Run(Session{
					Input: pr,
					Filter: func(msg tea.Msg) tea.Msg {
						if msg == "shutdown" {
							return tea.QuitMsg{}
						}
						return msg
					},
					End:    func() { panic("leaving failed") },
					HangUp: func() { _ = pr.Close() },
					Done:   make(chan struct{}),
				})
			}()
			if tc.send != nil {
				go painter.Send(tc.send)
			}
			if err := <-done; !errors.Is(err, tea.ErrProgramPanic) || !strings.Contains(err.Error(), "leaving failed") {
				t.Fatalf("Run returned %v, want End's panic", err)
			}
		})
	}
}
