package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/internal/smtptest"
	"blog/web"
)

// hostile is what visitors may write: the terminal attacks of the
// comments tests, and markup meant for a browser or a feed reader.
var hostile = []string{
	"evil\x1b]52;c;cm0gLXJmIH4=\x07 \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b[2J\x1b[H \u202egnirts\u202c zero\u200bwidth",
	"<script>alert(1)</script>",
	`"><img src=x onerror=alert(1)>`,
	"</p></article><svg onload=alert(1)>",
	"<a href=\"javascript:alert(1)\">click</a>",
	"]]></content><entry><title>forged</title></entry>",
	"{{.}} ${alert(1)} <!-- x --> &amp; &lt;",
}

var hostileNames = []string{`<b>ada</b>`, `"onmouseover="alert(1)`, "<script>x</script>"}

// markup is what must never appear as markup from a visitor.
var markup = regexp.MustCompile(`<script>alert|<img src=x|<svg|<b>ada|onmouseover="alert|<script>x|<a href="javascript|<entry><title>forged`)

func TestHostileCommentsAreEscaped(t *testing.T) {
	b := startBlog(t, blogOpts{})
	page := b.url + "/posts/" + goPost
	_, before := get(t, page)
	since := dataSince(t, before)
	resp, events := openStream(t, page+"/events?since="+since)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	var stored []data.Comment
	for i, body := range hostile {
		stored = append(stored, b.comment(t, hostileNames[i%len(hostileNames)], body))
	}
	for range hostile {
		ev := next(t, events)
		var d struct {
			ID   int64  `json:"id"`
			HTML string `json:"html"`
		}
		if ev.event != "comment" || json.Unmarshal([]byte(ev.data), &d) != nil {
			t.Fatalf("event %+v", ev)
		}
		if markup.MatchString(d.HTML) || strings.Contains(d.HTML, "\x1b") || strings.Contains(d.HTML, "\u202e") {
			t.Errorf("a live comment carries markup or escapes: %s", d.HTML)
		}
	}
	var html string
	waitUntil(t, func() bool {
		_, html = get(t, page)
		return strings.Count(html, `class="comment"`) == len(hostile)
	})
	if m := markup.FindString(html); m != "" {
		t.Fatalf("the page carries a visitor's markup %q", m)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;ada&lt;/b&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "{{.}} ${alert(1)} &lt;!-- x --&gt; &amp;amp; &amp;lt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks the escaped %q", want)
		}
	}
	if strings.ContainsAny(html, "\x1b\u202e\u200b") {
		t.Error("the page carries terminal escapes or invisible characters")
	}
	// The feed carries each comment as text, exactly as stored.
	_, feed := get(t, page+"/comments.xml")
	f := parseAtom(t, feed)
	if len(f.Entries) != len(hostile) {
		t.Fatalf("%d entries", len(f.Entries))
	}
	for i, e := range f.Entries {
		want := stored[len(stored)-1-i]
		if e.Content.Value != data.Displayable(want.Body) || e.Content.Type != "text" {
			t.Errorf("entry %d: %q, want %q", i, e.Content.Value, want.Body)
		}
	}
}

