package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/internal/smtptest"
	"blog/internal/termclient"
	"blog/mail"
	"blog/newsletter"
	"blog/posts"
	"blog/server"
	"blog/web"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser, or skips the test saying why; under CI a
// missing browser fails it (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and no Chromium is installed (apt-get install -y chromium)")
	}
	t.Skip("no Chromium on this machine (apt-get install -y chromium); the browser test is skipped")
	return ""
}

// whole is the real thing: the SSH server with a SQLite store, and the
// web site fed by the server's hub, as cmd/blog wires them.
type whole struct {
	ssh, web string
	store    data.Store
	mails    *smtptest.Server
}

func startWhole(t *testing.T) *whole {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "blog.db"), data.Options{Limits: generous(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	lib, err := posts.Embedded(quiet)
	if err != nil {
		t.Fatal(err)
	}
	mails := smtptest.Start(t)
	build, err := mail.NewBuilder(mail.Config{From: "news@blog.test", PublicURL: "https://blog.test", Title: "Test Blog", SSHHost: "blog.test"})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTP(mails.URL(), mail.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	signup := newsletter.NewSignup(store, build, sender, quiet)
	srv, err := server.New(server.Config{SSHAddr: "127.0.0.1:0", DataDir: t.TempDir(), Title: "Test Blog",
		Host: "blog.test", Log: quiet, Newsletter: signup}, lib, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	site := web.New(web.Config{Title: "Test Blog", Store: store, Log: quiet, Posts: lib, Signup: signup,
		Host: "-p " + portOf(srv.SSHAddr()) + " localhost", PublicURL: "https://blog.test"})
	stop := srv.Watch(site.Event)
	ln, err := web.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	hs := web.NewServer(site)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ctx) })
	wg.Go(func() { site.Run(ctx) })
	wg.Go(func() { signup.Run(ctx) })
	wg.Go(func() { hs.Serve(ln) })
	t.Cleanup(func() { stop(); cancel(); hs.Close(); wg.Wait() })
	return &whole{ssh: srv.SSHAddr().String(), web: "http://" + ln.Addr().String(), store: store, mails: mails}
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// The post page in a real browser: the table and the highlighted code,
// a comment posted over SSH appearing without a reload and going again
// when a moderator hides it, the subscribe form mailing its
// confirmation, screenshots at 360 and 1,280 px, and not one console
// error (a Content-Security-Policy violation is one).
func TestBrowser(t *testing.T) {
	path := chromium(t)
	w := startWhole(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// Every warning, error and exception the page reports, CSP
	// violations included.
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	read := make(chan struct{})
	go func() {
		defer close(read)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleWarning || m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()

	page := w.web + "/posts/" + goPost
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(".body table")),
	); err != nil {
		t.Fatal(err)
	}
	cells := evaluate[int](t, ctx, `document.querySelectorAll(".body table td").length`)
	keywords := evaluate[int](t, ctx, `document.querySelectorAll("pre.ch-chroma span.ch-kd").length`)
	if cells < 10 || keywords == 0 {
		t.Fatalf("the table has %d cells and the code %d highlighted keywords", cells, keywords)
	}
	evaluate[bool](t, ctx, `window.notReloaded = true`)

	// A comment over the real SSH server appears on the open page.
	signer, err := termclient.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, status, err := termclient.Exec(w.ssh, signer, "comment "+goPost+" --name ada", strings.NewReader("Hello from a terminal <b>!</b>"))
	if err != nil || status != 0 {
		t.Fatalf("comment over SSH: %d %v %s %s", status, err, out, errOut)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#comments article.comment"))); err != nil {
		t.Fatal(err)
	}
	text := evaluate[string](t, ctx, `document.querySelector("#comments article.comment").textContent`)
	count := evaluate[string](t, ctx, `document.getElementById("comment-count").textContent`)
	if !strings.Contains(text, "ada #") || !strings.Contains(text, " · just now") || !strings.Contains(text, "Hello from a terminal <b>!</b>") || count != "1" || !evaluate[bool](t, ctx, `window.notReloaded === true`) {
		t.Fatalf("live comment: %q, count %q", text, count)
	}
	// A moderator hides it: it goes, still without a reload.
	cs, err := w.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments: %v %v", cs, err)
	}
	if err := w.store.SetHidden(context.Background(), cs[0].ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS("#comments article.comment"))); err != nil {
		t.Fatal(err)
	}
	if count = evaluate[string](t, ctx, `document.getElementById("comment-count").textContent`); count != "0" || !evaluate[bool](t, ctx, `window.notReloaded === true`) {
		t.Fatalf("after hiding: count %q", count)
	}

	// A comment, a reply to it and an edit of the reply, all over SSH:
	// the reply appears under its parent and then changes, marked edited.
	ssh := func(cmd, text string) {
		t.Helper()
		out, errOut, status, err := termclient.Exec(w.ssh, signer, cmd, strings.NewReader(text))
		if err != nil || status != 0 {
			t.Fatalf("%s over SSH: %d %v %s %s", cmd, status, err, out, errOut)
		}
	}
	ssh("comment "+goPost+" --name ada", "A question")
	waitBrowser(t, ctx, `document.querySelectorAll("#comments article.comment").length === 1`)
	cs, err = w.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments: %v %v", cs, err)
	}
	parent := "c" + strconv.FormatInt(cs[0].ID, 10)
	ssh("comment "+goPost+" --name ada --reply-to "+strconv.FormatInt(cs[0].ID, 10), "An answer")
	reply := `document.querySelector("#` + parent + ` > .replies > article.reply")`
	waitBrowser(t, ctx, reply+` !== null && `+reply+`.textContent.includes("An answer")`)
	cs, err = w.store.Comments(context.Background(), goPost, data.ListOptions{})
	if err != nil || len(cs) != 2 {
		t.Fatalf("comments: %v %v", cs, err)
	}
	ssh("edit "+strconv.FormatInt(cs[1].ID, 10), "A better answer")
	waitBrowser(t, ctx, reply+`.textContent.includes("A better answer") && `+reply+`.querySelector(".edited time") !== null`)
	if count = evaluate[string](t, ctx, `document.getElementById("comment-count").textContent`); count != "2" || !evaluate[bool](t, ctx, `window.notReloaded === true`) {
		t.Fatalf("after the reply and the edit: count %q", count)
	}

	// Screenshots, narrow and wide; nothing wider than a phone.
	// BLOG_SCREENSHOTS keeps them somewhere that outlives the test.
	dir := os.Getenv("BLOG_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, width := range []int64{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("post-%d.png", width))
		if err := os.WriteFile(name, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", name, len(png))
		if width == 360 && evaluate[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
			wide := evaluate[string](t, ctx, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest("table, pre")).slice(0, 5).map(e => e.tagName + "." + e.className).join(" ")`)
			t.Errorf("the page is wider than a 360 px screen: %s", wide)
		}
	}

	// The subscribe form sends the confirmation mail.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "reader@example.com"),
		chromedp.Click(chromedp.CSS(`form.inline button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	); err != nil {
		t.Fatal(err)
	}
	waitBrowser(t, ctx, `document.querySelector("main h1") && document.querySelector("main h1").textContent === "Check your inbox to confirm"`)
	msgs := w.mails.WaitN(t, 1, 20*time.Second)
	if msgs[0].To[0] != "reader@example.com" {
		t.Fatalf("mail to %v", msgs[0].To)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitBrowser polls a condition in the page until it holds.
func waitBrowser(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not in 20 s: %s", cond)
		}
	}
}
