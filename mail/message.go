// Package mail builds the newsletter's messages (multipart text and HTML,
// list headers, a fixed Message-ID per delivery) and sends them, over SMTP
// or into .eml files. It uses github.com/wneessen/go-mail; it knows nothing
// of the database.
package mail

import (
	"bytes"
	"fmt"
	"html"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"blog/data"

	gomail "github.com/wneessen/go-mail"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Config says who the mail is from and where its links point.
type Config struct {
	// From is the sender, "news@example.com" or "Blog <news@example.com>".
	From string
	// PublicURL is the base of the links in mail (https://blog.example).
	PublicURL string
	// Title names the blog in subjects, List-Id and footers.
	Title string
	// SSHHost is what readers type after "ssh" (e.g. "-p 23234 blog.example").
	SSHHost string
}

// Builder makes messages from a Config.
type Builder struct {
	cfg    Config
	from   *mail.Address
	base   *url.URL
	domain string
	md     goldmark.Markdown
}

// NewBuilder checks cfg: From must be one address and PublicURL an
// absolute http(s) URL.
func NewBuilder(cfg Config) (*Builder, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail from %q: %w", cfg.From, err)
	}
	base, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("public URL %q: want an absolute http(s) URL such as https://blog.example", cfg.PublicURL)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Builder{
		cfg: cfg, from: from, base: base, domain: domain,
		// Raw HTML in a post is dropped (goldmark's default): mail clients
		// differ too much in what they run.
		md: goldmark.New(goldmark.WithExtensions(extension.GFM)),
	}, nil
}

// Link returns PublicURL/kind/token.
func (b *Builder) Link(kind, token string) string {
	return b.base.JoinPath(kind, token).String()
}

// ListID is the List-Id header's value (RFC 2919): the title and a
// domain-like identifier under the sender's domain.
func (b *Builder) ListID() string {
	return fmt.Sprintf("%q <newsletter.%s>", b.cfg.Title, b.domain)
}

// MessageID is the fixed Message-ID of a delivery: every attempt of the same
// (post, subscriber) carries it, so a retry is recognisable.
func (b *Builder) MessageID(deliveryID int64, slug string) string {
	return fmt.Sprintf("delivery-%d.%s@%s", deliveryID, slug, b.domain)
}

// UniqueMessageID is a fresh Message-ID under the sender's domain, for
// mails that are not deliveries (confirmations, tests).
func (b *Builder) UniqueMessageID(kind string) string {
	return kind + "-" + data.NewToken()[:16] + "@" + b.domain
}

func (b *Builder) newMsg(to, subject string) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	m.FromMailAddress(b.from)
	if err := m.To(to); err != nil {
		return nil, fmt.Errorf("recipient is not a usable address")
	}
	m.Subject(subject)
	m.SetDate()
	m.SetUserAgent("blog")
	return m, nil
}

// Post builds the announcement of d's post: text is the post as `read`
// prints it, unsubscribeToken the token of this mail's one-click link.
func (b *Builder) Post(d data.Delivery, text, unsubscribeToken string) (*gomail.Msg, error) {
	m, err := b.newMsg(d.Email, d.Post.Title)
	if err != nil {
		return nil, err
	}
	m.SetMessageIDWithValue(b.MessageID(d.ID, d.Post.Slug))
	unsub := b.Link("unsubscribe", unsubscribeToken)
	m.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+unsub+">")
	m.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	m.SetGenHeaderPreformatted("List-Id", b.ListID())
	m.SetBulk()

	read := fmt.Sprintf("ssh %s read %s", b.cfg.SSHHost, d.Post.Slug)
	var plain strings.Builder
	fmt.Fprintf(&plain, "%s\n\n%s\n\n-- \n", strings.TrimRight(text, "\n"), strings.Repeat("-", 40))
	fmt.Fprintf(&plain, "Read it in your terminal: %s\n", read)
	fmt.Fprintf(&plain, "You get this because you subscribed to %s.\nUnsubscribe: %s\n", b.cfg.Title, unsub)
	m.SetBodyString(gomail.TypeTextPlain, plain.String())

	body, err := b.html(d.Post.Body)
	if err != nil {
		return nil, err
	}
	footer := fmt.Sprintf(`<p style="%s">Read it in your terminal: <code style="%s">%s</code><br>You get this because you subscribed to %s. <a href="%s" style="%s">Unsubscribe</a></p>`,
		styleFooter, styleCode, html.EscapeString(read), html.EscapeString(b.cfg.Title), html.EscapeString(unsub), styleLink)
	m.AddAlternativeString(gomail.TypeTextHTML, page(d.Post.Title, `<h1 style="`+styleH1+`">`+html.EscapeString(d.Post.Title)+`</h1>`+body+footer))
	return m, nil
}