// dataSince is the stream position a page was rendered at.
func dataSince(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`data-since="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page has no stream position")
	}
	return m[1]
}

func TestLiveCommentsAndReconnect(t *testing.T) {
	b := startBlog(t, blogOpts{})
	page := b.url + "/posts/" + goPost
	_, html := get(t, page)
	// A comment added after the page was read, before its stream opened,
	// arrives: the stream starts where the page was rendered.
	c1 := b.comment(t, "ada", "one")
	waitUntil(t, func() bool { _, p := get(t, page); return strings.Contains(p, `id="c`+itoa(c1.ID)+`"`) })
	resp, events := openStream(t, page+"/events?since="+dataSince(t, html))
	if resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("stream headers: %v", resp.Header)
	}
	ev := next(t, events)
	if ev.event != "comment" || !strings.Contains(ev.data, `"id":`+itoa(c1.ID)) || !strings.Contains(ev.data, "one") {
		t.Fatalf("first event: %+v", ev)
	}
	first := ev.id
	// A comment on another post is not this page's.
	if _, err := b.store.AddComment(t.Context(), data.NewComment{PostSlug: "welcome", Body: "elsewhere",
		Author: data.Author{KeyFingerprint: "SHA256:zzzzzzzzzz", IP: "192.0.2.9"}}); err != nil {
		t.Fatal(err)
	}
	c2 := b.comment(t, "bob", "two")
	if ev = next(t, events); !strings.Contains(ev.data, "two") {
		t.Fatalf("second event: %+v", ev)
	}
	// Hidden and deleted comments go away live.
	if err := b.store.SetHidden(t.Context(), c1.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	if ev = next(t, events); ev.event != "remove" || ev.data != `{"id":`+itoa(c1.ID)+`}` {
		t.Fatalf("hide: %+v", ev)
	}
	if err := b.store.DeleteComment(t.Context(), c2.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if ev = next(t, events); ev.event != "remove" || ev.data != `{"id":`+itoa(c2.ID)+`}` {
		t.Fatalf("delete: %+v", ev)
	}
	// Shown again: the page takes the thread afresh, with it in.
	if err := b.store.SetHidden(t.Context(), c1.ID, false, "test"); err != nil {
		t.Fatal(err)
	}
	if ev = next(t, events); ev.event != "thread" || !strings.Contains(ev.data, `id=\"c`+itoa(c1.ID)) || strings.Contains(ev.data, "two") {
		t.Fatalf("unhide: %+v", ev)
	}
	last := ev.id

	// A browser reconnecting with Last-Event-ID gets exactly what came
	// after it, in order.
	_, replay := openStream(t, page+"/events", "Last-Event-ID", first)
	for _, want := range []string{"comment", "remove", "remove", "thread"} {
		if ev = next(t, replay); ev.event != want {
			t.Fatalf("replay: %+v, want %s", ev, want)
		}
	}
	if ev.id != last {
		t.Fatalf("replay ended at %s, want %s", ev.id, last)
	}
	// Nothing more until something happens: then just that.
	c3 := b.comment(t, "cy", "three")
	if ev = next(t, replay); ev.event != "comment" || !strings.Contains(ev.data, `"id":`+itoa(c3.ID)) {
		t.Fatalf("after the replay: %+v", ev)
	}
	// An id from another process (or a restart) reloads the thread.
	_, foreign := openStream(t, page+"/events", "Last-Event-ID", "0123456789ab.5")
	if ev = next(t, foreign); ev.event != "thread" || !strings.Contains(ev.data, "three") || !strings.Contains(ev.data, "one") {
		t.Fatalf("foreign id: %+v", ev)
	}
	// So does one of a silly length.
	_, silly := openStream(t, page+"/events", "Last-Event-ID", strings.Repeat("9", 4000))
	if ev = next(t, silly); ev.event != "thread" {
		t.Fatalf("silly id: %+v", ev)
	}
}

// The live streams are capped in all and per address; beyond the cap a
// page is told to come back later (and works without its live updates).
func TestStreamCaps(t *testing.T) {
	b := startBlog(t, blogOpts{maxStreams: 3, perIP: 2})
	u := b.url + "/posts/" + goPost + "/events"
	var open []context.CancelFunc
	stream := func(header ...string) int {
		req, _ := http.NewRequest("GET", u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			cancel()
			return resp.StatusCode
		}
		open = append(open, cancel)
		return 200
	}
	defer func() {
		for _, c := range open {
			c()
		}
	}()
	for i := range 2 {
		if code := stream(); code != 200 {
			t.Fatalf("stream %d: %d", i, code)
		}
	}
	if code := stream(); code != http.StatusServiceUnavailable {
		t.Fatalf("a third stream from one address: %d, want 503", code)
	}
	// The proxy beside the server names other visitors.
	if code := stream("X-Forwarded-For", "198.51.100.1"); code != 200 {
		t.Fatalf("another visitor: %d", code)
	}
	if code := stream("X-Forwarded-For", "198.51.100.2"); code != http.StatusServiceUnavailable {
		t.Fatalf("past the cap: %d, want 503", code)
	}
	// A closed stream gives its place back.
	open[0]()
	open = open[1:]
	waitUntil(t, func() bool { return stream("X-Forwarded-For", "198.51.100.3") == 200 })
}

