package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/internal/termclient"
	"blog/server"
	"blog/terminal"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/crypto/ssh"
)

// Abuse tests for what one session's client sends: terminal sizes, window
// changes, session channels, environment, pastes, and output it never
// reads. Each talks to the real server over TCP.

// rawTerm is a session with a PTY of any size, whose output is collected
// (or, with read false, never read: its SSH window fills and stays shut).
type rawTerm struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.Writer
	// others are the goroutines already stuck writing when the session
	// opened: other sessions', and other tests' servers still shutting down.
	others map[string]bool

	mu  sync.Mutex
	out bytes.Buffer
}

func openRaw(t *testing.T, addr string, width, height uint32, read bool) *rawTerm {
	t.Helper()
	others := stuckWriters()
	client, sess := dialSession(t, addr, nil)
	// The library's RequestPty takes ints; the protocol carries uint32.
	pty := ssh.Marshal(struct {
		Term                string
		Columns, Rows, W, H uint32
		Modes               string
	}{"xterm-256color", width, height, 0, 0, "\x00"})
	if ok, err := sess.SendRequest("pty-req", true, pty); err != nil || !ok {
		t.Fatalf("pty-req: ok=%v err=%v", ok, err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	r := &rawTerm{client: client, sess: sess, stdin: stdin, others: others}
	if read {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := stdout.Read(buf)
				r.mu.Lock()
				r.out.Write(buf[:n])
				r.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	return r
}

func (r *rawTerm) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitOutput polls until cond holds for the output so far.
func (r *rawTerm) waitOutput(t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond(r.output()) {
		if time.Now().After(deadline) {
			out := r.output()
			t.Fatalf("timed out waiting for %s; %d bytes of output, ending %q", what, len(out), out[max(0, len(out)-300):])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// resize sends a window change with the protocol's full range of sizes.
func (r *rawTerm) resize(width, height uint32) error {
	_, err := r.sess.SendRequest("window-change", false, ssh.Marshal(struct{ W, H, PW, PH uint32 }{width, height, 0, 0}))
	return err
}

// closed says whether the server has closed the connection.
func (r *rawTerm) closed() <-chan struct{} {
	done := make(chan struct{})
	go func() { _ = r.client.Wait(); close(done) }()
	return done
}

// widestLine is the widest line in a raw output stream, in cells: the
// painter starts every line it writes with a carriage return, and moves
// the cursor down or home between them.
func widestLine(out string) int {
	widest := 0
	out = strings.NewReplacer(ansi.CUD1, "\r", ansi.CursorHomePosition, "\r").Replace(out)
	for _, line := range strings.Split(out, "\r") {
		widest = max(widest, ansi.StringWidth(line))
	}
	return widest
}

// waitServing polls until a fresh connection is served a command, i.e. the
// server has room for it again.
func waitServing(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, stderr, code, err := termclient.Exec(addr, nil, "ls", nil)
		if err == nil && code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still turns connections away after %s: code %d, err %v, stderr %q", within, code, err, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHugeTerminalSizesAreClamped(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, size := range [][2]uint32{{4294967295, 4294967295}, {10_000_000, 40}, {100, 4294967295}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			r := openRaw(t, ts.addr, size[0], size[1], true)
			r.waitOutput(t, "the home screen", func(out string) bool { return strings.Contains(out, "Test Blog") })
			if w := widestLine(r.output()); w > terminal.MaxWidth {
				t.Fatalf("a line of %d cells was painted; at most %d", w, terminal.MaxWidth)
			}
			// The same through a window change: a repaint from a clear screen.
			before := strings.Count(r.output(), ansi.EraseEntireScreen)
			if err := r.resize(size[1], size[0]); err != nil {
				t.Fatal(err)
			}
			r.waitOutput(t, "a repaint", func(out string) bool {
				i := strings.LastIndex(out, ansi.EraseEntireScreen)
				return strings.Count(out, ansi.EraseEntireScreen) > before && strings.Contains(out[i:], "Test Blog")
			})
			if w := widestLine(r.output()); w > terminal.MaxWidth {
				t.Fatalf("after a window change a line of %d cells was painted; at most %d", w, terminal.MaxWidth)
			}
		})
	}
	// Still serving everyone.
	s := ts.open(t, nil, 100, 40)
	waitFor(t, s, "enter read")
}

// fillWindow repaints a session that reads nothing until its program is
// stuck writing a frame: the client's SSH window is full. It returns the
// stuck goroutine's ID, the first stuck writer that was not stuck before
// the session opened, or "" if the server closed the connection meanwhile
// (a short write deadline).
func fillWindow(t *testing.T, r *rawTerm) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := uint32(0); ; i++ {
		for id := range stuckWriters() {
			if !r.others[id] {
				return id
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the session's output never filled its window")
		}
		if r.resize(terminal.MaxWidth-i%2, terminal.MaxHeight) != nil {
			return ""
		}
		time.Sleep(2 * time.Millisecond) // pace the repaints, not a wait for a condition
	}
}

// blockedWriters counts the goroutines of the test binary that are stuck
// writing: see stuckWriters.
func blockedWriters() int { return len(stuckWriters()) }

// stuckWriter is a goroutine asleep in the SSH library's wait for window
// space. A goroutine merely passing through that function (its client
// reads, or it is about to find the window open) is also on the function,
// often enough under load, but not asleep in its condition wait.
var stuckWriter = regexp.MustCompile(`\nsync\.\(\*Cond\)\.Wait\([^\n]*\n[^\n]*\ngolang\.org/x/crypto/ssh\.\(\*window\)\.reserve\(`)

// stuckWriters lists, by goroutine ID, the goroutines of the test binary
// that wait for SSH window space: the server's writes to clients that do
// not read. Goroutine IDs are never reused, so an ID names one write.
func stuckWriters() map[string]bool {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	ids := map[string]bool{}
	for _, g := range strings.Split(buf.String(), "\n\n") {
		head, _, _ := strings.Cut(g, "\n")
		rest, ok := strings.CutPrefix(head, "goroutine ")
		id, state, _ := strings.Cut(rest, " ")
		if ok && strings.HasPrefix(state, "[sync.Cond.Wait") && stuckWriter.MatchString(g) {
			ids[id] = true
		}
	}
	return ids
}

func TestResizeBurstThenDisconnectReleasesConnection(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{MaxConns: 1, ConnsPerMinute: 6000}})
	r := openRaw(t, ts.addr, terminal.MaxWidth, terminal.MaxHeight, false)
	fillWindow(t, r)
	// A burst of window changes while the program is stuck writing: the
	// request loop must not wait for it, or the client's window adjust
	// waits behind the requests.
	for i := range 2000 {
		if err := r.resize(uint32(80+i%100), 40); err != nil {
			t.Fatal(err)
		}
	}
	r.client.Close()
	// The only slot comes back: a new connection is served.
	waitServing(t, ts.addr, 15*time.Second)
}

func TestUnreadSessionIsClosedByWriteDeadline(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{WriteTimeout: time.Second}})
	r := openRaw(t, ts.addr, terminal.MaxWidth, terminal.MaxHeight, false)
	closed := r.closed()
	fillWindow(t, r)
	// Keep asking for frames: however much the client asks, a session
	// stuck writing must be cut within the deadline.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for i := uint32(0); ; i++ {
		select {
		case <-closed:
		case <-tick.C:
			_ = r.resize(terminal.MaxWidth-i%2, terminal.MaxHeight)
			continue
		case <-deadline:
			t.Fatal("a session whose client reads nothing was not closed by the write deadline")
		}
		break
	}
	if got := metric(t, ts, `blog_sessions_cut_total{reason="write_timeout"}`); got < 1 {
		t.Fatalf("blog_sessions_cut_total{reason=\"write_timeout\"} = %v", got)
	}
	s := ts.open(t, nil, 100, 40)
	waitFor(t, s, "enter read")
}

