package main

import (
	"context"
	"net"

	"blog/data"
	"blog/posts"
	"blog/server"
	"blog/web"

	gossh "golang.org/x/crypto/ssh"
)

// publicURL is the address readers reach the web pages at: --public-url,
// else http://localhost with the --web-addr port.
func publicURL(n newsletterConfig) string {
	if n.publicURL != "" {
		return n.publicURL
	}
	public := "http://localhost"
	if _, port, err := net.SplitHostPort(n.webAddr); err == nil && port != "" && port != "80" {
		public += ":" + port
	}
	return public
}

// attachSite serves the web edition on the readers' address: the posts,
// their comments (live from srv's hub), the feeds and the newsletter's
// pages. It runs until ctx ends or the returned function is called.
func (p *newsletterParts) attachSite(ctx context.Context, cfg config, scfg server.Config, lib *posts.Library, store data.Store, srv *server.Server) (stop func()) {
	if p.web == nil {
		return func() {}
	}
	mods := make(map[string]bool, len(scfg.AdminKeys))
	for _, k := range scfg.AdminKeys {
		mods[gossh.FingerprintSHA256(k.Key)] = true
	}
	site := web.New(web.Config{
		Title:     scfg.Title,
		Store:     store,
		Log:       scfg.Log,
		Posts:     lib,
		Signup:    p.signup,
		Host:      scfg.Host,
		PublicURL: publicURL(cfg.newsletter),
		Notice:    scfg.Notice,
		Moderator: func(fp string) bool { return mods[fp] },
	})
	p.web.Handler = site
	unwatch := srv.Watch(site.Event)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); site.Run(ctx) }()
	return func() { unwatch(); cancel(); <-done }
}
