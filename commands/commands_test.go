package commands_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"blog/commands"
)

var commandList = []string{
	"ls [--json]", "read SLUG [--raw]", "comments SLUG [--json]", "comment SLUG [--name NAME]",
	"subscribe EMAIL", "unsubscribe EMAIL", "confirm CODE", "forget", "help",
}

func TestHelpListsEveryCommand(t *testing.T) {
	b := newBlog(t, generousLimits())
	r := b.run(t, ada, nil, "help")
	if r.code != 0 || r.err != "" {
		t.Fatalf("help: exit %d, stderr %q", r.code, r.err)
	}
	if !strings.HasPrefix(r.out, "Test Blog over SSH. Commands (ssh blog.test COMMAND):") || !strings.Contains(r.out, "full interface: ssh blog.test") {
		t.Fatalf("help:\n%s", r.out)
	}
	last := -1
	for _, c := range commandList {
		i := strings.Index(r.out, "  "+c)
		if i < 0 || i < last {
			t.Fatalf("help lists %q out of place:\n%s", c, r.out)
		}
		last = i
	}
}

func TestHelpForOneCommand(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, args := range [][]string{{"help", "read"}, {"read", "--help"}, {"read", "-h"}, {"read", "-help"}, {"read", "x", "--help"}} {
		r := b.run(t, ada, nil, args...)
		if r.code != 0 || !strings.Contains(r.out, "usage: ssh blog.test read SLUG [--raw]") || !strings.Contains(r.out, "--raw") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.out, r.err)
		}
	}
	r := b.run(t, ada, nil, "help", "comment")
	if r.code != 0 || !strings.Contains(r.out, "comment SLUG [--name NAME] < text") {
		t.Errorf("help comment: %d %q", r.code, r.out)
	}
	r = b.run(t, ada, nil, "help", "\x1b[2Jnope")
	if r.code != 2 || !strings.Contains(r.err, "unknown command") || !strings.Contains(r.err, "confirm CODE") {
		t.Errorf("help for an unknown command: %d %q", r.code, r.err)
	}
	noEscapes(t, "help for a hostile name", r.err)
	if r = b.run(t, ada, nil, "help", "ls", "read"); r.code != 2 {
		t.Errorf("help with two commands: %d %q", r.code, r.err)
	}
}

func TestUnknownCommandExitsTwoWithHelpOnStderr(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, name := range []string{"frobnicate", "\x1b]52;c;cGF3bmVk\x07", "__complete", "completion", "--json", "-h", "LS", "l"} {
		r := b.run(t, ada, nil, name, "ls")
		if r.code != 2 || r.out != "" || !strings.Contains(r.err, "blog: unknown command ") || !strings.Contains(r.err, "comments SLUG [--json]") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", name, r.code, r.out, r.err)
		}
		noEscapes(t, "stderr", r.err)
	}
	r := b.run(t, ada, nil, "frobnicate")
	if !strings.Contains(r.err, `unknown command "frobnicate"`) {
		t.Fatalf("stderr %q", r.err)
	}
}

func TestUnknownFlagsAreUsageErrors(t *testing.T) {
	b := newBlog(t, generousLimits())
	cases := []struct {
		args  []string
		usage string
	}{
		{[]string{"ls", "--bogus"}, "usage: ssh blog.test ls [--json]"},
		{[]string{"ls", "-x"}, "usage: ssh blog.test ls [--json]"},
		{[]string{"read", goPost, "--bogus\x1b[2J\x1b]8;;http://evil\x07"}, "usage: ssh blog.test read SLUG [--raw]"},
		{[]string{"read", "--raw=maybe", goPost}, "usage: ssh blog.test read SLUG [--raw]"},
		{[]string{"comments", goPost, "--raw"}, "usage: ssh blog.test comments SLUG [--json]"},
		{[]string{"comment", goPost, "--name"}, "usage: ssh blog.test comment SLUG [--name NAME] < text"},
		{[]string{"subscribe", "--json", "a@example.com"}, "usage: ssh blog.test subscribe EMAIL"},
		{[]string{"confirm", "--\x07"}, "usage: ssh blog.test confirm CODE"},
	}
	for _, c := range cases {
		r := b.run(t, ada, strings.NewReader("text"), c.args...)
		if r.code != 2 || r.out != "" || !strings.Contains(r.err, c.usage) || !strings.HasPrefix(r.err, "blog: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, r.code, r.out, r.err, c.usage)
		}
		noEscapes(t, "stderr", r.err)
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("a wrong command line posted %d comments", len(cs))
	}
}

