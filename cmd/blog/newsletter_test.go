package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"blog/internal/smtptest"
	"blog/internal/syncbuf"
	"blog/internal/termclient"
)

func writePost(t *testing.T, dir, slug, title string) {
	t.Helper()
	src := fmt.Sprintf("---\ntitle: %q\ndate: 2026-01-02\nsummary: s\n---\n\nThe body of %s.\n", title, slug)
	if err := os.WriteFile(filepath.Join(dir, slug+".md"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mailTo returns the decoded text of the first message to rcpt whose raw
// form contains marker, waiting for it.
func mailTo(t *testing.T, srv *smtptest.Server, rcpt, marker string) string {
	t.Helper()
	var found string
	srv.Wait(t, 30*time.Second, func(ms []smtptest.Message) bool {
		for _, m := range ms {
			if m.To[0] == rcpt && strings.Contains(string(m.Data), marker) {
				b, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(m.Data)))
				found = string(b)
				return true
			}
		}
		return false
	})
	return found
}

func countTo(srv *smtptest.Server, rcpt, marker string) int {
	n := 0
	for _, m := range srv.Messages() {
		if m.To[0] == rcpt && strings.Contains(string(m.Data), marker) {
			n++
		}
	}
	return n
}

// statuses runs `blog subscribers export` on the server's database.
func statuses(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(ok(t, "subscribers", "export", "--data-dir", dataDir))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r[1]
	}
	return out
}

// settledStatus runs `blog newsletter status` until no delivery of slug
// is queued any more. A mail reaches the SMTP server before the worker
// hears its 250 and records it as sent, so the mails having arrived does
// not mean the counts are final yet.
func settledStatus(t *testing.T, dataDir, slug string) result {
	t.Helper()
	inFlight := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(slug) + `\s+\S+ \S+ UTC\s+[1-9]`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := blog(t, "newsletter", "status", "--data-dir", dataDir)
		if r.code != 0 || !inFlight.MatchString(r.out) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries of %s still queued after 30s:\n%s", slug, r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	codeRE  = regexp.MustCompile(`confirm ([A-Z2-9]{4}-[A-Z2-9]{4})`)
	linkRE  = regexp.MustCompile(`http://127\.0\.0\.1:\d+/confirm/[A-Za-z0-9_-]+`)
	unsubRE = regexp.MustCompile(`List-Unsubscribe:\s+<([^>]+)>`)
)

