package server_test

import (
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"
	"blog/data/visitbatch"
	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

const goTitle = "Go for Backend Services"

// listLines returns the title line and the meta line of the post titled
// title on the list screen.
func listLines(screen, title string) (string, string) {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.Contains(l, title) && i+1 < len(lines) {
			return l, lines[i+1]
		}
	}
	return "", ""
}

// waitList waits until the Go post's lines on the list satisfy ok.
func waitList(t *testing.T, s *termclient.Session, what string, ok func(title, meta string) bool) {
	t.Helper()
	// The reader shows the post's title and date too, so the list is known
	// by its help bar: an Esc on its way (held a moment for the rest of an
	// escape sequence) must not let the reader's screen pass for the list.
	err := s.Wait(screenWait, func(scr string) bool {
		title, meta := listLines(scr, goTitle)
		return strings.Contains(scr, "enter read") && title != "" && ok(title, meta)
	})
	if err != nil {
		t.Fatalf("waiting for the list to show %s: %v\n%s", what, err, s.Screen())
	}
}

func unread(title, meta string) bool {
	return strings.Contains(title, "●") && strings.Contains(meta, "unread")
}

func read(title, meta string) bool {
	return !strings.Contains(title, "●") && !strings.Contains(meta, "unread") && !strings.Contains(meta, " new")
}

func newComments(n string) func(title, meta string) bool {
	return func(_, meta string) bool { return strings.Contains(meta, n+" new") }
}

// postComment writes a comment with a key of its own, over exec.
func postComment(t *testing.T, addr, body string) {
	t.Helper()
	out, errOut, code, err := termclient.Exec(addr, newKey(t), "comment "+goPost, strings.NewReader(body))
	if err != nil || code != 0 {
		t.Fatalf("comment: %d %v %s %s", code, err, out, errOut)
	}
}

// waitVisit waits until the store holds a visit of key to the Go post that
// satisfies ok.
func waitVisit(t *testing.T, st data.Store, key string, ok func(data.Visit) bool) data.Visit {
	t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		vs, err := st.Visits(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.PostSlug == goPost && ok(v) {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such visit of %s stored: %+v", goPost, vs)
		}
		time.Sleep(20 * time.Millisecond) // polling the store, not waiting for time to pass
	}
}

// TestNewSinceLastVisitOverSSH follows one key through visits: the list
// marks the post unread, then read, then counts new comments live and in
// the next session; opening it offers the new comments and the place the
// visitor stopped, and forget starts over.
func TestNewSinceLastVisitOverSSH(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	postComment(t, ts.addr, "An early comment")

	s := ts.open(t, key, 100, 40)
	waitFor(t, s, "enter read")
	waitList(t, s, "the Go post unread", unread)
	ts.openPost(t, s, goPost)
	typeKeys(t, s, "G")
	waitFor(t, s, "An early comment")
	typeKeys(t, s, "\x1b")
	waitList(t, s, "the Go post read", read)

	postComment(t, ts.addr, "First comment after the visit")
	postComment(t, ts.addr, "Second comment after the visit")
	waitList(t, s, "2 new, live", newComments("2"))
	typeKeys(t, s, "q")
	<-s.Done()

	s = ts.open(t, key, 100, 40)
	waitList(t, s, "2 new in the next session", newComments("2"))
	ts.openPost(t, s, goPost)
	waitFor(t, s, "2 new comments since your last visit")
	typeKeys(t, s, "u")
	waitFor(t, s, "First comment after the visit")

	// Back to the top, a page down, then hang up: the place is kept.
	typeKeys(t, s, "g")
	waitFor(t, s, " 0%")
	typeKeys(t, s, "f")
	waitGone(t, s, " 0%")
	if err := s.Drop(); err != nil {
		t.Fatal(err)
	}
	// The first visit left the post at its end (G); this one stopped
	// near the top, and only the mark made on hanging up says so.
	waitVisit(t, ts.store, sshFingerprint(key), func(v data.Visit) bool {
		return v.Position > 0 && v.Position < data.VisitPositionScale/2
	})

	s = ts.open(t, key, 100, 40)
	waitList(t, s, "the Go post read", read)
	ts.openPost(t, s, goPost)
	waitFor(t, s, "press ' to continue where you stopped")
	typeKeys(t, s, "'")
	waitGone(t, s, " 0%")
	typeKeys(t, s, "q")
	<-s.Done()

	out, errOut, code, err := termclient.Exec(ts.addr, key, "forget", nil)
	if err != nil || code != 0 || !strings.Contains(out, "Forgotten: what this key read of 1 post.") {
		t.Fatalf("forget: %d %v %q %q", code, err, out, errOut)
	}
	s = ts.open(t, key, 100, 40)
	waitList(t, s, "the Go post unread after forget", unread)
}

