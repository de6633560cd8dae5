package mail_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/internal/smtptest"
	"blog/mail"

	gomail "github.com/wneessen/go-mail"
)

func builder(t *testing.T) *mail.Builder {
	t.Helper()
	b, err := mail.NewBuilder(mail.Config{From: "Notes <news@blog.example>", PublicURL: "https://blog.example/",
		Title: "Notes", SSHHost: "-p 23234 blog.example"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func delivery() data.Delivery {
	return data.Delivery{ID: 42, Email: "reader@example.com", Post: data.NewsletterPost{
		Slug: "hello", Title: "Hello, world", Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Body: "Some **bold** text and `code`.\n\n```go\nfmt.Println(1)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n",
	}}
}

func sender(t *testing.T, url string) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(url, mail.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// parts reads a multipart/alternative message into its parts by type.
func parts(t *testing.T, raw []byte) (*netmail.Message, map[string]string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(body)
	}
	return msg, out
}

func TestPostMessage(t *testing.T) {
	srv := smtptest.Start(t)
	b := builder(t)
	m, err := b.Post(delivery(), "Hello, world\n\nSome bold text.", "TOKEN_abc-123")
	if err != nil {
		t.Fatal(err)
	}
	if err := sender(t, srv.URL()).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitN(t, 1, 10*time.Second)[0]
	if got.From != "news@blog.example" || len(got.To) != 1 || got.To[0] != "reader@example.com" {
		t.Fatalf("envelope %q -> %q", got.From, got.To)
	}
	msg, ps := parts(t, got.Data)
	h := msg.Header
	for name, want := range map[string]string{
		"Subject":               "Hello, world",
		"List-Unsubscribe":      "<https://blog.example/unsubscribe/TOKEN_abc-123>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               `"Notes" <newsletter.blog.example>`,
		"Message-Id":            "<delivery-42.hello@blog.example>",
		"Precedence":            "bulk",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
	text, html := ps["text/plain"], ps["text/html"]
	for _, want := range []string{"Some bold text.", "ssh -p 23234 blog.example read hello", "Unsubscribe: https://blog.example/unsubscribe/TOKEN_abc-123"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"<strong>bold</strong>", `<pre style="`, "<table style=", `href="https://blog.example/unsubscribe/TOKEN_abc-123"`, "ssh -p 23234 blog.example read hello"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<style") || strings.Contains(html, "<img") {
		t.Errorf("HTML part has raw HTML, a style block or images:\n%s", html)
	}
}

func TestConfirmationMessage(t *testing.T) {
	srv := smtptest.Start(t)
	c := data.Confirmation{Email: "reader@example.com", Code: "ABCD-EFGH", Token: "tok_123", Expires: time.Now().Add(48 * time.Hour)}
	m, err := builder(t).Confirmation(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender(t, srv.URL()).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	_, ps := parts(t, srv.WaitN(t, 1, 10*time.Second)[0].Data)
	for _, p := range []string{ps["text/plain"], ps["text/html"]} {
		for _, want := range []string{"ABCD-EFGH", "https://blog.example/confirm/tok_123", "ssh -p 23234 blog.example confirm ABCD-EFGH"} {
			if !strings.Contains(p, want) {
				t.Errorf("part lacks %q:\n%s", want, p)
			}
		}
	}
}

func post(t *testing.T, to string) *gomail.Msg {
	d := delivery()
	d.Email = to
	m, err := builder(t).Post(d, "text", "tok")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sendErr(t *testing.T, err error) *mail.Error {
	t.Helper()
	var e *mail.Error
	if !errors.As(err, &e) {
		t.Fatalf("Send = %v, want a *mail.Error", err)
	}
	if strings.Contains(e.Error(), "@") {
		t.Fatalf("the error names an address: %q", e.Error())
	}
	return e
}

func TestSMTPFailures(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Decide(func(rcpt string, n int) smtptest.Action {
		switch {
		case strings.HasPrefix(rcpt, "later") && n == 1:
			return smtptest.TempFail
		case strings.HasPrefix(rcpt, "gone"):
			return smtptest.PermFail
		case strings.HasPrefix(rcpt, "drop") && n == 1:
			return smtptest.Drop
		}
		return smtptest.Accept
	})
	s := sender(t, srv.URL())
	ctx := t.Context()

	// 4xx, then success on the same connection.
	if e := sendErr(t, s.Send(ctx, post(t, "later@example.com"))); e.Permanent || e.Reason != "451 4.3.0" {
		t.Fatalf("4xx: %+v", e)
	}
	if err := s.Send(ctx, post(t, "later@example.com")); err != nil {
		t.Fatalf("retry after 4xx: %v", err)
	}
	// 5xx is permanent.
	if e := sendErr(t, s.Send(ctx, post(t, "gone@example.com"))); !e.Permanent || e.Reason != "550 5.1.1" {
		t.Fatalf("5xx: %+v", e)
	}
	// A connection dropped mid-DATA is temporary, and the next send redials.
	if e := sendErr(t, s.Send(ctx, post(t, "drop@example.com"))); e.Permanent {
		t.Fatalf("drop: %+v", e)
	}
	if err := s.Send(ctx, post(t, "drop@example.com")); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}
	msgs := srv.WaitN(t, 2, 10*time.Second)
	if len(msgs) != 2 || msgs[0].To[0] != "later@example.com" || msgs[1].To[0] != "drop@example.com" {
		t.Fatalf("accepted %+v", msgs)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	s := sender(t, "smtp://127.0.0.1:1")
	if e := sendErr(t, s.Send(t.Context(), post(t, "a@example.com"))); e.Permanent {
		t.Fatalf("unreachable server is permanent: %+v", e)
	}
}

func TestSMTPURL(t *testing.T) {
	for _, bad := range []string{"http://mail.example", "smtp://", "smtp://mail.example:99999", "smtp://u:hunter2@[::1"} {
		_, err := mail.ParseSMTPURL(bad)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if got := mail.Redact("smtp://user:hunter2@mail.example:587"); strings.Contains(got, "hunter2") || !strings.Contains(got, "user:") {
		t.Errorf("Redact = %q", got)
	}
	if !mail.IsLoopback("127.0.0.1") || !mail.IsLoopback("::1") || !mail.IsLoopback("localhost") || mail.IsLoopback("mail.example") {
		t.Error("IsLoopback is wrong")
	}
	for url, want := range map[string]string{
		"smtp://mail.example":   "TLSMandatory",
		"smtp://127.0.0.1:2525": "TLSOpportunistic",
	} {
		if got := mail.TLSPolicyOf(t, url); got != want {
			t.Errorf("%s: TLS policy %s, want %s", url, got, want)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	f, err := mail.NewFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.Send(context.Background(), post(t, "reader@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 || !strings.HasSuffix(entries[0].Name(), ".eml") {
		t.Fatalf("files: %v", entries)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if msg, _ := parts(t, raw); msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("the file is not the message:\n%s", raw)
	}
	if st, _ := os.Stat(filepath.Join(dir, entries[0].Name())); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestDKIM(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, err := gomail.PrivKeyFromPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	s, err := mail.NewSMTP(srv.URL(), mail.SMTPOptions{DKIM: gomail.NewDKIMSigner("blog.example", "sel", key)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(t.Context(), post(t, "reader@example.com")); err != nil {
		t.Fatal(err)
	}
	raw := string(srv.WaitN(t, 1, 10*time.Second)[0].Data)
	if !strings.Contains(raw, "DKIM-Signature:") || !strings.Contains(raw, "d=blog.example") || !strings.Contains(raw, "s=sel") {
		t.Fatalf("no DKIM signature:\n%s", raw)
	}
}
