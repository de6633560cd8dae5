package commands_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"blog/data"
)

var bob = data.Author{KeyFingerprint: "SHA256:BobBobBobBobBobBobBobBobBobBobBobBobBobBob", IP: "192.0.2.2"}

func TestCommentReplyTo(t *testing.T) {
	b := newBlog(t, generousLimits())
	if r := b.run(t, ada, strings.NewReader("the parent"), "comment", goPost); r.code != 0 {
		t.Fatalf("comment: %d %q", r.code, r.err)
	}
	parent := b.comments(t)[0]
	r := b.run(t, bob, strings.NewReader("the reply"), "comment", goPost, "--reply-to", fmt.Sprint(parent.ID))
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprintf("a reply to comment %d", parent.ID)) {
		t.Fatalf("comment --reply-to: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	cs := b.comments(t)
	if len(cs) != 2 || cs[1].ReplyTo != parent.ID {
		t.Fatalf("stored %+v, want the reply answering %d", cs, parent.ID)
	}

	// Text and JSON say what answers what, with the IDs to use.
	r = b.run(t, keyless, nil, "comments", goPost)
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprintf("comment %d, reply to %d", cs[1].ID, parent.ID)) {
		t.Fatalf("comments:\n%s", r.out)
	}
	r = b.run(t, keyless, nil, "comments", goPost, "--json")
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var j map[string]any
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		got = append(got, j)
	}
	if len(got) != 2 || got[1]["reply_to"] != float64(parent.ID) || got[0]["reply_to"] != nil {
		t.Fatalf("comments --json: %v, want reply_to on the reply only", got)
	}

	// Deleting the parent leaves a placeholder in both outputs.
	if err := b.store.DeleteOwnComment(t.Context(), parent.ID, adaKey); err != nil {
		t.Fatal(err)
	}
	r = b.run(t, keyless, nil, "comments", goPost)
	if !strings.Contains(r.out, fmt.Sprintf("[deleted] · comment %d", parent.ID)) || strings.Contains(r.out, "the parent") {
		t.Fatalf("comments after deleting the parent:\n%s", r.out)
	}
	r = b.run(t, keyless, nil, "comments", goPost, "--json")
	if !strings.Contains(r.out, `"deleted":true`) || strings.Contains(r.out, "the parent") {
		t.Fatalf("comments --json after deleting the parent:\n%s", r.out)
	}

	// Abuse: a reply to nothing, to another post's comment, to a huge or
	// a negative ID, or to a word, is refused plainly and stores nothing.
	b.run(t, ada, strings.NewReader("elsewhere"), "comment", "welcome")
	elsewhere, err := b.store.Comments(t.Context(), "welcome", data.ListOptions{})
	if err != nil || len(elsewhere) != 1 {
		t.Fatalf("the other post's comments: %v, %v", elsewhere, err)
	}
	other := elsewhere[0].ID
	for _, to := range []string{"999999", fmt.Sprint(other), "9223372036854775807", fmt.Sprint(parent.ID), "-3", "x", "99999999999999999999999"} {
		r := b.run(t, bob, strings.NewReader("bad reply"), "comment", goPost, "--reply-to", to)
		if r.code == 0 {
			t.Errorf("--reply-to %s: accepted", to)
		}
		noEscapes(t, "stderr", r.err)
	}
	r = b.run(t, bob, strings.NewReader("bad reply"), "comment", goPost, "--reply-to", "999999")
	if r.code != 1 || !strings.Contains(r.err, "reply is to a comment that isn't there") {
		t.Errorf("--reply-to a missing comment: %d %q", r.code, r.err)
	}
	if n := len(b.comments(t)); n != 2 {
		t.Fatalf("%d comments after refused replies, want 2", n)
	}
}

func TestEditCommand(t *testing.T) {
	b := newBlog(t, generousLimits())
	b.run(t, ada, strings.NewReader("frist"), "comment", goPost)
	c := b.comments(t)[0]
	id := fmt.Sprint(c.ID)
	r := b.run(t, ada, strings.NewReader("first\x1b[31m!"), "edit", id)
	if r.code != 0 || !strings.Contains(r.out, "Edited comment "+id) {
		t.Fatalf("edit: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	if got := b.comments(t)[0]; got.Body != "first!" || got.EditedAt.IsZero() {
		t.Fatalf("after edit: %+v", got)
	}
	r = b.run(t, keyless, nil, "comments", goPost)
	if !strings.Contains(r.out, "edited") {
		t.Fatalf("comments does not mark the edit:\n%s", r.out)
	}
	r = b.run(t, keyless, nil, "comments", goPost, "--json")
	if !strings.Contains(r.out, `"edited":"`) {
		t.Fatalf("comments --json does not carry edited:\n%s", r.out)
	}

	for _, tc := range []struct {
		name  string
		a     data.Author
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"someone else's", bob, []string{"edit", id}, "mine now", 1, "you have no comment " + id},
		{"keyless", keyless, []string{"edit", id}, "x", 1, "needs the SSH key"},
		{"not a number", ada, []string{"edit", "\x1b[2Jone"}, "x", 1, "is not a comment ID"},
		{"huge", ada, []string{"edit", "9223372036854775807"}, "x", 1, "you have no comment"},
		{"negative", ada, []string{"edit", "-1"}, "x", 2, "usage: ssh blog.test edit ID < text"},
		{"empty", ada, []string{"edit", id}, "  \n", 1, "comment is empty"},
		{"no ID", ada, []string{"edit"}, "x", 2, "usage: ssh blog.test edit ID < text"},
		{"too long", ada, []string{"edit", id}, strings.Repeat("x", commandsMaxStdin+10), 1, "too long"},
	} {
		r := b.run(t, tc.a, strings.NewReader(tc.stdin), tc.args...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, r.code, r.err, tc.code, tc.want)
		}
		noEscapes(t, tc.name+" stderr", r.err)
	}
	if got := b.comments(t)[0]; got.Body != "first!" {
		t.Fatalf("a refused edit changed the text: %q", got.Body)
	}
}

const commandsMaxStdin = 4 * data.MaxCommentRunes * 2

func TestEditAfterTheWindow(t *testing.T) {
	b := newBlogWith(t, data.Options{Limits: generousLimits(), EditWindow: time.Nanosecond})
	b.run(t, ada, strings.NewReader("too late to change"), "comment", goPost)
	id := fmt.Sprint(b.comments(t)[0].ID)
	r := b.run(t, ada, strings.NewReader("changed"), "edit", id)
	if r.code != 1 || !strings.Contains(r.err, "can be edited only in the first") {
		t.Fatalf("edit after the window: exit %d, stderr %q", r.code, r.err)
	}
}

func TestEditFloodIsRateLimited(t *testing.T) {
	limits := generousLimits()
	limits.CommentPerKey = data.RateLimit{Count: 3, Window: time.Minute}
	b := newBlog(t, limits)
	b.run(t, ada, strings.NewReader("one"), "comment", goPost)
	id := fmt.Sprint(b.comments(t)[0].ID)
	var last result
	for i := range 5 {
		last = b.run(t, ada, strings.NewReader(fmt.Sprint("edit ", i)), "edit", id)
	}
	if last.code != 1 || !strings.Contains(last.err, "too many requests") {
		t.Fatalf("the fifth edit in a minute: exit %d, stderr %q", last.code, last.err)
	}
}