// TestKeylessVisitorHasNoVisits: no marks, no offers, no error; forget
// answers plainly.
func TestKeylessVisitorHasNoVisits(t *testing.T) {
	ts := startServer(t, serverOpts{})
	postComment(t, ts.addr, "A comment")
	s := ts.open(t, nil, 100, 40)
	waitFor(t, s, "enter read")
	ts.openPost(t, s, goPost)
	typeKeys(t, s, "G")
	waitFor(t, s, "A comment")
	typeKeys(t, s, "u'\x1b")
	waitFor(t, s, "enter read")
	postComment(t, ts.addr, "Another comment")
	waitFor(t, s, "2 comments")
	scr := s.Screen()
	if strings.Contains(scr, "●") || strings.Contains(scr, "unread") || strings.Contains(scr, " new") ||
		strings.Contains(scr, "Couldn't") || strings.Contains(scr, "Nothing new") {
		t.Fatalf("a keyless visitor sees visits or an error:\n%s", scr)
	}
	out, _, code, err := termclient.Exec(ts.addr, nil, "forget", nil)
	if err != nil || code != 0 || !strings.Contains(out, "without an SSH key, nothing of what you read is kept") {
		t.Fatalf("keyless forget: %d %v %q", code, err, out)
	}
}

// TestNewSinceLastVisitAcrossReplicasOnPostgres: a visit marked on one
// replica counts on the other, and comments posted on either count live.
func TestNewSinceLastVisitAcrossReplicasOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	one := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	two := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	key := newKey(t)

	a := one.open(t, key, 100, 40)
	waitList(t, a, "unread on replica one", unread)
	one.openPost(t, a, goPost)
	typeKeys(t, a, "\x1b")
	waitList(t, a, "read on replica one", read)
	waitVisit(t, two.store, sshFingerprint(key), func(data.Visit) bool { return true })

	b := two.open(t, key, 100, 40)
	waitList(t, b, "read on replica two", read)
	postComment(t, one.addr, "Posted on replica one")
	postComment(t, two.addr, "Posted on replica two")
	waitList(t, a, "2 new live on replica one", newComments("2"))
	waitList(t, b, "2 new live on replica two", newComments("2"))
	two.openPost(t, b, goPost)
	waitFor(t, b, "2 new comments since your last visit")
	typeKeys(t, b, "u")
	waitFor(t, b, "Posted on replica one")
	typeKeys(t, b, "\x1b")
	waitList(t, b, "read again on replica two", read)

	// A replica writes its visit marks together, within a flush's pause:
	// the other one reads the mark once it is written.
	waitVisit(t, one.store, sshFingerprint(key), func(v data.Visit) bool { return v.New == 0 })
	c := one.open(t, key, 100, 40)
	waitList(t, c, "read on replica one after reading on two", read)

	out, _, code, err := termclient.Exec(two.addr, key, "forget", nil)
	if err != nil || code != 0 || !strings.Contains(out, "Forgotten") {
		t.Fatalf("forget on replica two: %d %v %q", code, err, out)
	}
	d := one.open(t, key, 100, 40)
	waitList(t, d, "unread on replica one after forget on two", unread)
}

