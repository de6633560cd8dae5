package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"
	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// indentOf is how far in the screen line holding text starts, -1 when no
// line holds it.
func indentOf(screen, text string) int {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, text) {
			return len(l) - len(strings.TrimLeft(l, " "))
		}
	}
	return -1
}

// postExec posts a comment over exec and returns its ID.
func postExec(t *testing.T, addr string, key ssh.Signer, args, body string) int64 {
	t.Helper()
	out, errOut, code, err := termclient.Exec(addr, key, "comment "+args, strings.NewReader(body))
	if err != nil || code != 0 {
		t.Fatalf("comment %s: exit %d, %v, %q", args, code, err, errOut)
	}
	var id int64
	if _, err := fmt.Sscanf(out, "Posted comment %d", &id); err != nil {
		t.Fatalf("comment output %q: %v", out, err)
	}
	return id
}

// conversation is replies, edits and deletion as two visitors see them,
// ada on server one and bob on server two (which may be the same one).
func conversation(t *testing.T, one, two *testServer) {
	ada, bob := newKey(t), newKey(t)
	parent := postExec(t, one.addr, ada, goPost+" --name ada", "Parent by ada")
	postExec(t, two.addr, bob, "welcome --name bob", "elsewhere, so the name is remembered")
	a := readAtEnd(t, one, ada)
	b := readAtEnd(t, two, bob)
	waitFor(t, b, "Parent by ada")

	// bob replies with r; it shows under the parent, one step in, live.
	typeKeys(t, b, "n")
	waitFor(t, b, "r reply")
	typeKeys(t, b, "r")
	waitFor(t, b, "Replying to ada")
	if err := b.Paste("Reply from bob"); err != nil {
		t.Fatal(err)
	}
	typeKeys(t, b, "\x13")
	waitFor(t, b, "Comment posted")
	waitFor(t, a, "Reply from bob")
	waitFor(t, a, "Comments (2)")
	if scr := a.Screen(); indentOf(scr, "Reply from bob") <= indentOf(scr, "Parent by ada") {
		t.Fatalf("the reply is not drawn one step in:\n%s", scr)
	}

	// ada answers bob's reply: the same depth, saying whom it answers.
	typeKeys(t, a, "n")
	waitFor(t, a, "e edit")
	typeKeys(t, a, "n")
	// ada's own comment offered "r reply" too: bob's is selected once
	// "e edit" has gone.
	if err := a.Wait(screenWait, func(scr string) bool {
		return strings.Contains(scr, "r reply") && !strings.Contains(scr, "e edit")
	}); err != nil {
		t.Fatalf("selecting bob's reply: %v\n%s", err, a.Screen())
	}
	typeKeys(t, a, "r")
	waitFor(t, a, "Replying to bob")
	if err := a.Paste("Ada answers bob"); err != nil {
		t.Fatal(err)
	}
	typeKeys(t, a, "\x13")
	waitFor(t, a, "Comment posted")
	waitFor(t, b, "Ada answers bob")
	waitFor(t, b, "replying to bob")
	if scr := b.Screen(); indentOf(scr, "Ada answers bob") != indentOf(scr, "Reply from bob") {
		t.Fatalf("a reply to a reply is not at its parent's depth:\n%s", scr)
	}

	// ada edits her answer with e: marked edited, live for bob.
	typeKeys(t, a, "n")
	waitFor(t, a, "e edit")
	typeKeys(t, a, "e")
	waitFor(t, a, "Edit your comment")
	if err := a.Paste(" [fixed]"); err != nil {
		t.Fatal(err)
	}
	typeKeys(t, a, "\x13")
	waitFor(t, a, "Comment edited.")
	waitFor(t, b, "Ada answers bob [fixed]")
	waitFor(t, b, "edited")

	// ada deletes the parent: "[deleted]" stays in its place for both,
	// the replies under it.
	typeKeys(t, a, "n")
	// ada's answer, selected before, offers "e edit · d delete" too: wait
	// until the bar marks the parent's text.
	if err := a.Wait(screenWait, func(scr string) bool {
		return strings.Contains(scr, "e edit · d delete") && selectedLine(scr, "Parent by ada")
	}); err != nil {
		t.Fatalf("selecting the parent: %v\n%s", err, a.Screen())
	}
	typeKeys(t, a, "d")
	waitFor(t, a, "Press d again")
	typeKeys(t, a, "d")
	waitFor(t, a, "Comment deleted.")
	for _, s := range []*termclient.Session{a, b} {
		waitFor(t, s, "[deleted]")
		waitGone(t, s, "Parent by ada")
		waitFor(t, s, "Reply from bob")
		waitFor(t, s, "Comments (2)")
	}

	// Over exec: the JSON says what answers what; a reply and an edit
	// there are live in the interface.
	out, _, code, err := termclient.Exec(two.addr, nil, "comments "+goPost+" --json", nil)
	if err != nil || code != 0 {
		t.Fatalf("comments --json: %d %v", code, err)
	}
	var cs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c map[string]any
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if len(cs) != 3 || cs[0]["deleted"] != true || cs[0]["body"] != "" || cs[1]["reply_to"] != float64(parent) ||
		cs[2]["reply_to"] != cs[1]["id"] || cs[2]["edited"] == nil {
		t.Fatalf("comments --json:\n%s", out)
	}
	bobs := int64(cs[1]["id"].(float64))
	postExec(t, two.addr, bob, fmt.Sprintf("%s --reply-to %d", goPost, bobs), "Bob over exec")
	waitFor(t, a, "Bob over exec")
	if _, errOut, code, err := termclient.Exec(one.addr, bob, fmt.Sprintf("edit %d", bobs), strings.NewReader("Reply from bob, edited over exec")); err != nil || code != 0 {
		t.Fatalf("edit: %d %v %q", code, err, errOut)
	}
	waitFor(t, a, "edited over exec")
	// Someone else's comment cannot be edited.
	if _, errOut, code, _ := termclient.Exec(one.addr, ada, fmt.Sprintf("edit %d", bobs), strings.NewReader("hijacked")); code != 1 || !strings.Contains(errOut, "no comment") {
		t.Fatalf("edit of someone else's comment: %d %q", code, errOut)
	}
}

