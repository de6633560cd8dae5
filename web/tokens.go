package web

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"blog/data"
)

// The newsletter's links: /confirm/TOKEN and /unsubscribe/TOKEN. A GET
// only shows a page with a button (mail scanners follow links and must
// change nothing); the POST does it. The one-click unsubscribe (RFC 8058)
// is a POST with List-Unsubscribe=One-Click and answers 200 at once,
// without a redirect or a cookie. These pages are never cached, and send
// no referrer, so a token does not leak.

func noStore(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	}
}

// token returns the request's token if it has a token's shape; nothing
// longer than data.MaxTokenLen reaches the database.
func (s *Site) token(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.PathValue("token")
	if !data.ValidToken(t) {
		s.message(w, http.StatusNotFound, message{Heading: "This link is not valid", Text: "Check that the whole link from the mail was opened."})
		return "", false
	}
	return t, true
}

func (s *Site) confirmPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.token(w, r); !ok {
		return
	}
	s.message(w, http.StatusOK, message{Heading: "Confirm your subscription",
		Text: "Press the button to get new posts by email. Every mail has a link to unsubscribe.", Button: "Confirm"})
}

func (s *Site) confirm(w http.ResponseWriter, r *http.Request) {
	t, ok := s.token(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	switch err := s.cfg.Store.ConfirmToken(ctx, t); {
	case errors.Is(err, data.ErrNotFound):
		s.message(w, http.StatusNotFound, message{Heading: "This link has expired",
			Text: "Confirmation links work for 48 hours. Subscribe again for a new one."})
	case err != nil:
		s.unavailable(w, err)
	default:
		s.message(w, http.StatusOK, message{Heading: "Subscribed", Text: "Thank you: new posts will come by email."})
	}
}

func (s *Site) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.token(w, r); !ok {
		return
	}
	s.message(w, http.StatusOK, message{Heading: "Unsubscribe",
		Text: "Press the button and no more posts will be mailed to this address.", Button: "Unsubscribe", OneClick: true})
}

// unsubscribe is the one-click POST. The body must say
// List-Unsubscribe=One-Click, urlencoded or multipart, as RFC 8058 has it.
func (s *Site) unsubscribe(w http.ResponseWriter, r *http.Request) {
	t, ok := s.token(w, r)
	if !ok {
		return
	}
	if !oneClick(r) {
		s.message(w, http.StatusBadRequest, message{Heading: "Nothing was changed",
			Text: "An unsubscribe request must say List-Unsubscribe=One-Click.", Button: "Unsubscribe", OneClick: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	switch err := s.cfg.Store.UnsubscribeToken(ctx, t); {
	case errors.Is(err, data.ErrNotFound):
		s.message(w, http.StatusNotFound, message{Heading: "This link is not valid",
			Text: "Check that the whole link from the mail was opened."})
	case err != nil:
		s.unavailable(w, err)
	default:
		s.message(w, http.StatusOK, message{Heading: "Unsubscribed", Text: "No more posts will be mailed to this address."})
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

func (s *Site) unavailable(w http.ResponseWriter, err error) {
	s.cfg.Log.Warn("web: the database did not answer", "err", err)
	w.Header().Set("Retry-After", "30")
	s.message(w, http.StatusServiceUnavailable, message{Heading: "Please try again shortly",
		Text: "The blog cannot reach its database right now. Nothing was changed."})
}
