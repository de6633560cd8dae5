package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/postgres/pgtest"
	"blog/internal/termclient"
	"blog/server"

	"golang.org/x/crypto/ssh"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsCountWhatHappens(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := readAtEnd(t, ts, newKey(t))
	commentTUI(t, s, "counted")
	waitFor(t, s, "Comment posted")
	if _, _, code, _ := termclient.Exec(ts.addr, nil, "comment "+goPost, strings.NewReader("x")); code != 1 {
		t.Fatalf("keyless comment: %d", code)
	}
	// The live event of the comment reaches the hub after the writer's
	// "Comment posted", so wait until the metrics count it before reading
	// the rest.
	body := metricsWith(t, ts.http, `blog_live_events_total{kind="added"} 1`)
	for _, want := range []string{
		`blog_sessions_open{kind="tui"} 1`,
		`blog_sessions_total{kind="command"} 1`,
		`blog_comments_posted_total 1`,
		`blog_live_events_total{kind="added"} 1`,
		`blog_render_cache_misses_total 1`,
		`blog_db_latency_seconds_count{op="add_comment"}`,
		"blog_live_event_lag_seconds_count 1",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, bad := range []string{"@", "counted"} {
		if strings.Contains(body, bad) {
			t.Errorf("metrics contain %q", bad)
		}
	}
}

// metricsWith reads /metrics until it contains want, and fails after 30
// seconds.
func metricsWith(t *testing.T, base, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, base+"/metrics")
		if strings.Contains(body, want) || time.Now().After(deadline) {
			return body
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConnectionCapsSayWhy(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{MaxConnsPerIP: 2}})
	for i := 0; i < 2; i++ {
		s := ts.open(t, newKey(t), 80, 24)
		waitFor(t, s, "enter read")
	}
	_, errOut, code, err := termclient.Exec(ts.addr, newKey(t), "ls", nil)
	if err != nil || code != 1 || !strings.Contains(errOut, "Too many open sessions from your address") {
		t.Fatalf("third session: %d %v %q", code, err, errOut)
	}

	full := startServer(t, serverOpts{limits: server.ConnLimits{MaxConns: 1}})
	s := full.open(t, newKey(t), 80, 24)
	waitFor(t, s, "enter read")
	_, errOut, code, _ = termclient.Exec(full.addr, newKey(t), "ls", nil)
	if code != 1 || !strings.Contains(errOut, "The server is full") {
		t.Fatalf("over the global cap: %d %q", code, errOut)
	}
}

func TestConnectionRateLimit(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{ConnsPerMinute: 4}})
	var refused string
	for i := 0; i < 5 && refused == ""; i++ {
		_, errOut, code, err := termclient.Exec(ts.addr, newKey(t), "ls", nil)
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			refused = errOut
		}
	}
	if !strings.Contains(refused, "Too many new connections") {
		t.Fatalf("rate limit never said so: %q", refused)
	}
	_, body := get(t, ts.http+"/metrics")
	if !strings.Contains(body, `blog_connections_rejected_total{reason="rate"}`) {
		t.Fatal("rate rejection not counted")
	}
}

func TestHandshakeTimeoutClosesSilentClients(t *testing.T) {
	ts := startServer(t, serverOpts{limits: server.ConnLimits{HandshakeTimeout: 300 * time.Millisecond}})
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The server says its version, then hangs up on a client that says nothing.
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}

func TestReadinessFollowsPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ts := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	if code, _ := get(t, ts.http+"/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	restore := pgtest.Outage(t, url)
	// Readiness is cached for a second (a flood of probes must not flood
	// the database), so the outage shows within a few.
	waitStatus(t, ts.http+"/readyz", 503)
	if code, _ := get(t, ts.http+"/healthz"); code != 200 {
		t.Fatalf("healthz during outage: %d", code)
	}
	restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := get(t, ts.http+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz stayed %d after the database came back", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBanHoldsOnEveryReplica(t *testing.T) {
	url := pgtest.NewDatabase(t)
	one := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	two := startServer(t, serverOpts{store: openPostgres(t, url, generousLimits())})
	key := newKey(t)
	if err := one.store.Ban(context.Background(), data.Ban{Target: sshFingerprint(key), Until: time.Now().Add(time.Hour), CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	s := readAtEnd(t, two, key)
	waitFor(t, s, "Comments (0)") // reading still works
	commentTUI(t, s, "let me in")
	waitFor(t, s, "may not post here")
	_, errOut, code, _ := termclient.Exec(two.addr, key, "subscribe banned@example.com", nil)
	if code != 1 || !strings.Contains(errOut, "not allowed") {
		t.Fatalf("banned subscribe: %d %q", code, errOut)
	}
}

// TestProxyProtocolGivesTheReadersAddress: behind a TCP load balancer that
// sends PROXY headers, bans and limits see the reader's address, not the
// balancer's.
func TestProxyProtocolGivesTheReadersAddress(t *testing.T) {
	ts := startServer(t, serverOpts{proxies: []string{"127.0.0.0/8"}})
	if err := ts.store.Ban(context.Background(), data.Ban{Target: "203.0.113.7", Until: time.Now().Add(time.Hour), CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	viaProxy := func(clientIP string) (string, int) {
		t.Helper()
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "PROXY TCP4 %s 127.0.0.1 40000 23234\r\n", clientIP)
		c, chans, reqs, err := ssh.NewClientConn(conn, ts.addr, termclient.ClientConfig("reader", newKey(t), nil, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		client := ssh.NewClient(c, chans, reqs)
		defer client.Close()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var errOut strings.Builder
		sess.Stderr = &errOut
		err = sess.Run("subscribe someone@example.com")
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return errOut.String(), exit.ExitStatus()
		}
		return errOut.String(), 0
	}
	if out, code := viaProxy("203.0.113.7"); code != 1 || !strings.Contains(out, "not allowed") {
		t.Fatalf("banned reader behind the proxy: %d %q", code, out)
	}
	if out, code := viaProxy("198.51.100.9"); code != 0 {
		t.Fatalf("other reader behind the proxy: %d %q", code, out)
	}
}

// After readers come and go, the server returns free memory once it has
// been quiet for --release-memory-after, and says so on /metrics.
func TestMemoryIsReleasedAfterABusySpell(t *testing.T) {
	ts := startServer(t, serverOpts{release: 200 * time.Millisecond})
	s := ts.open(t, newKey(t), 80, 24)
	waitFor(t, s, "Test Blog")
	s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, ts.http+"/metrics")
		if strings.Contains(body, "blog_memory_releases_total 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no release on /metrics after the session closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body := get(t, ts.http+"/metrics")
	if !strings.Contains(body, "blog_memory_releases_total 1\n") {
		t.Error("released again without new activity")
	}
}

// A session is counted as the kind it runs as: "read" with a terminal but
// no slug (or with more words) runs as a command and is counted as one;
// "read SLUG" with a terminal opens the interface and is counted so.
func TestSessionKindMetricFollowsWhatRuns(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, cmd := range []string{"read", "read " + goPost + " --raw"} {
		s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Command = cmd })
		select {
		case <-s.Done():
		case <-time.After(screenWait):
			t.Fatalf("%q with a terminal did not end as a command does", cmd)
		}
	}
	_, body := get(t, ts.http+"/metrics")
	if !strings.Contains(body, `blog_sessions_total{kind="command"} 2`) || strings.Contains(body, `blog_sessions_total{kind="tui"}`) {
		t.Errorf("two commands with a terminal counted as:\n%s", grepLines(body, "blog_sessions_total"))
	}

	s := ts.open(t, newKey(t), 100, 40, func(o *termclient.Options) { o.Command = "read " + goPost })
	waitFor(t, s, "Go for Backend Services")
	if _, body := get(t, ts.http+"/metrics"); !strings.Contains(body, `blog_sessions_total{kind="tui"} 1`) {
		t.Errorf("read SLUG with a terminal counted as:\n%s", grepLines(body, "blog_sessions_total"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