// A client that keeps its window shut but keeps sending requests that want
// a reply is still cut by the write deadline: the replies go out, but they
// are not progress for the frame that waits behind the window.
func TestRepliesDoNotKeepAStuckWriteAlive(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{WriteTimeout: time.Second}})
	r := openRaw(t, ts.addr, terminal.MaxWidth, terminal.MaxHeight, false)
	closed := r.closed()
	fillWindow(t, r)
	go func() {
		for {
			// Refused, and answered: that is the point.
			if _, err := r.sess.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				return
			}
			select {
			case <-closed:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	select {
	case <-closed:
	case <-time.After(60 * time.Second):
		t.Fatal("a stuck session kept alive by requests was not closed by the write deadline")
	}
	if got := metric(t, ts, `blog_sessions_cut_total{reason="write_timeout"}`); got < 1 {
		t.Fatalf("blog_sessions_cut_total{reason=\"write_timeout\"} = %v", got)
	}
}

// A client that takes its output is never cut by the write deadline, however
// long the server keeps writing to it: the deadline counts from the last
// progress, and its timer, left running between writes, waits out the
// rest rather than firing on a session that is merely busy.
func TestBusyReaderOutlastsTheWriteDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := startServer(t, serverOpts{limits: server.ConnLimits{WriteTimeout: timeout}})
	s := ts.open(t, nil, 100, 40)
	waitFor(t, s, "enter read")
	// Frames for five timeouts and more: each resize repaints.
	for start, i := time.Now(), 0; time.Since(start) < 6*timeout; i++ {
		before := s.Received()
		if err := s.Resize(100-i%2, 40); err != nil {
			t.Fatalf("resize %d: %v", i, err)
		}
		if err := s.WaitOutput(before, 10*time.Second); err != nil {
			t.Fatalf("no frame after resize %d: %v", i, err)
		}
	}
	select {
	case <-s.Done():
		t.Fatal("a session that read all its output was closed")
	default:
	}
	typeKeys(t, s, "j")
	if got := metric(t, ts, `blog_sessions_cut_total{reason="write_timeout"}`); got != 0 {
		t.Fatalf("blog_sessions_cut_total{reason=\"write_timeout\"} = %v for a client that reads", got)
	}
}

