package server_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/internal/termclient"
	"blog/internal/zone"

	"golang.org/x/crypto/ssh"
)

// openAs opens an interactive session logging in as user.
func (ts *testServer) openAs(t *testing.T, user string, env ...string) *termclient.Session {
	t.Helper()
	return ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) {
		o.User = user
		o.Env = env
	})
}

// TestPermalinkOpensThePost: ssh SLUG@host opens the post, as ssh -t host
// read SLUG does.
func TestPermalinkOpensThePost(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.openAs(t, goPost)
	waitFor(t, s, "← Test Blog")
	waitFor(t, s, "Why Go?")
	typeKeys(t, s, "\x1b")
	waitFor(t, s, "enter read")
}

// TestPermalinkUnknownAndOrdinaryNames: a slug that names no post opens
// the list with a note; an ordinary login name opens it without one; a
// hostile name opens it without echoing anything.
func TestPermalinkUnknownAndOrdinaryNames(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.openAs(t, "no-such-post")
	waitFor(t, s, "enter read")
	waitFor(t, s, `No post called "no-such-post" here`)

	for _, user := range []string{"root", "alice", "Alice.Smith",
		"evil\x1b]52;c;cm0gLXJmIH4=\x07-post", "a-" + strings.Repeat("b", 5000), "../../etc-passwd"} {
		s := ts.openAs(t, user)
		waitFor(t, s, "enter read")
		waitFor(t, s, goTitle)
		scr, raw := s.Screen(), string(s.Raw())
		if strings.Contains(scr, "No post called") || strings.Contains(scr, "← Test Blog") {
			t.Fatalf("user %.20q: want the list without a note:\n%s", user, scr)
		}
		if strings.Contains(raw, "]52;") || strings.Contains(raw, "bbbbbbbbbb") {
			t.Fatalf("user %.20q: the name reached the terminal", user)
		}
	}
}

// TestPermalinkWithoutTerminal: ssh -T SLUG@host prints the post as read
// SLUG does; any other name lists the posts.
func TestPermalinkWithoutTerminal(t *testing.T) {
	ts := startServer(t, serverOpts{})
	run := func(user string) string {
		client, err := ssh.Dial("tcp", ts.addr, termclient.ClientConfig(user, newKey(t), nil, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		var out bytes.Buffer
		sess.Stdout = &out
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		if err := sess.Wait(); err != nil {
			t.Fatalf("ssh -T %s@: %v", user, err)
		}
		return out.String()
	}
	if out := run(goPost); !strings.Contains(out, "Why Go?") {
		t.Fatalf("ssh -T %s@host printed:\n%s", goPost, out)
	}
	if out := run("alice"); strings.Contains(out, "Why Go?") || !strings.Contains(out, goPost) {
		t.Fatalf("ssh -T alice@host printed:\n%s", out)
	}
}

// TestCopyPermalinkWithOSC52: y puts the post's ssh command line on the
// visitor's clipboard with OSC 52, only when pressed.
func TestCopyPermalinkWithOSC52(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "enter read")
	ts.openPost(t, s, goPost)
	typeKeys(t, s, "jfG")
	waitFor(t, s, "Comments (")
	if bytes.Contains(s.Raw(), []byte("\x1b]52;")) {
		t.Fatal("OSC 52 sent before y was pressed")
	}
	typeKeys(t, s, "y")
	line := "ssh " + goPost + "@blog.test"
	waitFor(t, s, "Copied "+line)
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(line)) + "\x07"
	if err := s.Wait(screenWait, func(string) bool { return bytes.Contains(s.Raw(), []byte(want)) }); err != nil {
		t.Fatalf("raw output has no %q", want)
	}
	if n := bytes.Count(s.Raw(), []byte("\x1b]52;")); n != 1 {
		t.Fatalf("%d OSC 52 sequences for one y", n)
	}
}

// TestTimesInTheVisitorsZone: TZ=Europe/Berlin shows times in Berlin, no
// TZ or a hostile one in UTC, in the interface and in exec output.
func TestTimesInTheVisitorsZone(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c, err := ts.store.AddComment(t.Context(), data.NewComment{PostSlug: goPost, Body: "What time is it?",
		Author: data.Author{KeyFingerprint: "SHA256:writer", IP: "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := zone.Load("Europe/Berlin")
	for _, tc := range []struct {
		tz  string
		loc *time.Location
	}{
		{"Europe/Berlin", berlin},
		{"", time.UTC},
		{"../../etc/passwd", time.UTC},
		{"Local", time.UTC},
		{strings.Repeat("Europe/", 30) + "Berlin", time.UTC},
	} {
		var env []string
		if tc.tz != "" {
			env = []string{"TZ=" + tc.tz}
		}
		stamp := zone.Stamp(c.CreatedAt, tc.loc)
		s := ts.openAs(t, "reader", env...)
		waitFor(t, s, "enter read")
		ts.openPost(t, s, goPost)
		// The comments may come a moment after the post: n before them
		// has nothing to select.
		typeKeys(t, s, "G")
		waitFor(t, s, "What time is it?")
		typeKeys(t, s, "n") // select the comment: it shows when it was written
		waitFor(t, s, stamp)

		out := execWithEnv(t, ts.addr, env, "comments "+goPost)
		if want := c.CreatedAt.In(tc.loc).Format("2006-01-02 15:04 MST"); !strings.Contains(out, want) {
			t.Fatalf("TZ %.20q: comments printed %q, want %q", tc.tz, out, want)
		}
	}
}

// execWithEnv runs command without a PTY after sending env.
func execWithEnv(t *testing.T, addr string, env []string, command string) string {
	t.Helper()
	client, sess := dialSession(t, addr, newKey(t))
	defer client.Close()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_ = sess.Setenv(k, v) // a variable over the bound is refused; the command runs without it
	}
	out, err := sess.Output(command)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return string(out)
}
