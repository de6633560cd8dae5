package commands_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"blog/commands"
	"blog/data"
)

func TestCommentIsPostedAndListed(t *testing.T) {
	b := newBlog(t, generousLimits())
	r := b.run(t, ada, strings.NewReader("First!\nTwo lines."), "comment", goPost, "--name", "ada")
	if r.code != 0 || !strings.HasPrefix(r.out, "Posted comment ") || !strings.HasSuffix(r.out, ` on "Go for Backend Services: A Practical Overview" as ada.`+"\n") {
		t.Fatalf("comment: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	// Flags before the slug, and Go's one-dash spelling, still parse.
	mod := data.Author{KeyFingerprint: modKey, IP: "192.0.2.2"}
	if r = b.run(t, mod, strings.NewReader("From the desk."), "comment", "-name=Grace", goPost); r.code != 0 {
		t.Fatalf("comment -name=Grace: exit %d, %q", r.code, r.err)
	}
	cs := b.comments(t)
	if len(cs) != 2 || cs[0].AuthorName != "ada" || cs[0].AuthorKey != adaKey || cs[0].Body != "First!\nTwo lines." || cs[1].AuthorName != "Grace" {
		t.Fatalf("stored %+v", cs)
	}

	r = b.run(t, keyless, nil, "comments", goPost)
	want := "ada #" + data.KeyTag(adaKey) + " · "
	if r.code != 0 || !strings.HasPrefix(r.out, want) || !strings.Contains(r.out, "First!\nTwo lines.\n\n") ||
		!strings.Contains(r.out, "Grace [mod] #"+data.KeyTag(modKey)) || !strings.HasSuffix(r.out, "No more comments. Check back later for more!\n") {
		t.Fatalf("comments: exit %d, want it to start %q:\n%s", r.code, want, r.out)
	}

	r = b.run(t, keyless, nil, "comments", "--json", goPost)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	var first, second map[string]any
	if r.code != 0 || len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("comments --json: exit %d\n%s", r.code, r.out)
	}
	if first["author"] != "ada" || first["key_tag"] != data.KeyTag(adaKey) || first["moderator"] != nil || first["body"] != "First!\nTwo lines." || second["moderator"] != true {
		t.Fatalf("comments --json: %v, %v", first, second)
	}
	if strings.Contains(r.out, adaKey) {
		t.Fatalf("comments --json shows a whole key fingerprint: %s", r.out)
	}
}

func TestCommentsOnAQuietPost(t *testing.T) {
	b := newBlog(t, generousLimits())
	if r := b.run(t, keyless, nil, "comments", goPost); r.code != 0 || r.out != "No comments yet.\n" {
		t.Fatalf("comments: exit %d, %q", r.code, r.out)
	}
	if r := b.run(t, keyless, nil, "comments", goPost, "--json"); r.code != 0 || r.out != "" {
		t.Fatalf("comments --json: exit %d, %q", r.code, r.out)
	}
}

// More comments than one page of storage are all printed, in order.
func TestCommentsPastOnePage(t *testing.T) {
	defer commands.SetCommentsPage(2)()
	b := newBlog(t, generousLimits())
	const n = 5
	for i := range n {
		a := data.Author{KeyFingerprint: adaKey, IP: "192.0.2.1"}
		if _, err := b.store.AddComment(context.Background(), data.NewComment{PostSlug: goPost, Name: "ada", Body: "comment " + string(rune('a'+i%26)), Author: a}); err != nil {
			t.Fatal(err)
		}
	}
	r := b.run(t, keyless, nil, "comments", "--json", goPost)
	if got := strings.Count(r.out, "\n"); r.code != 0 || got != n {
		t.Fatalf("comments --json printed %d of %d comments", got, n)
	}
}

func TestCommentUsesTheRememberedName(t *testing.T) {
	b := newBlog(t, generousLimits())
	if err := b.store.SetName(context.Background(), adaKey, "Ada"); err != nil {
		t.Fatal(err)
	}
	r := b.run(t, ada, strings.NewReader("Named by memory"), "comment", goPost)
	if r.code != 0 || !strings.Contains(r.out, "as Ada.") {
		t.Fatalf("comment: exit %d, %q, %q", r.code, r.out, r.err)
	}
	if cs := b.comments(t); len(cs) != 1 || cs[0].AuthorName != "Ada" {
		t.Fatalf("stored %+v", cs)
	}
}

// A keyless visitor is told how to make a key, before anything is read.
func TestCommentNeedsAKey(t *testing.T) {
	b := newBlog(t, generousLimits())
	stdin := &countingReader{}
	r := b.run(t, keyless, stdin, "comment", goPost)
	if r.code != 1 || !strings.Contains(r.err, "commenting needs an SSH key. Make one with: ssh-keygen -t ed25519") {
		t.Fatalf("keyless comment: exit %d, %q", r.code, r.err)
	}
	if stdin.n.Load() != 0 {
		t.Fatalf("read %d bytes of a comment that cannot be posted", stdin.n.Load())
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("stored %+v", cs)
	}
}

// countingReader is an endless stdin that counts what is read from it.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// An endless stdin is read only to the bound and refused with the limit in
// characters; nothing is stored.
func TestHugeStdinIsRefusedAtTheBound(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, limit := range []int{0, 100} {
		b.env.MaxStdin = limit
		stdin := &countingReader{}
		r := b.run(t, ada, stdin, "comment", goPost)
		if r.code != 1 || !strings.Contains(r.err, "that comment is too long. Comments are at most 2000 characters.") {
			t.Fatalf("endless comment: exit %d, %q", r.code, r.err)
		}
		want := int64(commands.MaxStdinComment)
		if limit > 0 {
			want = int64(limit)
		}
		if got := stdin.n.Load(); got != want+1 {
			t.Errorf("read %d bytes with the bound at %d, want %d", got, want, want+1)
		}
	}
	// Just over the character limit but inside the byte bound: the store
	// says why.
	b.env.MaxStdin = 0
	r := b.run(t, ada, strings.NewReader(strings.Repeat("x", data.MaxCommentRunes+1)), "comment", goPost)
	if r.code != 1 || !strings.Contains(r.err, "blog: couldn't post: comment ") {
		t.Fatalf("2001 characters: exit %d, %q", r.code, r.err)
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("%d comments stored", len(cs))
	}
}

// Hostile names and bodies are refused or cleaned by the store, and the
// answer never carries an escape back.
func TestHostileCommentsAreAnsweredPlainly(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, c := range []struct{ name, body string }{
		{"\x1b[2J\x1b[Hroot", "hello"},
		{"ada", "\x1b]52;c;cGF3bmVk\x07 copy this"},
		{"ada", "\xff\xfe not UTF-8"},
		{"ada", ""},
		{"ada", "\x00\x01\x02"},
		{strings.Repeat("n", 200), "long name"},
	} {
		r := b.run(t, ada, strings.NewReader(c.body), "comment", goPost, "--name", c.name)
		if r.code != 0 && (r.code != 1 || !strings.HasPrefix(r.err, "blog: couldn't post: ")) {
			t.Errorf("name %q body %q: exit %d, %q", c.name, c.body, r.code, r.err)
		}
		noEscapes(t, "stdout", r.out)
		noEscapes(t, "stderr", r.err)
	}
	r := b.run(t, keyless, nil, "comments", goPost)
	noEscapes(t, "comments", strings.ReplaceAll(r.out, "·", ""))
}

// Storage refusals reach the visitor in words: here the rate limit.
func TestRateLimitSaysWhenToTryAgain(t *testing.T) {
	limits := generousLimits()
	limits.CommentPerKey.Count = 1
	b := newBlog(t, limits)
	if r := b.run(t, ada, strings.NewReader("one"), "comment", goPost); r.code != 0 {
		t.Fatalf("first comment: exit %d, %q", r.code, r.err)
	}
	r := b.run(t, ada, strings.NewReader("two"), "comment", goPost)
	if r.code != 1 || !strings.Contains(r.err, "blog: couldn't post: too many requests; try again in ") {
		t.Fatalf("second comment: exit %d, %q", r.code, r.err)
	}
}

func TestClosedStoreIsAnsweredPlainly(t *testing.T) {
	b := newBlog(t, generousLimits())
	b.store.Close()
	r := b.run(t, keyless, nil, "comments", goPost)
	if r.code != 1 || !strings.HasPrefix(r.err, "blog: couldn't load comments: ") || strings.Contains(r.err, "sql") {
		t.Fatalf("comments on a closed store: exit %d, %q", r.code, r.err)
	}
	r = b.run(t, ada, strings.NewReader("text"), "comment", goPost, "--name", "ada")
	if r.code != 1 || !strings.HasPrefix(r.err, "blog: couldn't post: ") || strings.Contains(r.err, "sql") {
		t.Fatalf("comment on a closed store: exit %d, %q", r.code, r.err)
	}
}

// A comment still waiting for stdin when the server begins to stop is told
// so at once, and nothing is stored.
func TestStoppingAnswersACommentStillReading(t *testing.T) {
	b := newBlog(t, generousLimits())
	stdin, feed := io.Pipe()
	defer feed.Close()
	done := make(chan result, 1)
	go func() { done <- b.run(t, ada, stdin, "comment", goPost) }()
	if _, err := feed.Write([]byte("half a comm")); err != nil { // the command is reading
		t.Fatal(err)
	}
	close(b.stop)
	r := <-done
	if r.code != 1 || !strings.Contains(r.err, "the server is restarting, so your comment was not posted") {
		t.Fatalf("exit %d, %q", r.code, r.err)
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("half a comment was stored: %+v", cs)
	}
}

// A visitor who disconnects while sending ends the command.
func TestCanceledCommentStopsReading(t *testing.T) {
	b := newBlog(t, generousLimits())
	stdin, feed := io.Pipe()
	defer feed.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut strings.Builder
	go func() {
		done <- b.env.Run(ctx, commands.Request{Args: []string{"comment", goPost}, Author: ada, Stdin: stdin, Stdout: io.Discard, Stderr: &errOut})
	}()
	if _, err := feed.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-done; code != 1 || !strings.Contains(errOut.String(), "couldn't read the comment from stdin") {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
}

// A Request without streams reads an empty stdin instead of panicking.
func TestMissingStreamsReadAsEmpty(t *testing.T) {
	b := newBlog(t, generousLimits())
	if code := b.env.Run(context.Background(), commands.Request{Args: []string{"comment", goPost}, Author: ada}); code != 1 {
		t.Fatalf("an empty comment: exit %d, want 1", code)
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("stored %+v", cs)
	}
}