func TestConversationLive(t *testing.T) {
	ts := startServer(t, serverOpts{})
	conversation(t, ts, ts)
}

func TestConversationLiveAcrossReplicasOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	one := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	two := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	conversation(t, one, two)
}

// Abuse over SSH: replies to what is not there, edits of someone else's
// comment, after the window, or in a flood, are refused with a plain
// message and change nothing.
func TestRepliesAndEditsRefused(t *testing.T) {
	limits := generousLimits()
	limits.CommentPerKey = data.RateLimit{Count: 4, Window: time.Minute}
	st := openSQLite(t, limits)
	ts := startServer(t, serverOpts{store: st})
	ada := newKey(t)
	id := postExec(t, ts.addr, ada, goPost, "ada's comment")
	for _, to := range []string{"424242", "9223372036854775807", "-1", "1e9"} {
		_, errOut, code, _ := termclient.Exec(ts.addr, ada, fmt.Sprintf("comment %s --reply-to %s", goPost, to), strings.NewReader("x"))
		if code == 0 || strings.ContainsAny(errOut, "\x1b") {
			t.Errorf("--reply-to %s: exit %d, %q", to, code, errOut)
		}
	}
	if _, errOut, code, _ := termclient.Exec(ts.addr, newKey(t), fmt.Sprintf("edit %d", id), strings.NewReader("x")); code != 1 || !strings.Contains(errOut, "no comment") {
		t.Errorf("edit by another key: %d %q", code, errOut)
	}
	// The flood: with one comment made, three edits fit in the limit of
	// four writes a minute and the next is refused.
	var errOut string
	var code int
	for i := range 4 {
		_, errOut, code, _ = termclient.Exec(ts.addr, ada, fmt.Sprintf("edit %d", id), strings.NewReader(fmt.Sprint("edit ", i)))
	}
	if code != 1 || !strings.Contains(errOut, "too many requests") {
		t.Errorf("the fourth edit in a minute: %d %q", code, errOut)
	}
	cs, err := st.Comments(t.Context(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 || cs[0].Body != "edit 2" {
		t.Fatalf("after the refusals: %+v, %v", cs, err)
	}
}

func TestEditAfterTheWindowOverSSH(t *testing.T) {
	st, err := openSQLiteWith(t, data.Options{Limits: generousLimits(), EditWindow: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, serverOpts{store: st})
	ada := newKey(t)
	id := postExec(t, ts.addr, ada, goPost, "written once")
	_, errOut, code, _ := termclient.Exec(ts.addr, ada, fmt.Sprintf("edit %d", id), strings.NewReader("changed"))
	if code != 1 || !strings.Contains(errOut, "can be edited only in the first") {
		t.Fatalf("edit after the window: %d %q", code, errOut)
	}
	// In the interface the composer opens (the interface does not know
	// the store's window) and the store's answer is shown in it.
	a := readAtEnd(t, ts, ada)
	typeKeys(t, a, "n")
	waitFor(t, a, "e edit")
	typeKeys(t, a, "e")
	waitFor(t, a, "Edit your comment")
	typeKeys(t, a, "\x13")
	waitFor(t, a, "can be edited only in the first")
	if cs, _ := st.Comments(t.Context(), goPost, data.ListOptions{}); len(cs) != 1 || cs[0].Body != "written once" {
		t.Fatalf("after a refused edit: %+v", cs)
	}
}

// Hiding a comment with replies leaves "[hidden]" for readers, live and
// on a fresh open, while a moderator still reads its text.
func TestHiddenCommentWithRepliesOverSSH(t *testing.T) {
	mod := newKey(t)
	ts := startServer(t, serverOpts{admins: []ssh.PublicKey{mod.PublicKey()}})
	parent := postExec(t, ts.addr, newKey(t), goPost, "Soon hidden parent")
	postExec(t, ts.addr, newKey(t), fmt.Sprintf("%s --reply-to %d", goPost, parent), "A reply that stays")
	reader := readAtEnd(t, ts, newKey(t))
	moderator := readAtEnd(t, ts, mod)
	waitFor(t, reader, "A reply that stays")
	waitFor(t, moderator, "A reply that stays")
	if err := ts.store.SetHidden(t.Context(), parent, true, sshFingerprint(mod)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, reader, "[hidden]")
	waitGone(t, reader, "Soon hidden parent")
	waitFor(t, reader, "Comments (1)")
	waitFor(t, moderator, "[hidden]")
	if !strings.Contains(moderator.Screen(), "Soon hidden parent") {
		t.Fatalf("the moderator lost the hidden text:\n%s", moderator.Screen())
	}
	fresh := readAtEnd(t, ts, nil)
	waitFor(t, fresh, "A reply that stays")
	if scr := fresh.Screen(); !strings.Contains(scr, "[hidden]") || strings.Contains(scr, "Soon hidden parent") {
		t.Fatalf("a fresh reader's screen:\n%s", scr)
	}
	out, _, _, _ := termclient.Exec(ts.addr, nil, "comments "+goPost+" --json", nil)
	if strings.Contains(out, "Soon hidden parent") || !strings.Contains(out, `"hidden":true`) {
		t.Fatalf("comments --json leaks or drops the hidden comment:\n%s", out)
	}
}

// selectedLine reports whether a line of scr shows text behind the bar
// that marks the selected comment.
func selectedLine(scr, text string) bool {
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, "▌") && strings.Contains(l, text) {
			return true
		}
	}
	return false
}
