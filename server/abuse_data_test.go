package server_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/internal/termclient"
	"blog/server"

	"golang.org/x/crypto/ssh"
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

// isModeratorOverSSH opens the Go post's comments as key and reports
// whether the session sees a hidden comment (only moderators do).
func isModeratorOverSSH(t *testing.T, ts *testServer, key ssh.Signer) bool {
	t.Helper()
	s := readAtEnd(t, ts, key)
	waitFor(t, s, "Visible marker")
	return strings.Contains(s.Screen(), "Hidden marker")
}

// A moderator's key line restricted with from= or expiry-time= makes a
// moderator only from the addresses it names and until it expires; the
// client here is 127.0.0.1.
func TestModeratorKeyOptionsHold(t *testing.T) {
	keys := map[string]ssh.Signer{}
	var admins []server.AdminKey
	for name, restrict := range map[string]server.AdminKey{
		"elsewhere":   {From: []string{"10.0.0.0/8", "192.0.2.*"}},
		"loopback":    {From: []string{"127.0.0.*", "!127.0.0.2"}},
		"cidr":        {From: []string{"127.0.0.0/8"}},
		"excluded":    {From: []string{"!127.0.0.1", "*"}},
		"expired":     {Expires: time.Now().Add(-time.Minute)},
		"not-expired": {Expires: time.Now().Add(time.Hour)},
	} {
		keys[name] = newKey(t)
		restrict.Key = keys[name].PublicKey()
		admins = append(admins, restrict)
	}
	ts := startServer(t, serverOpts{adminKeys: admins})
	for _, body := range []string{"Hidden marker", "Visible marker"} {
		c, err := ts.store.AddComment(context.Background(), data.NewComment{PostSlug: goPost, Body: body,
			Author: data.Author{KeyFingerprint: "SHA256:writer", IP: "192.0.2.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if body == "Hidden marker" {
			if err := ts.store.SetHidden(context.Background(), c.ID, true, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]bool{"elsewhere": false, "loopback": true, "cidr": true, "excluded": false, "expired": false, "not-expired": true}
	for name, mod := range want {
		if got := isModeratorOverSSH(t, ts, keys[name]); got != mod {
			t.Errorf("key %q: moderator = %v, want %v", name, got, mod)
		}
	}
}

func TestMatchFrom(t *testing.T) {
	for _, tc := range []struct {
		patterns string
		ip       string
		want     bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.10", false},
		{"127.0.0.?", "127.0.0.5", true},
		{"127.0.0.?", "127.0.0.50", false},
		{"10.*", "10.1.2.3", true},
		{"*", "2001:db8::1", true},
		{"2001:db8::/32", "2001:db8::1", true},
		{"2001:DB8::*", "2001:db8::1", true},
		{"192.0.2.0/24", "192.0.2.77", true},
		{"192.0.2.0/24", "::ffff:192.0.2.77", true}, // a v4 client on a v6 socket
		{"192.0.2.0/24", "192.0.3.1", false},
		{"*,!192.0.2.7", "192.0.2.7", false},
		{"!192.0.2.7,*", "192.0.2.8", true},
		{"!192.0.2.0/24", "192.0.3.1", false}, // only exclusions: nothing allowed
		{"host.example.com,*.example.com", "192.0.2.1", false},
		{"127.0.0.1", "not-an-ip", false},
	} {
		if got := server.MatchFrom(strings.Split(tc.patterns, ","), tc.ip); got != tc.want {
			t.Errorf("MatchFrom(%q, %s) = %v, want %v", tc.patterns, tc.ip, got, tc.want)
		}
	}
}

// waitStatus polls url until it answers code, for up to 10 s.
func waitStatus(t *testing.T, url string, code int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := get(t, url)
		if got == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d, want %d", url, got, code)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for a condition
	}
}

// pingCounter counts the database pings a server makes.
type pingCounter struct {
	data.Store
	pings atomic.Int32
}

func (p *pingCounter) Ping(ctx context.Context) error {
	p.pings.Add(1)
	return p.Store.Ping(ctx)
}

// A flood of /readyz costs at most one database ping a second.
func TestReadyzFloodPingsOnceASecond(t *testing.T) {
	st := &pingCounter{Store: openSQLite(t, generousLimits())}
	ts := startServer(t, serverOpts{store: st})
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if code, _ := get(t, ts.http+"/readyz"); code != 200 {
					t.Errorf("readyz %d", code)
					return
				}
			}
		})
	}
	wg.Wait()
	allowed := 1 + int32(time.Since(start)/time.Second)
	if n := st.pings.Load(); n > allowed {
		t.Fatalf("400 probes in %v made %d pings, want at most %d", time.Since(start).Round(time.Millisecond), n, allowed)
	}
}