func TestWrongArgumentCountsAreUsageErrors(t *testing.T) {
	b := newBlog(t, generousLimits())
	cases := []struct {
		args  []string
		usage string
	}{
		{[]string{"ls", "extra"}, "usage: ssh blog.test ls [--json]"},
		{[]string{"read"}, "usage: ssh blog.test read SLUG [--raw]"},
		{[]string{"read", goPost, goPost}, "usage: ssh blog.test read SLUG [--raw]"},
		{[]string{"comments"}, "usage: ssh blog.test comments SLUG [--json]"},
		{[]string{"comment", goPost, "and", "more"}, "usage: ssh blog.test comment SLUG [--name NAME] < text"},
		{[]string{"subscribe"}, "usage: ssh blog.test subscribe EMAIL"},
		{[]string{"subscribe", "a@example.com", "b@example.com"}, "usage: ssh blog.test subscribe EMAIL"},
		{[]string{"unsubscribe"}, "usage: ssh blog.test unsubscribe EMAIL"},
		{[]string{"confirm", "A", "B"}, "usage: ssh blog.test confirm CODE"},
		{[]string{"forget", "everything"}, "usage: ssh blog.test forget"},
	}
	for _, c := range cases {
		r := b.run(t, ada, strings.NewReader("text"), c.args...)
		if r.code != 2 || r.out != "" || strings.TrimSpace(r.err) != c.usage {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, r.code, r.out, r.err, c.usage)
		}
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("a wrong command line posted %d comments", len(cs))
	}
}

// A command line past MaxArgsBytes is refused before any command sees it,
// without echoing it.
func TestHugeCommandLineIsRefused(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, args := range [][]string{
		{"read", strings.Repeat("x", commands.MaxArgsBytes)},
		append([]string{"read"}, strings.Split(strings.Repeat("x ", commands.MaxArgsBytes), " ")...),
	} {
		r := b.run(t, ada, nil, args...)
		if r.code != 2 || !strings.Contains(r.err, "command line is") || len(r.err) > 200 {
			t.Errorf("%d args: exit %d, stderr %d bytes: %.200q", len(args), r.code, len(r.err), r.err)
		}
	}
}

func TestListPrintsEveryPublishedPost(t *testing.T) {
	b := newBlog(t, generousLimits())
	published := b.env.Posts.Published()
	r := b.run(t, keyless, nil, "ls")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if r.code != 0 || len(lines) != len(published) || !strings.Contains(r.out, goPost) || !strings.Contains(r.out, "2026-11-12") {
		t.Fatalf("ls: exit %d, %d lines for %d posts:\n%s", r.code, len(lines), len(published), r.out)
	}
	for i, p := range published {
		if !strings.HasPrefix(lines[i], p.Slug+" ") || !strings.HasSuffix(lines[i], p.Title) {
			t.Errorf("line %d is %q, want %s ... %s", i, lines[i], p.Slug, p.Title)
		}
	}
	if strings.Contains(r.out, "draft-ideas") {
		t.Fatalf("ls lists a draft:\n%s", r.out)
	}

	for _, flag := range []string{"--json", "-json", "--json=true"} {
		r = b.run(t, keyless, nil, "ls", flag)
		sc := bufio.NewScanner(strings.NewReader(r.out))
		n := 0
		for sc.Scan() {
			var p struct {
				Slug     string
				Tags     []string
				Comments int
			}
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil || p.Slug != published[n].Slug || p.Tags == nil {
				t.Fatalf("ls %s line %q: %v", flag, sc.Text(), err)
			}
			if want := map[bool]int{true: 3}[p.Slug == goPost]; p.Comments != want {
				t.Errorf("%s has %d comments in JSON, want %d", p.Slug, p.Comments, want)
			}
			n++
		}
		if r.code != 0 || n != len(published) {
			t.Fatalf("ls %s: exit %d, %d lines", flag, r.code, n)
		}
	}
}

// With no command the visitor gets the list and how to go on.
func TestBareListingSaysHowToRead(t *testing.T) {
	b := newBlog(t, generousLimits())
	r := b.run(t, keyless, nil)
	if r.code != 0 || !strings.Contains(r.out, goPost) || !strings.Contains(r.out, "Read a post: ssh blog.test read SLUG") || !strings.Contains(r.out, "for the full interface: ssh blog.test\n") {
		t.Fatalf("bare: exit %d\n%s", r.code, r.out)
	}
}

