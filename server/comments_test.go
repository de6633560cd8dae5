package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres"
	"blog/data/postgres/pgtest"
	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

func openPostgres(t testing.TB, url string, limits data.Limits) data.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, data.Options{Limits: limits, Logger: quietLog(), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// readAtEnd opens the Go post and goes to its comment section.
func readAtEnd(t testing.TB, ts *testServer, key ssh.Signer) *termclient.Session {
	t.Helper()
	s := ts.open(t, key, 100, 40)
	waitFor(t, s, "enter read")
	ts.openPost(t, s, goPost)
	typeKeys(t, s, "G")
	waitFor(t, s, "Comments (")
	return s
}

// commentTUI writes and posts a comment through the composer.
func commentTUI(t testing.TB, s *termclient.Session, text string) {
	t.Helper()
	typeKeys(t, s, "c")
	waitFor(t, s, "Leave a comment")
	if err := s.Paste(text); err != nil {
		t.Fatal(err)
	}
	typeKeys(t, s, "\x13") // ctrl+s
}

func TestCommentAppearsLiveInAnotherSession(t *testing.T) {
	ts := startServer(t, serverOpts{})
	a := readAtEnd(t, ts, newKey(t))
	b := readAtEnd(t, ts, newKey(t))
	waitFor(t, b, "No comments yet")

	commentTUI(t, a, "Live from session A")
	waitFor(t, a, "Comment posted")
	waitFor(t, a, "(you)")
	// B pressed nothing: the comment arrives on its own.
	waitFor(t, b, "Live from session A")
	waitFor(t, b, "Comments (1)")
	if strings.Contains(b.Screen(), "(you)") {
		t.Fatal("B's screen marks A's comment as B's own")
	}

	// A reader higher up the page gets a mark instead of a jump.
	typeKeys(t, b, "g")
	waitFor(t, b, " 0%")
	commentTUI(t, a, "Second comment")
	waitFor(t, b, "1 new comment")
	typeKeys(t, b, "G")
	waitFor(t, b, "Second comment")

	// The list shows the count.
	typeKeys(t, b, "\x1b")
	waitFor(t, b, "2 comments")
}

func TestCommentsLiveAcrossReplicasOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	one := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	two := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	a := readAtEnd(t, one, newKey(t))
	b := readAtEnd(t, two, newKey(t))

	commentTUI(t, a, "Hello from replica one")
	waitFor(t, a, "Comment posted")
	waitFor(t, b, "Hello from replica one")

	// The database goes away: the draft stays, the post is retried, and
	// when it returns the other replica catches up.
	restore := pgtest.Outage(t, url)
	commentTUI(t, a, "Written during the outage")
	waitFor(t, a, "Your text is kept")
	if !strings.Contains(a.Screen(), "Written during the outage") {
		t.Fatalf("draft not on screen during the outage:\n%s", a.Screen())
	}
	// Reading posts keeps working meanwhile.
	out, _, code, err := termclient.Exec(two.addr, newKey(t), "read "+goPost, nil)
	if err != nil || code != 0 || !strings.Contains(out, "Go for Backend") {
		t.Fatalf("read during outage: %d %v", code, err)
	}
	restore()
	if err := a.WaitFor("Comment posted", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor("Written during the outage", 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestHostileTextNeverReachesAnotherTerminal(t *testing.T) {
	ts := startServer(t, serverOpts{})
	b := readAtEnd(t, ts, newKey(t))
	hostile := "evil\x1b]52;c;cm0gLXJmIH4=\x07 \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b[2J\x1b[H \u202egnirts\u202c zero\u200bwidth \u0085 \u009b31m"
	out, errOut, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost+" --name "+`"n\x1b[31mame"`, strings.NewReader(hostile))
	if err != nil || code != 0 {
		t.Fatalf("comment: %d %v %s %s", code, err, out, errOut)
	}
	waitFor(t, b, "click")
	raw := string(b.Raw())
	for _, bad := range []string{"\x1b]52", "\x1b]8;;https", "\x1b[2J\x1b[H \u202e", "\u202e", "\u200b", "\u009b", "\x1b[31mame"} {
		if strings.Contains(raw, bad) {
			t.Errorf("B's terminal received %q", bad)
		}
	}
	// And the plain listing is clean too.
	out, _, _, _ = termclient.Exec(ts.addr, nil, "comments "+goPost, nil)
	if strings.ContainsAny(out, "\x1b\u202e\u009b") {
		t.Errorf("comments output carries escapes: %q", out)
	}
}

func TestHugePasteIsRefusedPolitely(t *testing.T) {
	ts := startServer(t, serverOpts{})
	a := readAtEnd(t, ts, newKey(t))
	typeKeys(t, a, "c")
	waitFor(t, a, "Leave a comment")
	typeKeys(t, a, "kept draft ")
	if err := a.Paste(strings.Repeat("x", 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitFor("Nothing was pasted", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "kept draft")
	// Still responsive: esc closes and keeps the draft, c brings it back.
	typeKeys(t, a, "\x1b")
	waitFor(t, a, "Draft kept")
	typeKeys(t, a, "c")
	waitFor(t, a, "kept draft")
}

func TestKeylessVisitorReadsButCannotComment(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := readAtEnd(t, ts, nil)
	waitFor(t, s, "To comment, connect with an SSH key")
	typeKeys(t, s, "c")
	waitFor(t, s, "ssh-keygen -t ed25519")
	if strings.Contains(s.Screen(), "Leave a comment on") {
		t.Fatal("keyless visitor got the composer")
	}
	_, errOut, code, err := termclient.Exec(ts.addr, nil, "comment "+goPost, strings.NewReader("hi"))
	if err != nil || code != 1 || !strings.Contains(errOut, "needs an SSH key") {
		t.Fatalf("keyless exec comment: %d %v %q", code, err, errOut)
	}
}

func TestRateLimitSaysWhenToTryAgain(t *testing.T) {
	limits := generousLimits()
	limits.CommentPerKey = data.RateLimit{Count: 1, Window: time.Hour}
	ts := startServer(t, serverOpts{store: openSQLite(t, limits)})
	a := readAtEnd(t, ts, newKey(t))
	commentTUI(t, a, "first")
	waitFor(t, a, "Comment posted")
	commentTUI(t, a, "second, too soon")
	waitFor(t, a, "Try again in")
	waitFor(t, a, "second, too soon") // the draft stays
}

func TestSubscribeGivesOneAnswer(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	first, _, code1, _ := termclient.Exec(ts.addr, key, "subscribe reader@Example.COM", nil)
	second, _, code2, _ := termclient.Exec(ts.addr, newKey(t), "subscribe reader@example.com", nil)
	if code1 != 0 || code2 != 0 || first != second {
		t.Fatalf("answers differ: %q (%d) vs %q (%d)", first, code1, second, code2)
	}
	// Another case of the same address is the same subscriber.
	if _, _, code, _ := termclient.Exec(ts.addr, key, "subscribe READER@example.com", nil); code != 0 {
		t.Fatalf("subscribe: %d", code)
	}
	_, errOut, code, _ := termclient.Exec(ts.addr, key, "subscribe not-an-email", nil)
	if code != 1 || !strings.Contains(errOut, "doesn't look like an email") {
		t.Fatalf("bad email: %d %q", code, errOut)
	}
	subs, err := ts.store.Subscribers(context.Background())
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscribers: %v %v", subs, err)
	}

	// In the interface too.
	s := ts.open(t, newKey(t), 100, 40)
	waitFor(t, s, "enter read")
	typeKeys(t, s, "s")
	waitFor(t, s, "Subscribe to the newsletter")
	typeKeys(t, s, "reader@example.com\r")
	waitFor(t, s, "Check your inbox to confirm")
}

func TestDeleteOwnComment(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	a := readAtEnd(t, ts, key)
	b := readAtEnd(t, ts, newKey(t))
	commentTUI(t, a, "Delete me soon")
	waitFor(t, b, "Delete me soon")
	typeKeys(t, b, "nd")
	waitFor(t, b, "only your own")
	typeKeys(t, a, "n")
	typeKeys(t, a, "d")
	waitFor(t, a, "Press d again")
	typeKeys(t, a, "d")
	waitFor(t, a, "Comment deleted")
	waitGone(t, b, "Delete me soon")
}

func TestAdminHidesForEveryone(t *testing.T) {
	admin := newKey(t)
	ts := startServer(t, serverOpts{admins: []ssh.PublicKey{admin.PublicKey()}})
	reader := readAtEnd(t, ts, newKey(t))
	mod := readAtEnd(t, ts, admin)
	commentTUI(t, reader, "Spam spam spam")
	waitFor(t, mod, "Spam spam spam")
	typeKeys(t, mod, "n")
	waitFor(t, mod, "H hide")
	typeKeys(t, mod, "H")
	waitFor(t, mod, "Comment hidden")
	waitFor(t, mod, "[hidden]")
	waitGone(t, reader, "Spam spam spam")
}

// TestNewReadersSeeTheCurrentThread: the first page of comments is shared
// among readers; what arrives or goes live must show for readers who open
// the post afterwards too.
func TestNewReadersSeeTheCurrentThread(t *testing.T) {
	ts := startServer(t, serverOpts{})
	first := readAtEnd(t, ts, newKey(t))
	waitFor(t, first, "No comments yet")
	if _, _, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, strings.NewReader("Shared page comment")); err != nil || code != 0 {
		t.Fatalf("comment: %d %v", code, err)
	}
	waitFor(t, first, "Shared page comment")
	second := readAtEnd(t, ts, newKey(t))
	waitFor(t, second, "Shared page comment")

	cs, err := ts.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments: %v %v", cs, err)
	}
	if err := ts.store.SetHidden(context.Background(), cs[0].ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	waitGone(t, second, "Shared page comment")
	third := readAtEnd(t, ts, newKey(t))
	waitFor(t, third, "No comments yet")
}

// Once a reader has opened a post, its first page of comments is in
// memory, and the next reader's very first frame shows the comments: no
// "Loading comments" flash and no query.
func TestNextReaderGetsCommentsInItsFirstFrame(t *testing.T) {
	ts := startServer(t, serverOpts{})
	if _, err := ts.store.AddComment(context.Background(), data.NewComment{PostSlug: goPost, Name: "Early", Body: "First frame marker",
		Author: data.Author{KeyFingerprint: "SHA256:early", IP: "192.0.2.7"}}); err != nil {
		t.Fatal(err)
	}
	tall := func(o *termclient.Options) { o.Command = "read " + goPost }
	first := ts.open(t, newKey(t), 100, 400, tall)
	waitFor(t, first, "First frame marker")
	if !strings.Contains(string(first.Raw()), "Loading comments") {
		t.Fatal("the first reader did not wait for the query; the check below would prove nothing")
	}
	next := ts.open(t, newKey(t), 100, 400, tall)
	waitFor(t, next, "First frame marker")
	if strings.Contains(string(next.Raw()), "Loading comments") {
		t.Error("the next reader waited for comments the server already had")
	}
}
