package server

import (
	"context"

	"blog/data"
	"blog/ops"
	"blog/ui"
)

// newsletterOrStore is the configured sign-up, or one that stores the
// pending address and mails nothing (servers built without a newsletter,
// as some tests are). cmd/blog always configures one.
func (s *Server) newsletterOrStore() ui.Signup {
	if s.cfg.Newsletter != nil {
		return countedSignup{Signup: s.cfg.Newsletter, m: s.metrics}
	}
	return data.UnmailedSignup{Subscriptions: s.store}
}

// countedSignup counts accepted sign-ups in blog_subscriptions_total, as
// the store's own Subscribe does when no newsletter is configured.
type countedSignup struct {
	ui.Signup
	m *ops.Metrics
}

func (c countedSignup) Subscribe(ctx context.Context, email string, a data.Author) error {
	err := c.Signup.Subscribe(ctx, email, a)
	if err == nil {
		c.m.Subscriptions.Inc()
	}
	return err
}