func TestReadPrintsPlainText(t *testing.T) {
	b := newBlog(t, generousLimits())
	r := b.run(t, keyless, nil, "read", goPost)
	if r.code != 0 || !strings.HasPrefix(r.out, "Go for Backend Services: A Practical Overview\n12 Nov 2026 · ") || !strings.Contains(r.out, "min read") ||
		!strings.Contains(r.out, "Standard library") || !strings.Contains(r.out, "http.NewServeMux()") {
		t.Fatalf("read: exit %d:\n%s", r.code, r.out)
	}
	noEscapes(t, "read", strings.ReplaceAll(r.out, "·", ""))
	if w := widest(r.out); w > 80 {
		t.Errorf("without a terminal a line is %d columns, want at most 80", w)
	}
	for _, args := range [][]string{{"read", "--raw", goPost}, {"read", goPost, "--raw"}, {"read", goPost, "-raw"}} {
		r = b.run(t, keyless, nil, args...)
		if r.code != 0 || !strings.Contains(r.out, "| Feature |") || !strings.Contains(r.out, "```go") {
			t.Fatalf("%q is not the Markdown source: exit %d\n%s", args, r.code, r.out)
		}
	}
}

// A terminal's width is kept within 21 to 100 columns; a narrower one gets
// the width a pipe gets.
func TestReadFollowsTheTerminalsWidth(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, c := range []struct{ width, most int }{{50, 50}, {400, 100}, {5, 80}} {
		r := b.runRequest(t, commands.Request{Args: []string{"read", goPost}, Width: c.width})
		if w := widest(r.out); r.code != 0 || w > c.most || w < c.most-15 {
			t.Errorf("a %d-column terminal got lines up to %d columns, want up to %d", c.width, w, c.most)
		}
	}
}

func widest(text string) int {
	most := 0
	for _, line := range strings.Split(text, "\n") {
		most = max(most, len([]rune(line)))
	}
	return most
}

func TestBadSlugsSayWhereTheListIs(t *testing.T) {
	b := newBlog(t, generousLimits())
	for _, cmd := range []string{"read", "comments", "comment"} {
		for _, slug := range []string{"no-such-post", "draft-ideas", "../" + goPost, "\x1b[31mred\nline\x1b]8;;http://x\x07", strings.Repeat("é", 1000)} {
			r := b.run(t, ada, strings.NewReader("text"), cmd, slug)
			if r.code != 1 || r.out != "" || !strings.Contains(r.err, "blog: no post ") || !strings.Contains(r.err, "See the list with: ssh blog.test ls") {
				t.Errorf("%s %.40q: exit %d, stdout %q, stderr %.200q", cmd, slug, r.code, r.out, r.err)
			}
			noEscapes(t, "stderr", r.err)
			if strings.Count(r.err, "\n") != 1 {
				t.Errorf("%s %.40q: the echoed slug breaks the line: %q", cmd, slug, r.err)
			}
		}
	}
	r := b.run(t, ada, nil, "read", "no-such-post")
	if !strings.Contains(r.err, `no post "no-such-post"`) {
		t.Fatalf("stderr %q", r.err)
	}
	if cs := b.comments(t); len(cs) != 0 {
		t.Fatalf("%d comments stored", len(cs))
	}
}

func ExampleEnv_Run() {
	// A visitor's command line, run with buffers for its output.
	var out strings.Builder
	env := &commands.Env{Title: "Example", Host: "blog.example"}
	code := env.Run(context.Background(), commands.Request{Args: []string{"frobnicate"}, Stdout: &out, Stderr: &out})
	fmt.Println(code, strings.SplitN(out.String(), "\n", 2)[0])
	// Output: 2 blog: unknown command "frobnicate"
}

// Visitors run commands at the same time; each run builds its own tree,
// so runs share no parsed state (and -race sees no cobra globals written).
func TestConcurrentRunsKeepTheirOwnFlags(t *testing.T) {
	b := newBlog(t, generousLimits())
	done := make(chan error, 16)
	for i := range 16 {
		go func() {
			args := []string{"read", goPost}
			if i%2 == 0 {
				args = append(args, "--raw")
			}
			var out, errOut strings.Builder
			code := b.env.Run(context.Background(), commands.Request{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			switch raw := strings.Contains(out.String(), "```go"); {
			case code != 0:
				done <- fmt.Errorf("%q: exit %d, %q", args, code, errOut.String())
			case raw != (i%2 == 0):
				done <- fmt.Errorf("%q printed the source: %v", args, raw)
			default:
				done <- nil
			}
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
