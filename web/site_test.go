package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/mail"
	"blog/newsletter"
	"blog/posts"
	"blog/web"
)

// blog is a site over the built-in posts and a real SQLite store, fed
// live events the way the server's hub feeds it: from the store's own
// event stream.
type blog struct {
	url   string
	store *sqlite.Store
	lib   *posts.Library
	site  *web.Site
}

type blogOpts struct {
	signup     web.Signup
	maxStreams int
	perIP      int
	moderator  func(string) bool
	limits     data.Limits
	conns      int // the listener's cap (0: web.MaxConns)
}

const goPost = "go-for-backend-services"

func generous() data.Limits {
	l := data.DefaultLimits()
	for _, r := range []*data.RateLimit{&l.CommentPerKey, &l.CommentPerIP, &l.SubscribePerKey, &l.SubscribePerIP} {
		r.Count = 1000
	}
	return l
}

func startBlog(t *testing.T, o blogOpts) *blog { return startBlogTBOpts(t, o) }

func startBlogTB(t testing.TB) *blog { return startBlogTBOpts(t, blogOpts{}) }

func startBlogTBOpts(t testing.TB, o blogOpts) *blog {
	t.Helper()
	if o.limits == (data.Limits{}) {
		o.limits = generous()
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "blog.db"), data.Options{Limits: o.limits, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	lib, err := posts.Embedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &blog{store: store, lib: lib}
	ln, err := web.Listen("127.0.0.1:0", o.conns)
	if err != nil {
		t.Fatal(err)
	}
	b.url = "http://" + ln.Addr().String()
	b.site = web.New(web.Config{
		Title: "Notes", Store: store, Posts: lib, Signup: o.signup, Host: "-p 2222 blog.test",
		PublicURL: "https://blog.test", Notice: "A demo: <b>cleared</b> daily.", Moderator: o.moderator,
		MaxStreams: o.maxStreams, MaxStreamsPerIP: o.perIP,
	})
	ctx, cancel := context.WithCancel(context.Background())
	events := store.Events(ctx)
	go func() {
		for ev := range events {
			b.site.Event(ev)
		}
	}()
	done := make(chan struct{})
	go func() { defer close(done); b.site.Run(ctx) }()
	srv := web.NewServer(b.site)
	go srv.Serve(ln)
	t.Cleanup(func() { cancel(); srv.Close(); <-done })
	return b
}

var signerSeq int

func (b *blog) comment(t *testing.T, name, body string) data.Comment {
	t.Helper()
	signerSeq++
	c, err := b.store.AddComment(t.Context(), data.NewComment{PostSlug: goPost, Name: name, Body: body,
		Author: data.Author{KeyFingerprint: "SHA256:Q3fa9kAbCdEfGhIjKlMnOpQrStUvWxYz0123456789" + string(rune('a'+signerSeq%26)), IP: "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// plain asks for what the test says, and unpacks nothing by itself.
var plain = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

const strictPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func TestRoutes(t *testing.T) {
	b := startBlog(t, blogOpts{signup: refusingSignup{}})
	for _, c := range []struct {
		path, ctype string
		status      int
		has         []string
	}{
		{"/", "text/html", 200, []string{"Go for Backend Services", "5 min read", `href="/tags/go"`, "0 comments", "Why teams pick Go", `class="notice"`, `rel="alternate" type="application/atom+xml"`}},
		{"/posts/" + goPost, "text/html", 200, []string{"<table>", `class="ch-chroma"`, "Comments (", "No comments yet. Be the first!", "ssh -t -p 2222 blog.test read " + goPost, `action="/subscribe"`, `property="og:title"`, `rel="canonical" href="https://blog.test/posts/` + goPost}},
		{"/tags/go", "text/html", 200, []string{"Posts tagged", "Go for Backend Services"}},
		{"/feed.xml", "application/atom+xml", 200, []string{"<feed"}},
		{"/atom.xml", "application/atom+xml", 200, []string{"<feed"}},
		{"/rss", "application/atom+xml", 200, []string{"<feed"}},
		{"/index.xml", "application/atom+xml", 200, []string{"<feed"}},
		{"/feed.xml?tag=go", "application/atom+xml", 200, []string{"term=\"go\""}},
		{"/posts/" + goPost + "/comments.xml", "application/atom+xml", 200, []string{"Comments on"}},
		{"/sitemap.xml", "application/xml", 200, []string{"https://blog.test/posts/" + goPost, "https://blog.test/tags/go"}},
		{"/robots.txt", "text/plain", 200, []string{"Sitemap: https://blog.test/sitemap.xml", "Disallow: /confirm/"}},
		{"/posts/draft-ideas", "text/html", 404, []string{"Not found"}}, // a draft
		{"/posts/nope", "text/html", 404, []string{"Not found"}},
		{"/tags/nope", "text/html", 404, nil},
		{"/feed.xml?tag=nope", "text/html", 404, nil},
		{"/posts/nope/comments.xml", "text/html", 404, nil},
		{"/posts/nope/events", "text/html", 404, nil},
		{"/wp-login.php", "text/html", 404, []string{"There is nothing here."}},
		{"/confirm/" + data.NewToken(), "text/html", 200, []string{"Confirm</button>"}},
	} {
		resp, body := get(t, b.url+c.path)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("%s: %d %q, want %d %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.status, c.ctype)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != strictPolicy {
			t.Errorf("%s: policy %q", c.path, got)
		}
		if len(resp.Cookies()) != 0 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: cookies or sniffing: %v", c.path, resp.Header)
		}
		for _, want := range c.has {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %q in\n%s", c.path, want, body)
			}
		}
	}
	// The page names its stylesheet and script by hash; both are served
	// for good, and no page refers to anything off the site.
	_, page := get(t, b.url+"/posts/"+goPost)
	for _, ref := range regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		resp, _ := get(t, b.url+ref[1])
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", ref[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	for _, m := range regexp.MustCompile(`(?:src="|rel="(?:stylesheet|icon)" href=")([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/") && !strings.HasPrefix(m[1], "data:") {
			t.Errorf("the page loads something from elsewhere: %s", m[0])
		}
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<script>") {
		t.Error("the page has inline style or script, which the policy forbids")
	}
	// The notice is the operator's text, escaped like any other.
	if !strings.Contains(page, "A demo: &lt;b&gt;cleared&lt;/b&gt; daily.") {
		t.Error("the notice is not escaped")
	}
	// HEAD has the headers and no body; other methods are refused.
	req, _ := http.NewRequest("HEAD", b.url+"/posts/"+goPost, nil)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"} {
		if resp, _ := do(t, m, b.url+"/posts/"+goPost, "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, resp.StatusCode)
		}
	}
	if resp, _ := do(t, "POST", b.url+"/posts/"+goPost, "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to a post: %d, want 405", resp.StatusCode)
	}
}