// TestNewsletterEndToEnd runs `blog serve` with a real SMTP server and a
// posts directory: a reader subscribes in the interface and types the
// mailed code; another confirms by the link (GET changes nothing, POST
// confirms); a pending address and a third party's address get no post; a
// new post reaches every confirmed subscriber once; the one-click link
// unsubscribes. No address, code or token reaches the log.
func TestNewsletterEndToEnd(t *testing.T) {
	smtp := smtptest.Start(t)
	dataDir, postsDir := t.TempDir(), t.TempDir()
	writePost(t, postsDir, "old", "An old post")
	sshAddr, webAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--data-dir", dataDir, "--ssh-addr", sshAddr, "--http-addr", "",
			"--web-addr", webAddr, "--smtp-url", smtp.URL(), "--mail-from", "Notes <news@blog.example>",
			"--public-url", "http://" + webAddr, "--posts-dir", postsDir, "--mail-rate", "0",
			"--shutdown-grace", "1s", "--log-level", "debug"}, io.Discard, logs)
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		for _, secret := range []string{"@example.com", "/confirm/", "/unsubscribe/"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log holds %q:\n%s", secret, logs.String())
			}
		}
	}()
	key, err := termclient.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := termclient.Dial(sshAddr, key)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never answered: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// 1. In the interface: subscribe, the mail arrives, type its code.
	s, err := termclient.Open(termclient.Options{Addr: sshAddr, Signer: key, Width: 100, Height: 40, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.WaitFor("enter read", 10*time.Second))
	must(s.Type("s"))
	must(s.WaitFor("Subscribe to the newsletter", 10*time.Second))
	must(s.Type("tui@example.com\r"))
	must(s.WaitFor("Check your inbox to confirm", 10*time.Second))
	code := codeRE.FindStringSubmatch(mailTo(t, smtp, "tui@example.com", "Confirm your subscription"))
	if code == nil {
		t.Fatal("no code in the confirmation mail")
	}
	must(s.Type(code[1] + "\r"))
	must(s.WaitFor("Confirmed: new posts will come by email", 10*time.Second))

	// 2. By the link, keyless, over exec: GET shows a button, POST confirms.
	out, _, exit, err := termclient.Exec(sshAddr, nil, "subscribe link@example.com", nil)
	if err != nil || exit != 0 || !strings.Contains(out, "Check your inbox to confirm") {
		t.Fatalf("exec subscribe: %d %q %v", exit, out, err)
	}
	link := linkRE.FindString(mailTo(t, smtp, "link@example.com", "Confirm your subscription"))
	if link == "" {
		t.Fatal("no link in the confirmation mail")
	}
	resp, err := http.Get(link)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %v %v", resp, err)
	}
	resp.Body.Close()
	if got := statuses(t, dataDir)["link@example.com"]; got != "pending" {
		t.Fatalf("after GET: %q, want pending", got)
	}
	resp, err = http.Post(link, "application/x-www-form-urlencoded", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST %v %v", resp, err)
	}
	resp.Body.Close()
	if got := statuses(t, dataDir)["link@example.com"]; got != "confirmed" {
		t.Fatalf("after POST: %q, want confirmed", got)
	}

	// 3. Someone subscribes a third party's address; nobody confirms it.
	other, _ := termclient.NewSigner()
	if _, _, exit, _ := termclient.Exec(sshAddr, other, "subscribe victim@example.com", nil); exit != 0 {
		t.Fatalf("exec subscribe: %d", exit)
	}
	mailTo(t, smtp, "victim@example.com", "Confirm your subscription")
	if _, _, exit, _ := termclient.Exec(sshAddr, other, "confirm AAAA-AAAA", nil); exit != 1 {
		t.Fatalf("a wrong code: exit %d", exit)
	}

	// 4. A new post reaches the confirmed subscribers, once, and nobody else.
	writePost(t, postsDir, "fresh", "A fresh post")
	post := mailTo(t, smtp, "tui@example.com", "Subject: A fresh post")
	mailTo(t, smtp, "link@example.com", "Subject: A fresh post")
	if !strings.Contains(post, "The body of fresh.") || !strings.Contains(post, "read fresh") {
		t.Fatalf("the post mail:\n%s", post)
	}
	if n := countTo(smtp, "victim@example.com", "Subject: A fresh post") + countTo(smtp, "victim@example.com", "An old post") +
		countTo(smtp, "tui@example.com", "Subject: An old post"); n != 0 {
		t.Fatal("a post went to an unconfirmed address, or the old post was mailed")
	}
	r := settledStatus(t, dataDir, "fresh")
	if !regexp.MustCompile(`fresh\s+\S+ \S+ UTC\s+0\s+2\s+0\s+0`).MatchString(r.out) || !strings.Contains(r.out, "before the newsletter") ||
		!strings.Contains(r.out, "2 confirmed, 1 pending") {
		t.Fatalf("newsletter status:\n%s", r.out)
	}

	// 5. One click on the mail's List-Unsubscribe URL.
	var raw string
	for _, m := range smtp.Messages() {
		if m.To[0] == "tui@example.com" && strings.Contains(string(m.Data), "Subject: A fresh post") {
			raw = string(m.Data)
		}
	}
	u := unsubRE.FindStringSubmatch(raw)
	if u == nil {
		t.Fatalf("no List-Unsubscribe in\n%s", raw)
	}
	resp, err = http.Post(u[1], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("one-click: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := statuses(t, dataDir)["tui@example.com"]; got != "unsubscribed" {
		t.Fatalf("after one-click: %q", got)
	}
}

