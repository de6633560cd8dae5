package server_test

// Abuse tests of what the interface keeps and shows: the composer's
// limits, hostile names, the moderator badge and key tag, the slug echoed
// by `ssh -t host read SLUG`, and the shared caches' byte budgets. Each
// talks to a real server over SSH.

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"blog/data"
	"blog/internal/termclient"
	"blog/server"
	"blog/ui"

	"golang.org/x/crypto/ssh"
)

func heapAfterGC() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// metricValue reads one series from /metrics, -1 when it is not there.
func metricValue(t *testing.T, ts *testServer, series string) float64 {
	t.Helper()
	_, body := get(t, ts.http+"/metrics")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	return -1
}

// waitSessionsClosed waits until the server has no interface session open.
func waitSessionsClosed(t *testing.T, ts *testServer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for metricValue(t, ts, `blog_sessions_open{kind="tui"}`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("sessions still open on the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Typing (not pasting) 100 KB into the composer once grew the server by
// hundreds of megabytes: the text area kept a wrapped copy of the line per
// keystroke. Now the draft stops at the limit with a note, memory stays
// flat, and what was typed up to the limit is kept and can be posted.
func TestAbuseComposerTypingFlood(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := readAtEnd(t, ts, newKey(t))
	typeKeys(t, s, "c")
	waitFor(t, s, "Leave a comment")
	before := heapAfterGC()

	// Long words: a space is a message of its own, and the test need not
	// time the painting of thousands of frames (under -race on a loaded
	// machine each costs milliseconds).
	chunk := strings.Repeat(strings.Repeat("typing", 40)+" ", 1024/241)
	for range 100 {
		typeKeys(t, s, chunk)
	}
	waitFor(t, s, "nothing more can be typed")
	waitFor(t, s, fmt.Sprintf("%d / %d", data.MaxCommentRunes, data.MaxCommentRunes))
	// Input is handled in order: once ctrl+s is answered, the flood is
	// too. (An esc could be held as the start of an escape sequence.)
	typeKeys(t, s, "\x13")
	if err := s.WaitFor("Comment posted", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	grown := heapAfterGC() - before
	t.Logf("heap grew %d KB after typing 100 KB", grown>>10)
	if grown > 64<<20 {
		t.Fatalf("heap grew %d MB after typing 100 KB into the composer", grown>>20)
	}
	cs, err := ts.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments %v %v", len(cs), err)
	}
	if n := utf8.RuneCountInString(cs[0].Body); n < data.MaxCommentRunes-10 || !strings.HasPrefix(cs[0].Body, "typingtyping") {
		t.Fatalf("posted comment has %d runes", n)
	}
}

// Names that read as a staff title, or show nothing, are refused with a
// message, from a script and from the interface, and the draft stays.
func TestAbuseHostileNamesRefused(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	for _, tt := range []struct{ name, want string }{
		{"admin", "name is reserved"},
		{"Ａｄｍｉｎ", "name is reserved"},
		{"a d m i n", "name is reserved"},
		{"R00T", "name is reserved"},
		{"ada [mod]", "name is reserved"},
		{"\u3164", "name has no visible characters"},
		{"\u3164\u115f\u00ad\U000E0041", "name has no visible characters"},
		{"\x1b[2J\u200b", "name has no visible characters"},
	} {
		_, errOut, code, err := termclient.Exec(ts.addr, key, "comment "+goPost+" --name '"+tt.name+"'", strings.NewReader("hello"))
		if err != nil || code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("--name %q: exit %d, %v, stderr %q; want %q", tt.name, code, err, errOut, tt.want)
		}
	}
	if cs, _ := ts.store.Comments(context.Background(), goPost, data.ListOptions{}); len(cs) != 0 {
		t.Fatalf("%d comments stored under hostile names", len(cs))
	}

	s := readAtEnd(t, ts, key)
	typeKeys(t, s, "c")
	waitFor(t, s, "Leave a comment")
	typeKeys(t, s, "\tAdm1n\tmy words")
	typeKeys(t, s, "\x13")
	waitFor(t, s, "Couldn't post: the name is reserved")
	if !strings.Contains(s.Screen(), "my words") {
		t.Fatalf("draft gone after a refused name:\n%s", s.Screen())
	}
}

// A moderator's comments carry a badge and every keyed comment its key
// tag, so another reader tells two "ada"s apart, in the interface and in
// the comments command.
func TestAbuseImpersonationToldApart(t *testing.T) {
	mod, other := newKey(t), newKey(t)
	ts := startServer(t, serverOpts{admins: []ssh.PublicKey{mod.PublicKey()}})
	for _, k := range []ssh.Signer{mod, other} {
		if _, errOut, code, err := termclient.Exec(ts.addr, k, "comment "+goPost+" --name ada", strings.NewReader("it is me")); err != nil || code != 0 {
			t.Fatalf("comment: %d %v %s", code, err, errOut)
		}
	}
	modLabel := "ada [mod] #" + data.KeyTag(sshFingerprint(mod))
	otherLabel := "ada #" + data.KeyTag(sshFingerprint(other))
	if modLabel[len("ada [mod] #"):] == otherLabel[len("ada #"):] {
		t.Fatal("two keys share a tag") // 1 in 2^36
	}
	reader := readAtEnd(t, ts, newKey(t))
	waitFor(t, reader, modLabel)
	waitFor(t, reader, otherLabel)
	if strings.Count(reader.Screen(), "[mod]") != 1 {
		t.Fatalf("badges:\n%s", reader.Screen())
	}
	// At 40 columns too.
	narrow := ts.open(t, newKey(t), 40, 30)
	waitFor(t, narrow, "enter read")
	ts.openPost(t, narrow, goPost)
	typeKeys(t, narrow, "G")
	waitFor(t, narrow, modLabel)
	waitFor(t, narrow, otherLabel)

	out, _, code, err := termclient.Exec(ts.addr, nil, "comments "+goPost, nil)
	if err != nil || code != 0 || !strings.Contains(out, modLabel+" · ") || !strings.Contains(out, otherLabel+" · ") {
		t.Fatalf("comments command: %d %v\n%s", code, err, out)
	}
}

// `ssh -t host read SLUG` once echoed the slug into the status line as it
// came, escape sequences and all.
func TestAbuseReadSlugEchoFiltered(t *testing.T) {
	ts := startServer(t, serverOpts{})
	slug := "x\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[31mzz\u202e\u3164" + strings.Repeat("y", 3000) // under the 4 KiB command-line cap
	s := ts.open(t, newKey(t), 100, 30, func(o *termclient.Options) { o.Command = "read '" + slug + "'" })
	waitFor(t, s, `No post called "xzz`)
	raw := string(s.Raw())
	for _, bad := range []string{"pwned", "cm0g", "\x1b]0;", "\x1b]52", "\x1b[31mzz", "\u202e", "\u3164", strings.Repeat("y", 100)} {
		if strings.Contains(raw, bad) {
			t.Errorf("the terminal received %q from the slug", bad)
		}
	}
}

// The shared caches once kept 600 MB after a few hundred sessions at
// different widths and looks had read long comments and left. Now each is
// bounded in bytes: with small budgets, the heap after everyone has gone
// stays within them plus a margin, and /metrics says what each holds.
func TestAbuseCacheFillStaysWithinBudgets(t *testing.T) {
	// The comment drawings have room for one session's thread, so that
	// its pages are drawn once.
	budgets := server.CacheBudgets{
		Render:   2 << 20,
		Drawings: ui.CacheBudgets{Blocks: 2 << 20, Drawings: 2 << 20, Frames: 512 << 10, Views: 1 << 20, Screens: 1 << 20},
		Comments: 2 << 20,
	}
	// On the shortest post: rendering it at each width is not the point.
	const shortPost = "welcome"
	ts := startServer(t, serverOpts{caches: budgets, limits: server.ConnLimits{MaxConnsPerIP: 1000, ConnsPerMinute: 1 << 20}})
	author := data.Author{KeyFingerprint: sshFingerprint(newKey(t)), IP: "127.0.0.1"}
	long := string([]rune(strings.Repeat("漢字かな交じり文の長い感想", data.MaxCommentRunes/12+1))[:data.MaxCommentRunes])
	for i := range 150 {
		if _, err := ts.store.AddComment(context.Background(), data.NewComment{PostSlug: shortPost, Name: "reader " + strconv.Itoa(i), Body: long, Author: author}); err != nil {
			t.Fatal(err)
		}
	}
	before := heapAfterGC()
	looks := []func(*termclient.Options){
		func(o *termclient.Options) {},
		func(o *termclient.Options) { o.Env = []string{"NO_COLOR=1"} },
	}
	// 40 sessions, each at a width and look of its own: unbounded, the
	// caches would keep about 50 MB; the bound below is about 20.
	for w := 40; w < 160; w += 6 {
		for _, look := range looks {
			// Not ts.open: its cleanup would keep every session's
			// screen and byte log alive, in this process's heap.
			o := termclient.Options{Addr: ts.addr, Width: w, Height: 30}
			look(&o)
			s, err := termclient.Open(o)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, "enter read")
			ts.openPost(t, s, shortPost)
			typeKeys(t, s, "G")
			if err := s.WaitFor("No more comments", 30*time.Second); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
	}
	waitSessionsClosed(t, ts)
	grown := heapAfterGC() - before
	d := budgets.Drawings
	var total int64 = budgets.Render + d.Blocks + d.Drawings + d.Frames + d.Views + d.Screens + budgets.Comments
	t.Logf("heap grew %d MB; budgets %d MB", grown>>20, total>>20)
	if grown > total+10<<20 { // unbounded, it grew by 29 MB
		t.Errorf("heap grew %d MB after 40 sessions left; the caches' budgets are %d MB", grown>>20, total>>20)
	}
	for name, budget := range map[string]int64{"render": budgets.Render, "comment_drawings": budgets.Drawings.Blocks, "thread_drawings": budgets.Drawings.Drawings, "thread_frames": budgets.Drawings.Frames, "thread_views": d.Views, "reader_screens": d.Screens, "comment_pages": budgets.Comments} {
		b := metricValue(t, ts, `blog_cache_bytes{cache="`+name+`"}`)
		n := metricValue(t, ts, `blog_cache_entries{cache="`+name+`"}`)
		if b <= 0 || b > float64(budget) || n < 1 {
			t.Errorf("cache %s: %v bytes (budget %d), %v entries", name, b, budget, n)
		}
	}
	if _, body := get(t, ts.http+"/metrics"); !regexp.MustCompile(`blog_cache_bytes\{cache="render"\} \d`).MatchString(body) {
		t.Error("no render cache size on /metrics")
	}
}
