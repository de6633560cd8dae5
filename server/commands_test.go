package server_test

import (
	"strings"
	"testing"

	"blog/internal/termclient"
)

// Over SSH, a wrong command line exits 2 with the command's usage, and a
// hostile flag is not echoed back as an escape sequence.
func TestExecUsageErrorsOverSSH(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, c := range []struct{ cmd, want string }{
		{"ls --bogus", "usage: ssh blog.test ls [--json]"},
		{"read " + goPost + " --\x1b]52;c;cGF3bmVk\x07", "usage: ssh blog.test read SLUG [--raw]"},
		{"comments", "usage: ssh blog.test comments SLUG [--json]"},
	} {
		out, errOut, code, err := termclient.Exec(ts.addr, newKey(t), c.cmd, nil)
		if err != nil || code != 2 || out != "" || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "\x1b") {
			t.Errorf("%q: exit %d, %v, stdout %q, stderr %q; want 2 and %q", c.cmd, code, err, out, errOut, c.want)
		}
	}
	out, _, code, err := termclient.Exec(ts.addr, nil, "read --help", nil)
	if err != nil || code != 0 || !strings.Contains(out, "usage: ssh blog.test read SLUG [--raw]") {
		t.Fatalf("read --help: exit %d, %v, %q", code, err, out)
	}
}

// The sessions of one connection each run their own command: the server
// keeps a command's split words in the connection's context, and must
// not hand one session's command to the next.
func TestSessionsOfOneConnectionRunTheirOwnCommands(t *testing.T) {
	ts := startServer(t, serverOpts{})
	client, _ := dialSession(t, ts.addr, newKey(t))
	for _, c := range []struct{ cmd, want, not string }{
		{"read " + goPost + " --raw", "# ", "usage:"},
		{"ls", goPost, "# "},
		{"ls", goPost, "# "},
		{"read " + goPost + " --raw", "# ", "usage:"},
	} {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.Output(c.cmd)
		sess.Close()
		if err != nil || !strings.Contains(string(out), c.want) || strings.Contains(string(out), c.not) {
			t.Errorf("%q: %v, output %.200q; want %q and no %q", c.cmd, err, out, c.want, c.not)
		}
	}
}
