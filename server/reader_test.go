package server_test

import (
	"bufio"
	"encoding/json"
	"image/color"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"blog/internal/termclient"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/crypto/ssh"
)

func TestHomeListsPublishedPosts(t *testing.T) {
	ts := startServer(t, serverOpts{notice: "A test instance: the database is cleared every day."})
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "Test Blog")
	waitFor(t, s, "the database is cleared every day")
	for _, p := range ts.lib.Published() {
		waitFor(t, s, p.Title)
	}
	if strings.Contains(s.Screen(), "Ideas for future posts") {
		t.Fatal("a draft is listed")
	}
	waitFor(t, s, "enter read")
	waitFor(t, s, "0 comments")
}

func TestOpenPostRendersTableCodeAndSections(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "Test Blog")
	ts.openPost(t, s, goPost)
	waitFor(t, s, "Go for Backend Services")
	waitFor(t, s, "min read")

	// Page down until the table, the code and the comment section showed.
	want := map[string]bool{"Standard library": false, "http.NewServeMux()": false, "Go Proverbs": false, "Comments (0)": false, "No comments yet": false, "Subscribe": false}
	see := func(scr string) {
		for k := range want {
			if strings.Contains(scr, k) {
				want[k] = true
			}
		}
	}
	// Each page waits for its frame (not for a fixed time); a page that
	// changes nothing is the end.
	for i := 0; i < 40; i++ {
		prev := s.Screen()
		see(prev)
		typeKeys(t, s, " ")
		if s.Wait(2*time.Second, func(scr string) bool { return scr != prev }) != nil {
			break
		}
	}
	see(s.Screen())
	for k, seen := range want {
		if !seen {
			t.Errorf("never saw %q; last screen:\n%s", k, s.Screen())
		}
	}
	// g goes back to the top, esc back to the list.
	typeKeys(t, s, "g")
	waitFor(t, s, "0%")
	typeKeys(t, s, "\x1b")
	waitFor(t, s, "enter read")
}

func TestResizeRewrapsAndKeepsPlace(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 30)
	waitFor(t, s, "Test Blog")
	ts.openPost(t, s, goPost)
	typeKeys(t, s, "jjjjj")
	waitFor(t, s, "Why Go")
	if err := s.Resize(60, 30); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(10*time.Second, func(scr string) bool {
		for _, l := range strings.Split(scr, "\n") {
			if ansi.StringWidth(l) > 60 {
				return false
			}
		}
		return strings.Contains(scr, "← Test Blog")
	}); err != nil {
		t.Fatal(err)
	}
	// The reader is still in the first part of the post, not at the top.
	scr := s.Screen()
	if strings.Contains(scr, " 0%") {
		t.Errorf("resize lost the place:\n%s", scr)
	}
	// Too small: a clear message instead of broken output.
	if err := s.Resize(30, 8); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "40x12")
	if err := s.Resize(80, 24); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "← Test Blog")
}

func TestFilterNarrowsTheList(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "Welcome to the blog")
	typeKeys(t, s, "/terminal")
	waitFor(t, s, "Filter: terminal")
	waitGone(t, s, "Welcome to the blog")
	waitFor(t, s, "Writing for Readers in a Terminal")
	typeKeys(t, s, "\r")
	waitFor(t, s, "← Test Blog")
}

func TestNoColorSessionGetsNoColour(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Env = []string{"NO_COLOR=1"} })
	waitFor(t, s, "Welcome to the blog")
	ts.openPost(t, s, goPost)
	prev := s.Screen()
	typeKeys(t, s, "  ")
	if err := s.Wait(10*time.Second, func(scr string) bool { return scr != prev }); err != nil {
		t.Fatal("the post did not page down")
	}
	for _, seq := range []string{"\x1b[38;", "\x1b[48;", "\x1b[3", "\x1b[9"} {
		if strings.Contains(string(s.Raw()), seq) {
			t.Fatalf("NO_COLOR session got colour sequence %q", seq)
		}
	}
}