func TestSubscribeForm(t *testing.T) {
	mails := smtptest.Start(t)
	b := startBlog(t, blogOpts{})
	signup := newSignup(t, b, mails.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go signup.Run(ctx)
	// A second site over the same store, with the sign-up.
	b2 := startBlogOn(t, b, signup)
	form := func(body string) (*http.Response, string) {
		return do(t, "POST", b2+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader(body))
	}
	resp, page := form("email=reader%40example.com")
	if resp.StatusCode != 200 || !strings.Contains(page, "Check your inbox to confirm") || len(resp.Cookies()) != 0 {
		t.Fatalf("subscribe: %d\n%s", resp.StatusCode, page)
	}
	msgs := mails.WaitN(t, 1, 20e9)
	if msgs[0].To[0] != "reader@example.com" || !strings.Contains(string(msgs[0].Data), "https://blog.test/confirm/") {
		t.Fatalf("mail: %+v", msgs[0].To)
	}
	// The same answer for an address already waiting: nobody learns who
	// is on the list.
	again, page2 := form("email=reader%40example.com")
	if again.StatusCode != 200 || page2 != page {
		t.Fatalf("again: %d", again.StatusCode)
	}
	if resp, page := form("email=not-an-address"); resp.StatusCode != 400 || !strings.Contains(page, "does not look like an email address") {
		t.Fatalf("a bad address: %d", resp.StatusCode)
	}
	// A body over the bound is refused unread.
	if resp, _ := form("email=a%40b.example&pad=" + strings.Repeat("x", 64<<10)); resp.StatusCode != 400 {
		t.Fatalf("a 64 KB form: %d, want 400", resp.StatusCode)
	}
	if n := len(mails.Messages()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

// The form goes through the store's per-IP limit on subscribing.
func TestSubscribeFormIsRateLimited(t *testing.T) {
	l := generous()
	l.SubscribePerIP = data.RateLimit{Count: 2, Window: 3600e9}
	b := startBlog(t, blogOpts{limits: l})
	b2 := startBlogOn(t, b, newSignup(t, b, smtptest.Start(t).URL()))
	for i := range 3 {
		resp, _ := do(t, "POST", b2+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader("email=r"+itoa(int64(i))+"%40example.com"))
		want := 200
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want || (want == 429 && resp.Header.Get("Retry-After") == "") {
			t.Fatalf("sign-up %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

func TestRequestLimits(t *testing.T) {
	b := startBlog(t, blogOpts{})
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/posts/" + strings.Repeat("a", 3000), http.StatusRequestURITooLong},
		{"/feed.xml?tag=" + strings.Repeat("a", 300), http.StatusRequestURITooLong},
		{"/feed.xml?a=1&b=2&c=3&d=4&e=5", http.StatusBadRequest},
		{"/feed.xml?a=1;b=2;c=3;d=4;e=5", http.StatusBadRequest},
		{"/feed.xml?utm_source=x", http.StatusOK}, // unknown parameters change nothing
	} {
		if resp, _ := get(t, b.url+c.path); resp.StatusCode != c.status {
			t.Errorf("%.60s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
	}
}

// A stream outlives the server's whole-request timeouts (10 s each in
// web.NewServer; shortened here): it lifts the read deadline and moves
// the write deadline on with each frame.
func TestStreamOutlivesRequestTimeouts(t *testing.T) {
	b := startBlog(t, blogOpts{})
	ln, err := web.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	srv := &http.Server{Handler: b.site, ReadHeaderTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	opened := time.Now()
	_, events := openStream(t, "http://"+ln.Addr().String()+"/posts/"+goPost+"/events")
	waitUntil(t, func() bool { return time.Since(opened) > 4*timeout })
	b.comment(t, "ada", "still here")
	if ev := next(t, events); ev.event != "comment" || !strings.Contains(ev.data, "still here") {
		t.Fatalf("after the timeouts: %+v", ev)
	}
}
