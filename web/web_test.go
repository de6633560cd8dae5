package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/web"
)

type site struct {
	url   string
	store *sqlite.Store
}

func start(t *testing.T) site {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "blog.db"), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(web.Handler(web.Config{Title: "Notes", Store: store}))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return site{url: "http://" + ln.Addr().String(), store: store}
}

func status(t *testing.T, s site, email string) string {
	t.Helper()
	subs, err := s.store.Subscribers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		if sub.Email == email {
			return sub.Status
		}
	}
	return ""
}

// noRedirect keeps the client from following a redirect, so a test sees it.
var client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func do(t *testing.T, method, u, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestConfirmLink(t *testing.T) {
	s := start(t)
	c, err := s.store.Subscribe(t.Context(), "reader@example.com", data.Author{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	link := s.url + "/confirm/" + c.Token
	// A scanner following the link changes nothing.
	resp, body := do(t, "GET", link, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "Confirm</button>") {
		t.Fatalf("GET: %d\n%s", resp.StatusCode, body)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers: %v", resp.Header)
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusPending {
		t.Fatalf("GET confirmed: status %q", got)
	}
	resp, body = do(t, "POST", link, "application/x-www-form-urlencoded", strings.NewReader(""))
	if resp.StatusCode != 200 || !strings.Contains(body, "Subscribed") {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, body)
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusConfirmed {
		t.Fatalf("after POST: status %q", got)
	}
	for _, bad := range []string{data.NewToken(), strings.Repeat("a", 65), "%3Cscript%3E"} {
		if resp, _ := do(t, "POST", s.url+"/confirm/"+bad, "", nil); resp.StatusCode != 404 {
			t.Errorf("POST /confirm/%s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

// sentToken makes email a confirmed subscriber who was sent a post whose
// unsubscribe link holds the returned token.
func sentToken(t *testing.T, s site, email string) string {
	t.Helper()
	ctx := t.Context()
	if _, err := s.store.ImportSubscribers(ctx, []string{email}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.PublishPosts(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.QueuePost(ctx, data.NewsletterPost{Slug: "p", Title: "P", Body: "b", Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ds, _, err := s.store.ClaimDeliveries(ctx, 10, time.Minute, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	token := data.NewToken()
	if err := s.store.FinishDelivery(ctx, data.DeliveryResult{ID: ds[0].ID, Sent: true, UnsubscribeToken: token}); err != nil {
		t.Fatal(err)
	}
	return token
}

func TestOneClickUnsubscribe(t *testing.T) {
	s := start(t)
	token := sentToken(t, s, "reader@example.com")
	link := s.url + "/unsubscribe/" + token

	resp, body := do(t, "GET", link, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="List-Unsubscribe" value="One-Click"`) {
		t.Fatalf("GET: %d\n%s", resp.StatusCode, body)
	}
	// Without the RFC 8058 body nothing happens, nor with a body of another type.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain"} {
		if resp, _ := do(t, "POST", link, ct, strings.NewReader("List-Unsubscribe=Maybe")); resp.StatusCode != 400 {
			t.Fatalf("POST without One-Click (%s): %d, want 400", ct, resp.StatusCode)
		}
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusConfirmed {
		t.Fatalf("status %q before the one-click POST", got)
	}
	resp, body = do(t, "POST", link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || len(resp.Cookies()) != 0 || !strings.Contains(body, "Unsubscribed") {
		t.Fatalf("one-click POST: %d, headers %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusUnsubscribed {
		t.Fatalf("status after one-click: %q", got)
	}
}

func TestOneClickMultipart(t *testing.T) {
	s := start(t)
	token := sentToken(t, s, "reader@example.com")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	resp, _ := do(t, "POST", s.url+"/unsubscribe/"+token, mw.FormDataContentType(), &buf)
	if resp.StatusCode != 200 {
		t.Fatalf("multipart one-click: %d", resp.StatusCode)
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusUnsubscribed {
		t.Fatalf("status after multipart one-click: %q", got)
	}
}

// Every request is bounded: a big body is refused unread, a huge header
// gets 431, and a client that never finishes its headers is cut off.
func TestRequestBounds(t *testing.T) {
	s := start(t)
	token := sentToken(t, s, "reader@example.com")
	big := "List-Unsubscribe=One-Click&pad=" + strings.Repeat("x", 64<<10)
	if resp, _ := do(t, "POST", s.url+"/unsubscribe/"+token, "application/x-www-form-urlencoded", strings.NewReader(big)); resp.StatusCode != 400 {
		t.Fatalf("64 KB body: %d, want 400", resp.StatusCode)
	}
	if got := status(t, s, "reader@example.com"); got != data.StatusConfirmed {
		t.Fatalf("an oversized request unsubscribed: %q", got)
	}
	req, _ := http.NewRequest("GET", s.url+"/confirm/"+data.NewToken(), nil)
	req.Header.Set("X-Pad", strings.Repeat("x", 64<<10))
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KB header: %v %v", resp, err)
	}

	u, _ := url.Parse(s.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /confirm/x HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	began := time.Now()
	io.Copy(io.Discard, conn) // returns when the server closes
	if d := time.Since(began); d > 20*time.Second {
		t.Fatalf("a stalled request held its connection for %v", d)
	}
}

// A crowd of connections that send nothing holds at most the listener's
// limit at once; the rest wait their turn and are served as others close.
func TestListenerHoldsAtMostItsLimit(t *testing.T) {
	const limit, crowd = 3, 10
	ln, err := web.Listen("127.0.0.1:0", limit)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: ln}
	srv := web.NewServer(http.NotFoundHandler())
	go srv.Serve(counted)
	t.Cleanup(func() { srv.Close() })
	await := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if a, _ := counted.counts(); a >= n {
				return
			}
			if time.Now().After(deadline) {
				a, m := counted.counts()
				t.Fatalf("accepted %d connections (at most %d at once); want %d", a, m, n)
			}
		}
	}
	var conns []net.Conn
	for range crowd {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	await(limit)
	// Close one at a time: each makes room for exactly one more.
	for i, c := range conns {
		c.Close()
		await(min(limit+i+1, crowd))
	}
	if _, m := counted.counts(); m > limit {
		t.Fatalf("%d connections were held at once; the limit is %d", m, limit)
	}
}

// countingListener counts the connections it hands out and how many were
// open at once. A connection counts as closed just before its Close gives
// its place back, so the count is exact.
type countingListener struct {
	net.Listener
	mu                   sync.Mutex
	open, most, accepted int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.accepted++
	l.most = max(l.most, l.open)
	l.mu.Unlock()
	return &countedConn{Conn: c, l: l}, nil
}

func (l *countingListener) counts() (accepted, most int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted, l.most
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