func TestCachingHeaders(t *testing.T) {
	b := startBlog(t, blogOpts{})
	u := b.url + "/posts/" + goPost
	resp, body := get(t, u)
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) || modified != "Thu, 12 Nov 2026 00:00:00 GMT" {
		t.Fatalf("validators: ETag %q Last-Modified %q", etag, modified)
	}
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("caching: %v", resp.Header)
	}
	if r, b := get(t, u, "If-None-Match", etag); r.StatusCode != 304 || b != "" {
		t.Fatalf("If-None-Match: %d %q", r.StatusCode, b)
	}
	if r, _ := get(t, u, "If-Modified-Since", modified); r.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", r.StatusCode)
	}
	if r, _ := get(t, u, "If-None-Match", `"other"`); r.StatusCode != 200 {
		t.Fatalf("a stale ETag: %d", r.StatusCode)
	}
	// Gzip: its own strong ETag, and the same page once unpacked. (The
	// transport unpacks by itself only when it asked; here the test asks.)
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	zr, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	packed, _ := io.ReadAll(zr.Body)
	zr.Body.Close()
	if zr.Header.Get("Content-Encoding") != "gzip" || zr.Header.Get("ETag") == etag || len(packed) >= len(body)/2 {
		t.Fatalf("gzip: %v, %d bytes of %d", zr.Header, len(packed), len(body))
	}
	gz, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(gz)
	if string(plain) != body {
		t.Fatal("the gzipped page differs from the plain one")
	}
	if r, _ := get(t, u, "Accept-Encoding", "gzip", "If-None-Match", zr.Header.Get("ETag")); r.StatusCode != 304 {
		t.Fatalf("If-None-Match with the gzip ETag: %d", r.StatusCode)
	}
	if r, _ := get(t, u, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent though refused with q=0")
	}
	// The same bytes are served until a change; a comment is one.
	if r, _ := get(t, u); r.Header.Get("ETag") != etag {
		t.Fatal("the ETag changed without a change")
	}
	c := b.comment(t, "ada", "A new comment")
	var after *http.Response
	waitUntil(t, func() bool {
		var page string
		after, page = get(t, u)
		return strings.Contains(page, "A new comment")
	})
	if after.Header.Get("ETag") == etag {
		t.Fatal("the ETag stayed after a comment")
	}
	if want := c.CreatedAt.UTC().Truncate(time.Second).Format(http.TimeFormat); after.Header.Get("Last-Modified") != want {
		t.Fatalf("Last-Modified %q after a comment, want %q", after.Header.Get("Last-Modified"), want)
	}
	_, list := get(t, b.url+"/")
	if !strings.Contains(list, "1 comment") {
		t.Fatal("the list does not count the comment")
	}
}

// waitUntil polls cond until it holds (20 s at most).
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20 s")
		}
	}
}

// refusingSignup stands in where no test mails anything.
type refusingSignup struct{}

func (refusingSignup) Subscribe(context.Context, string, data.Author) error { return nil }

func newSignup(t *testing.T, b *blog, smtpURL string) *newsletter.Signup {
	t.Helper()
	build, err := mail.NewBuilder(mail.Config{From: "news@blog.test", PublicURL: "https://blog.test", Title: "Notes", SSHHost: "blog.test"})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTP(smtpURL, mail.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return newsletter.NewSignup(b.store, build, sender, nil)
}

// sseEvent is one event read off a stream.
type sseEvent struct{ id, event, data string }

// openStream reads the events of a post's stream into a channel.
func openStream(t *testing.T, u string, header ...string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := (&http.Client{}).Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return resp, ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event in 20 s")
	}
	return sseEvent{}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// startBlogOn serves a second site over b's store and posts, with a
// sign-up, and returns its URL.
func startBlogOn(t *testing.T, b *blog, signup web.Signup) string {
	t.Helper()
	ln, err := web.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	site := web.New(web.Config{Title: "Notes", Store: b.store, Posts: b.lib, Signup: signup, PublicURL: "https://blog.test"})
	srv := web.NewServer(site)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