func TestExecCommandsWithoutPTY(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	run := func(cmd string) (string, string, int) {
		t.Helper()
		out, errOut, code, err := termclient.Exec(ts.addr, key, cmd, nil)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return out, errOut, code
	}

	out, _, code := run("ls")
	if code != 0 || !strings.Contains(out, goPost) || !strings.Contains(out, "2026-11-12") {
		t.Fatalf("ls: code %d\n%s", code, out)
	}
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != len(ts.lib.Published()) {
		t.Fatalf("ls printed %d lines for %d posts", n, len(ts.lib.Published()))
	}

	out, _, _ = run("ls --json")
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		var p struct{ Slug, Title string }
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil || p.Slug == "" {
			t.Fatalf("ls --json line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != len(ts.lib.Published()) {
		t.Fatalf("ls --json: %d lines", lines)
	}

	out, _, code = run("read " + goPost)
	if code != 0 || !strings.Contains(out, "Standard library") || !strings.Contains(out, "http.NewServeMux()") || strings.Contains(out, "\x1b") {
		t.Fatalf("read: code %d, plain text expected:\n%s", code, out)
	}
	out, _, _ = run("read --raw " + goPost)
	if !strings.Contains(out, "| Feature |") || !strings.Contains(out, "```go") {
		t.Fatalf("read --raw is not the Markdown source:\n%s", out)
	}
	out, _, code = run("help")
	if code != 0 || !strings.Contains(out, "comments SLUG") {
		t.Fatalf("help: %d\n%s", code, out)
	}
	_, errOut, code := run("frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	_, errOut, code = run("read no-such-post")
	if code != 1 || !strings.Contains(errOut, `no post "no-such-post"`) {
		t.Fatalf("unknown slug: %d %q", code, errOut)
	}
}

func TestBareSessionWithoutPTYListsPosts(t *testing.T) {
	ts := startServer(t, serverOpts{})
	_, sess := dialSession(t, ts.addr, newKey(t))
	var out strings.Builder
	sess.Stdout = &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), goPost) || !strings.Contains(out.String(), "read SLUG") {
		t.Fatalf("bare session printed:\n%s", out.String())
	}
}

func TestReadWithPTYOpensThePost(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Command = "read " + goPost })
	waitFor(t, s, "← Test Blog")
	waitFor(t, s, "Go for Backend Services")
}

func TestOnlyBlogRequestsAreAllowed(t *testing.T) {
	ts := startServer(t, serverOpts{})
	client, err := termclient.Dial(ts.addr, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if c, err := client.Dial("tcp", ts.http[len("http://"):]); err == nil {
		c.Close()
		t.Fatal("local port forwarding was allowed")
	}
	if l, err := client.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("remote port forwarding was allowed")
	}
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := sess.SendRequest("auth-agent-req@openssh.com", true, nil); ok {
		t.Fatal("agent forwarding was accepted")
	}
	if ok, _ := sess.SendRequest("x11-req", true, ssh.Marshal(struct {
		Single        bool
		Proto, Cookie string
		Screen        uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0})); ok {
		t.Fatal("X11 forwarding was accepted")
	}
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem was accepted")
	}
}

func TestHostKeyStableAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	hostKey := func() string {
		ts := startServer(t, serverOpts{dataDir: dir})
		defer ts.stop()
		var seen string
		cfg := termclient.ClientConfig("reader", newKey(t), func(_ string, _ net.Addr, k ssh.PublicKey) error {
			seen = ssh.FingerprintSHA256(k)
			return nil
		}, 5*time.Second)
		c, err := ssh.Dial("tcp", ts.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return seen
	}
	first, second := hostKey(), hostKey()
	if first == "" || first != second {
		t.Fatalf("host key changed across restarts: %s then %s", first, second)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(ts.http + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestShutdownTellsOpenSessions(t *testing.T) {
	ts := startServer(t, serverOpts{grace: 5 * time.Second})
	s := ts.open(t, newKey(t), 80, 24)
	waitFor(t, s, "Test Blog")
	ts.stop()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session still open after shutdown")
	}
	if !strings.Contains(string(s.Raw()), "The server is restarting") {
		t.Fatalf("no restart notice; screen:\n%s", s.Screen())
	}
}

// TestColoursFollowTheClientsBackground: the same post on a dark and on a
// light terminal reads the same but is coloured differently.
func TestColoursFollowTheClientsBackground(t *testing.T) {
	ts := startServer(t, serverOpts{})
	open := func(bg color.Color) *termclient.Session {
		s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Background = bg })
		waitFor(t, s, "enter read")
		ts.openPost(t, s, goPost)
		waitFor(t, s, "Why Go")
		return s
	}
	dark, light := open(color.Black), open(color.White)
	if dark.Screen() != light.Screen() {
		t.Fatalf("the text differs:\n%s\n---\n%s", dark.Screen(), light.Screen())
	}
	sgr := func(raw []byte) map[string]bool {
		out := map[string]bool{}
		for _, m := range regexp.MustCompile(`\x1b\[[0-9;]*m`).FindAll(raw, -1) {
			out[string(m)] = true
		}
		return out
	}
	d, l := sgr(dark.Raw()), sgr(light.Raw())
	same := 0
	for k := range d {
		if l[k] {
			same++
		}
	}
	if len(d) == 0 || same == len(d) {
		t.Fatalf("dark and light sessions use the same colours (%d of %d)", same, len(d))
	}
}

// TestSilentTerminalLosesNoKeys: a terminal that never answers the
// background query still gets the interface, and keys typed while the
// server waits for the answer are not lost.
func TestSilentTerminalLosesNoKeys(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Mute = true })
	// The query is the first thing the server sends, and it then waits for
	// an answer before the interface starts: the keys go in while it waits.
	if err := s.WaitOutput(0, screenWait); err != nil {
		t.Fatal(err)
	}
	typeKeys(t, s, "j")
	typeKeys(t, s, "\r")
	second := ts.lib.Published()[1].Title
	waitFor(t, s, "← Test Blog")
	waitFor(t, s, second)
}