// Idle and max-session timeouts hold while a session's program is stuck
// writing and a burst of window changes waits behind it (the write
// deadline is set far off so they are what fires).
func TestTimeoutsCloseWedgedSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts serverOpts
		// busy keeps the client sending, so only the max timeout can fire.
		busy bool
	}{
		{"idle", serverOpts{idle: 2 * time.Second}, false},
		{"max", serverOpts{maxConn: 10 * time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.limits = server.ConnLimits{WriteTimeout: time.Hour}
			ts := startServer(t, tc.opts)
			r := openRaw(t, ts.addr, terminal.MaxWidth, terminal.MaxHeight, false)
			closed := r.closed()
			fillWindow(t, r)
			for i := range 1000 {
				if r.resize(uint32(80+i%100), 40) != nil {
					break // closed already: the timeout fired
				}
			}
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(30 * time.Second)
			for {
				select {
				case <-closed:
					return
				case <-deadline:
					t.Fatalf("the %s timeout did not close a wedged session", tc.name)
				case <-tick.C:
					if tc.busy {
						_ = r.resize(120, 40)
					}
				}
			}
		})
	}
}

func TestSessionsPerConnectionAreCapped(t *testing.T) {
	ts := startServer(t, serverOpts{})
	client, err := termclient.Dial(ts.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var open []*ssh.Session
	for i := range server.MaxSessionsPerConn {
		s, err := client.NewSession()
		if err != nil {
			t.Fatalf("session %d of %d refused: %v", i+1, server.MaxSessionsPerConn, err)
		}
		open = append(open, s)
	}
	_, err = client.NewSession()
	var refused *ssh.OpenChannelError
	if !errors.As(err, &refused) || refused.Reason != ssh.ResourceShortage {
		t.Fatalf("session %d: got %v, want a ResourceShortage refusal", server.MaxSessionsPerConn+1, err)
	}
	if !strings.Contains(refused.Message, "sessions per connection") {
		t.Fatalf("refusal says %q", refused.Message)
	}
	// A closed session gives its place back.
	open[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := client.NewSession()
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new session after closing one: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSessionsCountTowardPerIPCap(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{MaxConnsPerIP: 3}})
	client, err := termclient.Dial(ts.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for i := range 3 {
		if _, err := client.NewSession(); err != nil {
			t.Fatalf("session %d refused: %v", i+1, err)
		}
	}
	_, err = client.NewSession()
	var refused *ssh.OpenChannelError
	if !errors.As(err, &refused) || refused.Reason != ssh.ResourceShortage || !strings.Contains(refused.Message, "from your address") {
		t.Fatalf("fourth session from one address: got %v", err)
	}
	// A new connection is turned away politely too.
	_, stderr, code, err := termclient.Exec(ts.addr, nil, "ls", nil)
	if err != nil || code == 0 || !strings.Contains(stderr, "Too many open sessions") {
		t.Fatalf("new connection over the per-IP cap: code %d, err %v, stderr %q", code, err, stderr)
	}
}

func TestEnvironmentIsFilteredAndBounded(t *testing.T) {
	ts := startServer(t, serverOpts{})
	client, sess := dialSession(t, ts.addr, nil)
	for _, kv := range [][2]string{{"FOO", "bar"}, {"LD_PRELOAD", "/x.so"}, {"LANG", strings.Repeat("x", 300)}} {
		if err := sess.Setenv(kv[0], kv[1]); err == nil {
			t.Errorf("env %s (%d bytes) was accepted", kv[0], len(kv[1]))
		}
	}
	for _, kv := range [][2]string{{"TERM", "xterm"}, {"COLORTERM", "truecolor"}, {"NO_COLOR", "1"}, {"LANG", "C.UTF-8"}, {"TZ", "UTC"}} {
		if err := sess.Setenv(kv[0], kv[1]); err != nil {
			t.Errorf("env %s refused: %v", kv[0], err)
		}
	}
	accepted := 5
	for i := range 40 {
		if sess.Setenv(fmt.Sprintf("LC_X%d", i), "x") == nil {
			accepted++
		}
	}
	if accepted != 16 {
		t.Fatalf("%d env variables kept; want 16", accepted)
	}

	// A flood of big values on another session is answered no and not kept.
	flood, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	value := strings.Repeat("v", 30<<10)
	for i := range 1000 {
		if flood.Setenv(fmt.Sprintf("LC_%d", i), value) == nil {
			t.Fatal("a 30 KB env value was accepted")
		}
	}
	if grew := int64(heapInUse()) - int64(before); grew > 16<<20 {
		t.Fatalf("heap grew %d MB after 30 MB of refused env requests", grew>>20)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestHugePasteIsCutPolitely(t *testing.T) {
	ts := startServer(t, serverOpts{})
	a := readAtEnd(t, ts, newKey(t))
	typeKeys(t, a, "c")
	waitFor(t, a, "Leave a comment")
	// 4 MB of one word, and no end marker: cut at 64 KiB, said at once.
	pasted := make(chan error, 1)
	go func() { pasted <- a.Type("\x1b[200~" + strings.Repeat("a", 4<<20)) }()

	// Everyone else is served meanwhile.
	b := ts.open(t, nil, 100, 40)
	waitFor(t, b, "enter read")
	typeKeys(t, b, "?")
	waitFor(t, b, "quit")

	waitFor(t, a, "Nothing was pasted")
	if err := <-pasted; err != nil {
		t.Fatal(err)
	}
	// The end marker ends the drop; typing works again and the text is
	// the visitor's, none of the paste.
	typeKeys(t, a, "\x1b[201~hello there")
	waitFor(t, a, "hello there")
	if strings.Contains(a.Screen(), "aaaa") {
		t.Fatalf("part of the refused paste reached the composer:\n%s", a.Screen())
	}
}

func TestStuckProgramDoesNotGrowGoroutinesPerEvent(t *testing.T) {
	// The write deadline is set far off: on a loaded machine the events
	// can take longer than the default 30 s, and the session must stay
	// stuck for the whole test.
	ts := startServer(t, serverOpts{limits: server.ConnLimits{WriteTimeout: time.Hour}})
	r := openRaw(t, ts.addr, terminal.MaxWidth, terminal.MaxHeight, false)
	stuck := fillWindow(t, r)
	if stuck == "" {
		t.Fatal("the server closed a session stuck writing for less than its write deadline")
	}
	watcher := readAtEnd(t, ts, newKey(t))
	waitFor(t, watcher, "No comments yet")

	before := runtime.NumGoroutine()
	const events = 300
	for i := range events {
		if _, err := ts.store.AddComment(context.Background(), data.NewComment{PostSlug: goPost, Name: "Flood", Body: fmt.Sprintf("event %d", i),
			Author: data.Author{KeyFingerprint: "SHA256:flood", IP: "127.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Every event has gone through the hub once the watcher has the last.
	if err := watcher.WaitFor(fmt.Sprintf("event %d", events-1), 20*time.Second); err != nil {
		raw := watcher.Raw()
		t.Fatalf("%v\nraw tail %q", err, raw[max(0, len(raw)-2000):])
	}
	if grew := runtime.NumGoroutine() - before; grew > 50 {
		t.Fatalf("%d goroutines more after %d events with one stuck session", grew, events)
	}
	if !stuckWriters()[stuck] {
		t.Fatal("the stuck session came unstuck; the test proves nothing")
	}
}

// metric reads one sample from /metrics.
func metric(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	resp, err := http.Get(ts.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// A session whose channel closes ends on the server at once, though its
// connection stays open: its program does not live on until the
// connection ends.
func TestClosedSessionEndsWithItsChannel(t *testing.T) {
	ts := startServer(t, serverOpts{})
	r := openRaw(t, ts.addr, 100, 40, true)
	r.waitOutput(t, "the home screen", func(out string) bool { return strings.Contains(out, "Test Blog") })
	if got := metric(t, ts, `blog_sessions_open{kind="tui"}`); got != 1 {
		t.Fatalf("blog_sessions_open{kind=\"tui\"} = %v with one session", got)
	}
	r.sess.Close()
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, ts, `blog_sessions_open{kind="tui"}`) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the session's program still runs after its channel closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The connection is still good for another session.
	if _, err := r.client.NewSession(); err != nil {
		t.Fatal(err)
	}
}

func TestRequestsAreBounded(t *testing.T) {
	ts := startServer(t, serverOpts{})
	client, sess := dialSession(t, ts.addr, nil)
	if err := sess.RequestPty(strings.Repeat("x", 65), 40, 100, ssh.TerminalModes{}); err == nil {
		t.Error("a 65-byte TERM was accepted")
	}
	if err := sess.RequestPty("xterm", 40, 100, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 40, 100, ssh.TerminalModes{}); err == nil {
		t.Error("a second pty-req was accepted")
	}
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "subsystem", "break", "keepalive@openssh.com"} {
		if ok, _ := sess.SendRequest(req, true, nil); ok {
			t.Errorf("%s was accepted", req)
		}
	}

	long, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := long.Start("read " + strings.Repeat("x", 5000)); err == nil {
		t.Error("a 5 KB exec command line was accepted")
	}
	// A normal command on the same connection still runs.
	ok, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ok.Output("ls"); err != nil || !strings.Contains(string(out), goPost) {
		t.Fatalf("ls: %v, %q", err, out)
	}
}
