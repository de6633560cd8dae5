package terminal

import (
	"errors"
	"fmt"
	"io"
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

// runPainted runs m behind a painter in a real program and returns the
// painter, the program, and a function that waits for Run's error.
func runPainted(t *testing.T, m tea.Model, out io.Writer) (*Painter, *tea.Program, func() error) {
	t.Helper()
	painter := NewPainter(m, out, 40, 10, nil)
	p := tea.NewProgram(painter, tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithoutRenderer(), tea.WithoutSignalHandler())
	painter.Attach(p.Send)
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		painter.Close()
		done <- err
	}()
	wait := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() {
		p.Kill()
		_ = wait()
	})
	return painter, p, wait
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

// A delivered event is applied and painted before Deliver returns, on the
// caller's goroutine; the command it returns runs in the program, whose
// result reaches the model.
func TestDeliverUpdatesAndPaintsAtOnce(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu, askFor: "fetched"}
	var out syncbuf.Buffer
	painter, _, _ := runPainted(t, m, &out)
	waitFor(t, "the first frame", func() bool { return strings.Contains(out.String(), "events 0") })

	painter.Deliver(1)
	if s := out.String(); !strings.Contains(s, "events 1") {
		t.Fatalf("after Deliver returned the screen holds %q, want the frame with the event", s)
	}
	waitFor(t, "the command's result", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(m.results) == 1 && m.results[0] == "fetched"
	})
}

// An event delivered before the program has initialised its model waits
// for it; one delivered after the program ended leaves the model alone.
func TestDeliverBeforeStartWaitsAndAfterEndDrops(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu}
	painter := NewPainter(m, io.Discard, 40, 10, nil)
	p := tea.NewProgram(painter, tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithoutRenderer(), tea.WithoutSignalHandler())
	painter.Attach(p.Send)

	delivered := make(chan struct{})
	go func() {
		painter.Deliver(1) // before Run: counter panics if it comes before Init
		close(delivered)
	}()
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		painter.Close()
		done <- err
	}()
	<-delivered
	waitFor(t, "the early event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return m.events == 1
	})
	p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	painter.Deliver(2)
	mu.Lock()
	defer mu.Unlock()
	if m.events != 1 {
		t.Fatalf("%d events applied; the one after the end must be dropped", m.events)
	}
}

// A panic in a delivered update ends that program as a panic in its own
// update would, and the deliverer carries on.
func TestDeliverPanicEndsTheProgramNotTheDeliverer(t *testing.T) {
	var mu sync.Mutex
	m := &counter{mu: &mu, panicOn: 7}
	painter, _, wait := runPainted(t, m, io.Discard)
	painter.Deliver(1)
	painter.Deliver(7) // must return, not panic
	if err := wait(); !errors.Is(err, tea.ErrProgramPanic) {
		t.Fatalf("Run ended with %v, want a program panic", err)
	}
	if f := painter.Failure(); !strings.Contains(f, "boom") {
		t.Fatalf("Failure() = %q, want the panic", f)
	}
	painter.Deliver(8) // after the end: dropped, no panic, no block
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

// Keys through the program and events delivered beside them never touch
// the model at the same time, and none is lost.
func TestDeliverBesideTheEventLoop(t *testing.T) {
	m := &tally{}
	painter, p, wait := runPainted(t, m, io.Discard)
	const n = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			painter.Deliver(1)
		}
	})
	wg.Go(func() {
		for range n {
			p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
		}
	})
	wg.Wait()
	p.Quit()
	if err := wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.events != n || m.keys != n {
		t.Fatalf("%d events and %d keys applied, want %d of each", m.events, m.keys, n)
	}
}