// waitMetric waits until the series on /metrics reads want.
func waitMetric(t *testing.T, ts *testServer, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		got := metricValue(t, ts, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", series, got, want)
		}
		time.Sleep(10 * time.Millisecond) // polling /metrics, not waiting for time to pass
	}
}

// noVisits fails the test if the store holds a visit of key.
func noVisits(t *testing.T, st data.Store, key string) {
	t.Helper()
	if vs, err := st.Visits(t.Context(), key); err != nil || len(vs) != 0 {
		t.Fatalf("visits stored before any flush: %+v, %v", vs, err)
	}
}

// TestVisitMarksOfManySessionsTakeOneTransaction: the marks of sessions
// opening posts wait in the queue, and one transaction writes them all
// when a returning visitor's session reads its visits, which finds their
// visit: a visitor sees their own marks at once.
func TestVisitMarksOfManySessionsTakeOneTransaction(t *testing.T) {
	// The queue's pause is longer than the test: only a read flushes it.
	ts := startServer(t, serverOpts{visits: visitbatch.Config{Every: time.Hour}})
	const sessions = 4
	var keys []string
	first := newKey(t)
	for i := range sessions {
		k := first
		if i > 0 {
			k = newKey(t)
		}
		keys = append(keys, sshFingerprint(k))
		s := ts.open(t, k, 100, 40)
		waitFor(t, s, "enter read")
		ts.openPost(t, s, goPost)
	}
	waitMetric(t, ts, `blog_visit_marks_total{path="queued"}`, sessions)
	for _, k := range keys {
		noVisits(t, ts.store, k)
	}
	if n := metricValue(t, ts, `blog_visit_flushes_total{result="ok"}`); n != 0 {
		t.Fatalf("%v flushes before any read", n)
	}

	// A comment after the marks: the returning visitor's list says "1 new"
	// only once it has read their visit (before, it says nothing; without
	// the visit, "unread").
	postComment(t, ts.addr, "After the four sessions opened the post")
	again := ts.open(t, first, 100, 40)
	waitList(t, again, "1 new in the next session", newComments("1"))
	if n := metricValue(t, ts, `blog_visit_flushes_total{result="ok"}`); n != 1 {
		t.Errorf("%d marks took %v transactions, want 1", sessions, n)
	}
	if n := metricValue(t, ts, "blog_visit_marks_flushed_total"); n != sessions {
		t.Errorf("the flush wrote %v marks, want %d", n, sessions)
	}
	if n := metricValue(t, ts, "blog_visit_marks_pending"); n != 0 {
		t.Errorf("%v marks still pending", n)
	}
	for _, k := range keys {
		waitVisit(t, ts.store, k, func(data.Visit) bool { return true })
	}
}

// TestShutdownWritesQueuedVisitMarks: the marks still queued at shutdown,
// those of a visitor who hung up and of one still reading when the server
// stopped (made as their program ends), are written before Serve returns.
func TestShutdownWritesQueuedVisitMarks(t *testing.T) {
	ts := startServer(t, serverOpts{visits: visitbatch.Config{Every: time.Hour}})
	gone, staying := newKey(t), newKey(t)
	a := readAtEnd(t, ts, gone)
	if err := a.Drop(); err != nil {
		t.Fatal(err)
	}
	// Opened, then left at the end: two marks of one post, folded.
	waitMetric(t, ts, `blog_visit_marks_total{path="queued"}`, 2)
	b := readAtEnd(t, ts, staying)
	waitMetric(t, ts, `blog_visit_marks_total{path="queued"}`, 3)
	noVisits(t, ts.store, sshFingerprint(gone))
	noVisits(t, ts.store, sshFingerprint(staying))

	ts.stop()
	<-b.Done()
	for _, k := range []ssh.Signer{gone, staying} {
		vs, err := ts.store.Visits(t.Context(), sshFingerprint(k))
		if err != nil || len(vs) != 1 || vs[0].Position != data.VisitPositionScale {
			t.Errorf("after shutdown the store holds %+v, %v; want the post left at its end", vs, err)
		}
	}
}