// Confirmation builds the double opt-in mail: the code to type over SSH and
// the link whose page has the button.
func (b *Builder) Confirmation(c data.Confirmation) (*gomail.Msg, error) {
	m, err := b.newMsg(c.Email, "Confirm your subscription to "+b.cfg.Title)
	if err != nil {
		return nil, err
	}
	m.SetMessageIDWithValue(b.UniqueMessageID("confirm"))
	link := b.Link("confirm", c.Token)
	valid := c.Expires.UTC().Format("2 Jan 2006 15:04 MST")
	var plain strings.Builder
	fmt.Fprintf(&plain, "Someone, hopefully you, asked to get new posts of %s at this address.\n\n", b.cfg.Title)
	fmt.Fprintf(&plain, "To confirm, type this code in the sign-up form or run\n\n    ssh %s confirm %s\n\n", b.cfg.SSHHost, c.Code)
	fmt.Fprintf(&plain, "or open this link and press the button:\n\n    %s\n\n", link)
	fmt.Fprintf(&plain, "The code and the link work until %s.\nIf you did not ask, ignore this mail: nothing will be sent to you.\n", valid)
	m.SetBodyString(gomail.TypeTextPlain, plain.String())
	h := fmt.Sprintf(`<h1 style="%s">Confirm your subscription</h1>
<p style="%s">Someone, hopefully you, asked to get new posts of %s at this address.</p>
<p style="%s">Your code: <strong style="font-size:20px;letter-spacing:2px">%s</strong><br>Type it in the sign-up form, or run <code style="%s">ssh %s confirm %s</code></p>
<p style="%s"><a href="%s" style="%s">Confirm in your browser</a></p>
<p style="%s">The code and the link work until %s. If you did not ask, ignore this mail: nothing will be sent to you.</p>`,
		styleH1, styleP, html.EscapeString(b.cfg.Title), styleP, html.EscapeString(c.Code), styleCode,
		html.EscapeString(b.cfg.SSHHost), html.EscapeString(c.Code), styleP, html.EscapeString(link), styleLink, styleFooter, valid)
	m.AddAlternativeString(gomail.TypeTextHTML, page("Confirm your subscription", h))
	return m, nil
}

// Inline styles: many mail clients drop <style> blocks, so every element
// carries its own. Nothing depends on images.
const (
	styleBody    = "margin:0;padding:24px;background:#ffffff;color:#1f2328;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.55"
	styleWrap    = "max-width:640px;margin:0 auto"
	styleH1      = "font-size:26px;line-height:1.25;margin:0 0 16px"
	styleH2      = "font-size:21px;line-height:1.3;margin:28px 0 12px"
	styleH3      = "font-size:18px;margin:24px 0 8px"
	styleP       = "margin:0 0 16px"
	styleLink    = "color:#0969da"
	styleCode    = "font-family:Menlo,Consolas,monospace;font-size:14px;background:#f3f4f6;padding:1px 4px;border-radius:4px"
	stylePre     = "font-family:Menlo,Consolas,monospace;font-size:13px;line-height:1.45;background:#f3f4f6;padding:12px;border-radius:6px;overflow:auto;white-space:pre"
	styleQuote   = "margin:0 0 16px;padding:0 12px;border-left:4px solid #d0d7de;color:#57606a"
	styleTable   = "border-collapse:collapse;margin:0 0 16px"
	styleCell    = "border:1px solid #d0d7de;padding:6px 10px;text-align:left"
	styleFooter  = "margin:32px 0 0;padding-top:12px;border-top:1px solid #d0d7de;color:#57606a;font-size:13px"
	styleListing = "margin:0 0 16px;padding-left:24px"
)

// inline adds the style of each tag goldmark writes.
var inline = strings.NewReplacer(
	"<h1>", `<h2 style="`+styleH2+`">`, "</h1>", "</h2>",
	"<h2>", `<h2 style="`+styleH2+`">`,
	"<h3>", `<h3 style="`+styleH3+`">`,
	"<p>", `<p style="`+styleP+`">`,
	"<a ", `<a style="`+styleLink+`" `,
	"<pre>", `<pre style="`+stylePre+`">`,
	"<code>", `<code style="`+styleCode+`">`,
	"<blockquote>", `<blockquote style="`+styleQuote+`">`,
	"<table>", `<table style="`+styleTable+`">`,
	"<th>", `<th style="`+styleCell+`">`,
	"<td>", `<td style="`+styleCell+`">`,
	`<th style="text-align`, `<th style="`+styleCell+`;text-align`,
	`<td style="text-align`, `<td style="`+styleCell+`;text-align`,
	"<ul>", `<ul style="`+styleListing+`">`,
	"<ol>", `<ol style="`+styleListing+`">`,
)

// html renders a post's Markdown; a post's own "# Title" becomes a second
// level heading under the mail's title.
func (b *Builder) html(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := b.md.Convert([]byte(markdown), &buf); err != nil {
		return "", fmt.Errorf("render mail HTML: %w", err)
	}
	out := inline.Replace(buf.String())
	// Code inside <pre> keeps the block's look, not the inline chip.
	out = strings.ReplaceAll(out, `<pre style="`+stylePre+`"><code style="`+styleCode+`"`, `<pre style="`+stylePre+`"><code`)
	return out, nil
}

func page(title, inner string) string {
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>` +
		html.EscapeString(title) + `</title></head><body style="` + styleBody + `"><div style="` + styleWrap + `">` +
		inner + `</div></body></html>`
}

// now is overridable in tests of the file transport's names.
var now = time.Now
