// Package newsletter runs the newsletter: the double opt-in sign-up that
// mails a code and a link, the publisher that decides (in the database,
// once for all replicas) when a post is new, and the delivery worker that
// sends each (post, subscriber) mail from the store's outbox at the shared
// rate. It needs only the store, the posts and a mail.Sender.
package newsletter

import (
	"context"
	"log/slog"
	"time"

	"blog/data"
	"blog/mail"
)

// confirmQueue bounds the confirmation mails waiting to go out. The store's
// per-key, per-IP and per-address limits keep it far from full; if it ever
// is, the visitor may ask again after the mail window.
const confirmQueue = 256

// Signup signs readers up: it asks the store for a confirmation and mails
// it in the background, so a visitor's answer never waits on the mail
// server and reads the same whether a mail went out or not.
type Signup struct {
	store  data.Store
	build  *mail.Builder
	sender mail.Sender
	log    *slog.Logger
	queue  chan data.Confirmation
}

// NewSignup makes a sign-up; Run sends its mails.
func NewSignup(store data.Store, build *mail.Builder, sender mail.Sender, log *slog.Logger) *Signup {
	if log == nil {
		log = slog.Default()
	}
	return &Signup{store: store, build: build, sender: sender, log: log.With("component", "newsletter"),
		queue: make(chan data.Confirmation, confirmQueue)}
}

// Subscribe starts a double opt-in for email. It answers alike for new,
// pending and confirmed addresses.
func (s *Signup) Subscribe(ctx context.Context, email string, a data.Author) error {
	conf, err := s.store.Subscribe(ctx, email, a)
	if err != nil || !conf.Due() {
		return err
	}
	select {
	case s.queue <- conf:
	default:
		s.log.Warn("confirmation mail dropped: too many waiting")
	}
	return nil
}

// Confirm confirms by a typed code (see data.Newsletter.Confirm).
func (s *Signup) Confirm(ctx context.Context, code string, a data.Author) error {
	return s.store.Confirm(ctx, code, a)
}

// Run sends confirmation mails until ctx ends. A mail that fails is logged
// (without its address); the visitor can ask again after the mail window.
func (s *Signup) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-s.queue:
			s.send(ctx, c)
		}
	}
}

func (s *Signup) send(ctx context.Context, c data.Confirmation) {
	m, err := s.build.Confirmation(c)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = s.sender.Send(sctx, m)
		cancel()
		s.sender.Close()
	}
	if err != nil {
		s.log.Error("confirmation mail not sent", "err", err)
		return
	}
	s.log.Info("confirmation mail sent")
}