func TestSubscribersImport(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		dir := t.TempDir()
		good := filepath.Join(dir, "list.csv")
		os.WriteFile(good, []byte("name,email\nAda,ada@example.com\nGrace,Grace@Example.ORG\n\n"), 0o600)
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("ok@example.com\nnot an address\n"), 0o600)

		r := blog(t, append([]string{"subscribers", "import", bad}, b.flags...)...)
		if r.code != 1 || !strings.Contains(r.errOut, "line 2") || !strings.Contains(r.errOut, "nothing was imported") {
			t.Fatalf("bad import: exit %d, %q", r.code, r.errOut)
		}
		if out := ok(t, append([]string{"subscribers", "import", good}, b.flags...)...); !strings.Contains(out, "Read 2 addresses; 2 are now confirmed") {
			t.Fatalf("import: %q", out)
		}
		subs, _ := b.store.Subscribers(context.Background())
		if len(subs) != 2 || subs[0].Status != "confirmed" || subs[1].Email != "Grace@example.org" {
			t.Fatalf("after import: %+v", subs)
		}
		if out := ok(t, append([]string{"subscribers", "import", good}, b.flags...)...); !strings.Contains(out, "0 are now confirmed") {
			t.Fatalf("import again: %q", out)
		}
	})
}

func TestNewsletterSendAndStatus(t *testing.T) {
	on(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		if _, err := b.store.ImportSubscribers(ctx, []string{"ada@example.com", "grace@example.com"}); err != nil {
			t.Fatal(err)
		}
		out := ok(t, append([]string{"newsletter", "send", "welcome"}, b.flags...)...)
		if !strings.Contains(out, `Queued "welcome" for 2 subscribers`) {
			t.Fatalf("send: %q", out)
		}
		out = ok(t, append([]string{"newsletter", "status"}, b.flags...)...)
		if !regexp.MustCompile(`(?m)^welcome\s+\S+ \S+ UTC\s+2\s+0\s+0\s+0$`).MatchString(out) || !strings.Contains(out, "2 confirmed, 0 pending") {
			t.Fatalf("status:\n%s", out)
		}
		if r := blog(t, append([]string{"newsletter", "send", "no-such-post"}, b.flags...)...); r.code != 1 {
			t.Fatalf("send of a missing post: %d", r.code)
		}
	})
}

// --to mails one test copy now, and queues nothing.
func TestNewsletterSendTest(t *testing.T) {
	smtp := smtptest.Start(t)
	dataDir := t.TempDir()
	out := ok(t, "newsletter", "send", "welcome", "--to", "me@example.com", "--data-dir", dataDir,
		"--smtp-url", smtp.URL(), "--mail-from", "news@blog.example", "--public-url", "https://blog.example")
	if !strings.Contains(out, "Sent a test") {
		t.Fatalf("send --to: %q", out)
	}
	m := smtp.WaitN(t, 1, 10*time.Second)[0]
	if m.To[0] != "me@example.com" || !strings.Contains(string(m.Data), "Subject: [test]") {
		t.Fatalf("test mail: %v\n%s", m.To, m.Data)
	}
	// Without --smtp-url it lands in DATA-DIR/mail.
	ok(t, "newsletter", "send", "welcome", "--to", "me@example.com", "--data-dir", dataDir)
	if files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml")); len(files) != 1 {
		t.Fatalf("eml files: %v", files)
	}
}

// The SMTP password is never shown: not in errors, not in --help.
func TestSMTPPasswordNeverShown(t *testing.T) {
	for _, url := range []string{"smtp://user:hunter2@127.0.0.1:1", "smtp://user:hunter2@[::1", "ftp://user:hunter2@mail.example"} {
		r := blog(t, "newsletter", "send", "welcome", "--to", "me@example.com", "--data-dir", t.TempDir(), "--smtp-url", url)
		if r.code == 0 || strings.Contains(r.out+r.errOut, "hunter2") {
			t.Errorf("--smtp-url %s: exit %d, output %q", url, r.code, r.out+r.errOut)
		}
	}
	t.Setenv("BLOG_SMTP_URL", "smtp://user:hunter2@mail.example")
	if out := ok(t, "serve", "--help"); strings.Contains(out, "hunter2") || !strings.Contains(out, "BLOG_SMTP_URL") {
		t.Errorf("--help shows the password or lacks the setting")
	}
}
