// Package web serves the pages readers reach in a browser: the
// newsletter's confirmation and one-click unsubscribe links (and, later,
// the web edition). It listens apart from the operators' endpoints, so
// an operator can expose one without the other.
package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	"blog/data"

	"golang.org/x/net/netutil"
)

// Store is what the pages need from storage.
type Store interface {
	ConfirmToken(ctx context.Context, token string) error
	UnsubscribeToken(ctx context.Context, token string) error
}

// Config is the pages' settings.
type Config struct {
	Title string // the blog's title
	Store Store
	Log   *slog.Logger
}

// Bounds on every request: a form post is a few dozen bytes.
const (
	maxBody        = 4 << 10
	maxHeaderBytes = 8 << 10
	opTimeout      = 5 * time.Second
)

// MaxConns is how many connections the pages serve at once. Past it, new
// connections wait in the listen queue until one closes, so a crowd of
// idle or slow clients costs at most this many goroutines and buffers.
const MaxConns = 512

// Listen opens the pages' listener, holding at most maxConns connections
// at once (MaxConns when maxConns is 0 or less).
func Listen(addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if maxConns <= 0 {
		maxConns = MaxConns
	}
	return netutil.LimitListener(ln, maxConns), nil
}

// NewServer is an http.Server for h with every phase of a request bounded,
// so slow or huge requests cannot pile up.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

type pages struct {
	cfg Config
}

// Handler serves /confirm/TOKEN and /unsubscribe/TOKEN. A GET only shows
// a page with a button (mail scanners follow links and must change
// nothing); the POST does it. The one-click unsubscribe (RFC 8058) is a POST
// with List-Unsubscribe=One-Click and answers 200 at once, without a
// redirect or a cookie.
func Handler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &pages{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /confirm/{token}", p.confirmPage)
	mux.HandleFunc("POST /confirm/{token}", p.confirm)
	mux.HandleFunc("GET /unsubscribe/{token}", p.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{token}", p.unsubscribe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, http.StatusNotFound, view{Heading: "Not found", Text: "There is nothing here."})
	})
	return headers(mux)
}

// headers sets what every page needs: no caching (the URLs hold tokens),
// no referrer (so the token does not leak to a linked site), and a policy
// that allows nothing but the page's own inline styles and form.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

type view struct {
	Title    string
	Heading  string
	Text     string
	Button   string // when set, the page is a form that posts to itself
	OneClick bool   // the form carries List-Unsubscribe=One-Click
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Heading}} · {{.Title}}</title></head>
<body style="margin:0;padding:32px 16px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328;background:#fff;line-height:1.5">
<main style="max-width:520px;margin:0 auto">
<p style="color:#57606a;margin:0 0 8px">{{.Title}}</p>
<h1 style="font-size:24px;margin:0 0 16px">{{.Heading}}</h1>
<p style="margin:0 0 24px">{{.Text}}</p>
{{if .Button}}<form method="post">{{if .OneClick}}<input type="hidden" name="List-Unsubscribe" value="One-Click">{{end}}
<button type="submit" style="font-size:16px;padding:10px 20px;border:0;border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer">{{.Button}}</button>
</form>{{end}}
</main></body></html>
`))

func (p *pages) render(w http.ResponseWriter, status int, v view) {
	v.Title = p.cfg.Title
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		p.cfg.Log.Debug("web: writing a page failed", "err", err)
	}
}

// token returns the request's token if it has a token's shape; nothing
// longer than data.MaxTokenLen reaches the database.
func (p *pages) token(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.PathValue("token")
	if !data.ValidToken(t) {
		p.render(w, http.StatusNotFound, view{Heading: "This link is not valid", Text: "Check that the whole link from the mail was opened."})
		return "", false
	}
	return t, true
}

func (p *pages) confirmPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.token(w, r); !ok {
		return
	}
	p.render(w, http.StatusOK, view{Heading: "Confirm your subscription",
		Text: "Press the button to get new posts by email. Every mail has a link to unsubscribe.", Button: "Confirm"})
}

func (p *pages) confirm(w http.ResponseWriter, r *http.Request) {
	t, ok := p.token(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	switch err := p.cfg.Store.ConfirmToken(ctx, t); {
	case errors.Is(err, data.ErrNotFound):
		p.render(w, http.StatusNotFound, view{Heading: "This link has expired",
			Text: "Confirmation links work for 48 hours. Subscribe again over SSH for a new one."})
	case err != nil:
		p.unavailable(w, err)
	default:
		p.render(w, http.StatusOK, view{Heading: "Subscribed", Text: "Thank you: new posts will come by email."})
	}
}

func (p *pages) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.token(w, r); !ok {
		return
	}
	p.render(w, http.StatusOK, view{Heading: "Unsubscribe",
		Text: "Press the button and no more posts will be mailed to this address.", Button: "Unsubscribe", OneClick: true})
}

// unsubscribe is the one-click POST. The body must say
// List-Unsubscribe=One-Click, urlencoded or multipart, as RFC 8058 has it.
func (p *pages) unsubscribe(w http.ResponseWriter, r *http.Request) {
	t, ok := p.token(w, r)
	if !ok {
		return
	}
	if !oneClick(r) {
		p.render(w, http.StatusBadRequest, view{Heading: "Nothing was changed",
			Text: "An unsubscribe request must say List-Unsubscribe=One-Click.", Button: "Unsubscribe", OneClick: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	switch err := p.cfg.Store.UnsubscribeToken(ctx, t); {
	case errors.Is(err, data.ErrNotFound):
		p.render(w, http.StatusNotFound, view{Heading: "This link is not valid",
			Text: "Check that the whole link from the mail was opened."})
	case err != nil:
		p.unavailable(w, err)
	default:
		p.render(w, http.StatusOK, view{Heading: "Unsubscribed", Text: "No more posts will be mailed to this address."})
	}
}

func oneClick(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		// The body is already capped at maxBody; nothing goes to disk.
		err = r.ParseMultipartForm(maxBody)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	default:
		return false
	}
	return err == nil && r.PostForm.Get("List-Unsubscribe") == "One-Click"
}

func (p *pages) unavailable(w http.ResponseWriter, err error) {
	p.cfg.Log.Warn("web: the database did not answer", "err", err)
	w.Header().Set("Retry-After", "30")
	p.render(w, http.StatusServiceUnavailable, view{Heading: "Please try again shortly",
		Text: "The blog cannot reach its database right now. Nothing was changed."})
}
