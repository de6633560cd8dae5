package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/internal/termclient"
)

// liveWait is how long a change made elsewhere may take to reach an open
// session: the contract is two seconds; the rest is slack for a loaded
// machine drawing the frame.
const liveWait = 5 * time.Second

// operatorDo runs fn on a Store of its own on the file, then closes it: what
// "blog comments hide ID" (a separate process) does.
func operatorDo(t *testing.T, path string, fn func(data.Store) error) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, data.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := fn(st); err != nil {
		t.Fatal(err)
	}
}

func execOut(t *testing.T, ts *testServer, cmd string) string {
	t.Helper()
	out, errOut, code, err := termclient.Exec(ts.addr, newKey(t), cmd, nil)
	if err != nil || code != 0 {
		t.Fatalf("%s: exit %d, %v, %s", cmd, code, err, errOut)
	}
	return out
}

// Operator moderation on the default store (SQLite) reaches open sessions,
// new sessions and "comments SLUG" within seconds, without a restart.
func TestOperatorModerationReachesSessionsOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blog.db")
	st, err := sqlite.Open(context.Background(), path, data.Options{Limits: generousLimits(), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := startServer(t, serverOpts{store: st})
	reader := readAtEnd(t, ts, newKey(t))
	if _, _, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, strings.NewReader("Take me down")); err != nil || code != 0 {
		t.Fatalf("comment: %d %v", code, err)
	}
	waitFor(t, reader, "Take me down")
	cs, err := st.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments: %v %v", cs, err)
	}
	id := cs[0].ID
	gone := func(s *termclient.Session, what string) {
		t.Helper()
		if err := s.Wait(liveWait, func(scr string) bool { return !strings.Contains(scr, "Take me down") }); err != nil {
			t.Fatalf("%s: the comment is still on an open session's screen after %v", what, liveWait)
		}
		if out := execOut(t, ts, "comments "+goPost); strings.Contains(out, "Take me down") {
			t.Fatalf("%s: comments %s still prints it:\n%s", what, goPost, out)
		}
	}

	operatorDo(t, path, func(s data.Store) error { return s.SetHidden(context.Background(), id, true, "operator") })
	gone(reader, "hide")
	fresh := readAtEnd(t, ts, newKey(t))
	waitFor(t, fresh, "No comments yet")

	operatorDo(t, path, func(s data.Store) error { return s.SetHidden(context.Background(), id, false, "operator") })
	if err := reader.WaitFor("Take me down", liveWait); err != nil {
		t.Fatalf("unhide: not back on an open session: %v", err)
	}
	waitFor(t, fresh, "Take me down")

	operatorDo(t, path, func(s data.Store) error { return s.DeleteComment(context.Background(), id, "operator") })
	gone(reader, "delete")

	if _, _, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, strings.NewReader("Take me down")); err != nil || code != 0 {
		t.Fatalf("comment: %d %v", code, err)
	}
	waitFor(t, reader, "Take me down")
	operatorDo(t, path, func(s data.Store) error { return s.Reset(context.Background()) })
	gone(reader, "reset")
	waitFor(t, fresh, "No comments yet")
}