// exec comment without --name posts under the name remembered for the key.
func TestExecCommentUsesRememberedName(t *testing.T) {
	ts := startServer(t, serverOpts{})
	key := newKey(t)
	// The default test store is SQLite, whose SetName is outside data.Store.
	if err := ts.store.(*sqlite.Store).SetName(context.Background(), sshFingerprint(key), "Ada"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code, err := termclient.Exec(ts.addr, key, "comment "+goPost, strings.NewReader("Named by memory"))
	if err != nil || code != 0 || !strings.Contains(out, "as Ada.") {
		t.Fatalf("comment: exit %d, %v, stdout %q, stderr %q; want it posted as Ada", code, err, out, errOut)
	}
	cs, _ := ts.store.Comments(context.Background(), goPost, data.ListOptions{})
	if len(cs) != 1 || cs[0].AuthorName != "Ada" {
		t.Fatalf("stored %+v", cs)
	}
}

// A 64 KB body is refused with the limit in characters, and nothing is
// stored.
func TestExecCommentTooLongSaysTheLimit(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, size := range []int{64 << 10, 1 << 20} {
		_, errOut, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, strings.NewReader(strings.Repeat("x", size)))
		if err != nil || code != 1 || !strings.Contains(errOut, "Comments are at most 2000 characters") {
			t.Errorf("%d-byte comment: exit %d, %v, stderr %q; want 1 and the limit in characters", size, code, err, errOut)
		}
	}
	if cs, _ := ts.store.Comments(context.Background(), goPost, data.ListOptions{}); len(cs) != 0 {
		t.Fatalf("%d comments stored", len(cs))
	}
}

// On shutdown an exec comment still waiting for its stdin is told so and
// exits 1 at once, instead of being cut off at the end of the grace period.
func TestShutdownAnswersACommentStillReading(t *testing.T) {
	ts := startServer(t, serverOpts{grace: 20 * time.Second})
	// A terminal session is open all along, as on a live server. (It also
	// keeps the server's session count above zero while the command's
	// session starts: a first count racing shutdown's wait is a known
	// race of its own, outside this test.)
	reader := ts.open(t, newKey(t), 80, 24)
	waitFor(t, reader, "Test Blog")
	stdin, feed := io.Pipe()
	defer feed.Close()
	type result struct {
		errOut string
		code   int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		_, errOut, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, stdin)
		done <- result{errOut, code, err}
	}()
	if _, err := feed.Write([]byte("half a comm")); err != nil { // read by the client, sent on
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, m := get(t, ts.http+"/metrics"); strings.Contains(m, `blog_sessions_open{kind="command"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command session never opened")
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	start := time.Now()
	go ts.stop()
	select {
	case r := <-done:
		if r.err != nil || r.code != 1 || !strings.Contains(r.errOut, "restarting") {
			t.Fatalf("exit %d, %v, stderr %q; want 1 and a word about the restart", r.code, r.err, r.errOut)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("answered after %v, not at once", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no answer before the grace period ended")
	}
	if cs, _ := ts.store.Comments(context.Background(), goPost, data.ListOptions{}); len(cs) != 0 {
		t.Fatalf("half a comment was stored: %+v", cs)
	}
}

// The server leaves an existing data dir's mode alone and makes its host
// key 0600; the SQLite file and its -wal and -shm are 0600.
func TestDataDirModesAndPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o775); err != nil { // past the umask
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "blog.db"), data.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := startServer(t, serverOpts{dataDir: dir, store: st})
	if _, _, code, err := termclient.Exec(ts.addr, newKey(t), "comment "+goPost, strings.NewReader("a write, so the WAL exists")); err != nil || code != 0 {
		t.Fatalf("comment: %d %v", code, err)
	}
	mode := func(name string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode("."); m != 0o775 {
		t.Errorf("data dir mode changed to %o", m)
	}
	for _, name := range []string{"host_ed25519", "blog.db", "blog.db-wal", "blog.db-shm"} {
		if m := mode(name); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, m)
		}
	}
}
