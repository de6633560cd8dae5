package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"blog/data"
	blogmail "blog/mail"
	"blog/newsletter"
	"blog/posts"
	"blog/ui/render"
	"blog/web"

	"github.com/muesli/termenv"
	gomail "github.com/wneessen/go-mail"
)

// newsletterParts are what serve runs for the newsletter: the sign-up, the
// publisher, the delivery worker and the readers' web pages.
type newsletterParts struct {
	signup    *newsletter.Signup
	worker    *newsletter.Worker
	publisher *newsletter.Publisher
	web       *http.Server
	webAddr   string
	webLn     net.Listener
	log       *slog.Logger
}

// mailSetup is the builder and a way to make senders, from the flags.
type mailSetup struct {
	build  *blogmail.Builder
	sender func() (blogmail.Sender, error)
	where  string // for the log: the redacted SMTP URL or the directory
}

func newMailSetup(cfg config, log *slog.Logger) (*mailSetup, error) {
	n := cfg.newsletter
	public := publicURL(n)
	pu, err := url.Parse(public)
	if err != nil || pu.Hostname() == "" {
		return nil, fmt.Errorf("--public-url %q: want a URL such as https://blog.example", public)
	}
	from := n.mailFrom
	if from == "" {
		host := pu.Hostname()
		if !strings.Contains(host, ".") {
			host += ".localdomain" // net/mail wants a domain-like host
		}
		from = "newsletter@" + host
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("--mail-from %q: not a mail address", from)
	}
	build, err := blogmail.NewBuilder(blogmail.Config{From: from, PublicURL: public, Title: cfg.title,
		SSHHost: displayHost(cfg.host, cfg.sshAddr)})
	if err != nil {
		return nil, err
	}
	dkim, err := dkimSigner(n, from)
	if err != nil {
		return nil, err
	}
	if n.smtpURL == "" {
		dir := filepath.Join(cfg.dataDir, "mail")
		files, err := blogmail.NewFiles(dir, nil)
		if err != nil {
			return nil, err
		}
		return &mailSetup{build: build, where: dir, sender: func() (blogmail.Sender, error) { return files, nil }}, nil
	}
	if _, err := blogmail.ParseSMTPURL(n.smtpURL); err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	return &mailSetup{build: build, where: blogmail.Redact(n.smtpURL), sender: func() (blogmail.Sender, error) {
		return blogmail.NewSMTP(n.smtpURL, blogmail.SMTPOptions{DKIM: dkim})
	}}, nil
}

// dkimSigner reads the DKIM settings; nil when there is no key.
func dkimSigner(n newsletterConfig, from string) (*gomail.DKIMSigner, error) {
	if n.dkimKey == "" {
		return nil, nil
	}
	pemBytes := []byte(n.dkimKey)
	if !strings.HasPrefix(strings.TrimSpace(n.dkimKey), "-----BEGIN") {
		b, err := os.ReadFile(n.dkimKey)
		if err != nil {
			return nil, fmt.Errorf("--dkim-key: %w", err)
		}
		pemBytes = b
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		// Never echo the key.
		return nil, errors.New("--dkim-key: not an RSA or Ed25519 private key in PEM form")
	}
	if n.dkimSelector == "" {
		return nil, errors.New("--dkim-key needs --dkim-selector")
	}
	domain := n.dkimDomain
	if domain == "" {
		addr, _ := mail.ParseAddress(from)
		domain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	}
	return gomail.NewDKIMSigner(domain, n.dkimSelector, key), nil
}

func newNewsletter(cfg config, store data.Store, lib *posts.Library, log *slog.Logger) (*newsletterParts, error) {
	if cfg.newsletter.mailRate < 0 {
		return nil, errors.New("--mail-rate cannot be negative")
	}
	ms, err := newMailSetup(cfg, log)
	if err != nil {
		return nil, err
	}
	confirmSender, err := ms.sender()
	if err != nil {
		return nil, err
	}
	postSender, err := ms.sender()
	if err != nil {
		return nil, err
	}
	if cfg.newsletter.smtpURL == "" {
		log.Warn("no --smtp-url: newsletter mail is written as .eml files instead of sent", "dir", ms.where)
	} else {
		log.Info("newsletter mail goes through", "smtp", ms.where, "rate", cfg.newsletter.mailRate)
	}
	p := &newsletterParts{log: log, webAddr: cfg.newsletter.webAddr}
	p.signup = newsletter.NewSignup(store, ms.build, confirmSender, log)
	p.worker = newsletter.NewWorker(store, ms.build, postSender, postText(), newsletter.WorkerConfig{Rate: cfg.newsletter.mailRate}, log)
	p.publisher = &newsletter.Publisher{Store: store, Posts: lib, Log: log, Queued: p.worker.Wake}
	if p.webAddr == "" {
		log.Warn("no --web-addr: the confirm and unsubscribe links in mail lead nowhere")
	} else {
		p.web = web.NewServer(nil) // the site, once the server exists (attachSite)
	}
	return p, nil
}

// postText renders a post's text part as `ssh HOST read SLUG` prints it.
func postText() func(data.NewsletterPost) string {
	cache := render.NewCache(16)
	return func(np data.NewsletterPost) string {
		sum := sha256.Sum256([]byte(np.Body))
		p := posts.Post{Slug: np.Slug, Title: np.Title, Date: np.Date, Body: np.Body, Revision: hex.EncodeToString(sum[:8])}
		out, err := cache.Render(p, 78, render.Style{Profile: termenv.Ascii, Dark: true})
		if err != nil {
			out = np.Body // the Markdown itself reads well enough
		}
		return fmt.Sprintf("%s\n%s\n\n%s", np.Title, np.Date.Format("2 Jan 2006"), strings.TrimRight(out, "\n"))
	}
}

// listen opens the web pages' listener.
func (p *newsletterParts) listen() error {
	if p.web == nil {
		return nil
	}
	ln, err := web.Listen(p.webAddr, web.MaxConns)
	if err != nil {
		return fmt.Errorf("listen web: %w", err)
	}
	p.webLn = ln
	p.log.Info("serving the readers' web pages", "web", ln.Addr().String())
	return nil
}

// start runs everything until ctx ends; the returned function stops it and
// waits (the worker records what it was sending).
func (p *newsletterParts) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.signup.Run(ctx) })
	wg.Go(func() { p.worker.Run(ctx) })
	wg.Go(func() { p.publisher.Run(ctx) })
	if p.webLn != nil {
		wg.Go(func() {
			if err := p.web.Serve(p.webLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				p.log.Error("web pages stopped", "err", err)
			}
		})
	}
	return func() {
		cancel()
		if p.web != nil {
			p.web.Close()
		}
		wg.Wait()
	}
}
