package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"blog/data"
	"blog/ui"

	"github.com/charmbracelet/ssh"
)

// subscriptionAnswer subscribes (starting the double opt-in) or
// unsubscribes email and prints the answer, the same for every address.
func (s *Server) subscriptionAnswer(sess ssh.Session, ctx context.Context, email string, unsubscribe bool) int {
	a := author(sess)
	if unsubscribe && a.KeyFingerprint == "" {
		fmt.Fprintln(sess.Stderr(), "blog: unsubscribing here needs the SSH key you subscribed with; every newsletter mail has an unsubscribe link")
		return exitError
	}
	var err error
	verb := "subscribe"
	if unsubscribe {
		verb = "unsubscribe"
		err = s.store.Unsubscribe(ctx, email, a)
	} else {
		err = s.uiCfg.Newsletter.Subscribe(ctx, email, a)
	}
	if err != nil {
		fmt.Fprintln(sess.Stderr(), "blog: couldn't "+verb+": "+plainError(err))
		return exitError
	}
	if unsubscribe {
		fmt.Fprintf(sess, "If %s was subscribed with this key, it is now unsubscribed.\n", email)
		return exitOK
	}
	fmt.Fprintf(sess, "Check your inbox to confirm: the mail to %s has a code and a link.\nConfirm with: ssh %s confirm CODE\n", email, s.cfg.Host)
	return exitOK
}

func (s *Server) cmdConfirm(sess ssh.Session, args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(sess.Stderr(), "usage: ssh %s confirm CODE\n", s.cfg.Host)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
	defer cancel()
	err := s.uiCfg.Newsletter.Confirm(ctx, args[0], author(sess))
	switch {
	case errors.Is(err, data.ErrNotFound):
		fmt.Fprintln(sess.Stderr(), "blog: that code is wrong or has expired; subscribe again for a new one")
		return exitError
	case err != nil:
		fmt.Fprintln(sess.Stderr(), "blog: couldn't confirm: "+plainError(err))
		return exitError
	}
	fmt.Fprintln(sess, "Confirmed: new posts will come by email. Every mail has a link to unsubscribe.")
	return exitOK
}

// newsletterOrStore is the configured sign-up, or one that stores the
// pending address and mails nothing (servers built without a newsletter,
// as some tests are). cmd/blog always configures one.
func (s *Server) newsletterOrStore() ui.Signup {
	if s.cfg.Newsletter != nil {
		return countedSignup{Signup: s.cfg.Newsletter, m: s.metrics}
	}
	return storeSignup{s.store}
}

// countedSignup counts accepted sign-ups in blog_subscriptions_total, as
// the store's own Subscribe does when no newsletter is configured.
type countedSignup struct {
	ui.Signup
	m *metrics
}

func (c countedSignup) Subscribe(ctx context.Context, email string, a data.Author) error {
	err := c.Signup.Subscribe(ctx, email, a)
	if err == nil {
		c.m.subscriptions.Inc()
	}
	return err
}

type storeSignup struct{ store data.Subscriptions }

func (t storeSignup) Subscribe(ctx context.Context, email string, a data.Author) error {
	_, err := t.store.Subscribe(ctx, email, a)
	return err
}

func (t storeSignup) Confirm(ctx context.Context, code string, a data.Author) error {
	return t.store.Confirm(ctx, code, a)
}
