// Package newsletter runs the newsletter: the double opt-in sign-up that
// mails a code and a link, the publisher that decides (in the database,
// once for all replicas) when a post is new, and the delivery worker that
// sends each (post, subscriber) mail from the store's outbox at the shared
// rate. It needs only the store, the posts and a mail.Sender.
package newsletter

import (
	"context"
	"errors"
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
	queue  chan confirmation
	// retryAfter is the wait before each further try of a mail the server
	// refused for now (4xx, or a dropped connection); tests shorten it.
	retryAfter []time.Duration
}

// confirmation is one confirmation mail on its way, with its tries so far.
type confirmation struct {
	data.Confirmation
	tries int
}

// confirmRetries are the waits before the second, third and fourth try of
// a confirmation mail that failed for now: the visitor is told to check
// the inbox, and the per-address mail window would refuse a new request
// for a while, so a brief outage of the mail server must not lose it.
var confirmRetries = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute}

// NewSignup makes a sign-up; Run sends its mails.
func NewSignup(store data.Store, build *mail.Builder, sender mail.Sender, log *slog.Logger) *Signup {
	if log == nil {
		log = slog.Default()
	}
	return &Signup{store: store, build: build, sender: sender, log: log.With("component", "newsletter"),
		queue: make(chan confirmation, confirmQueue), retryAfter: confirmRetries}
}

// Subscribe starts a double opt-in for email. It answers alike for new,
// pending and confirmed addresses.
func (s *Signup) Subscribe(ctx context.Context, email string, a data.Author) error {
	conf, err := s.store.Subscribe(ctx, email, a)
	if err != nil || !conf.Due() {
		return err
	}
	s.enqueue(confirmation{Confirmation: conf})
	return nil
}

func (s *Signup) enqueue(c confirmation) {
	select {
	case s.queue <- c:
	default:
		s.log.Warn("confirmation mail dropped: too many waiting")
	}
}

// Confirm confirms by a typed code (see data.Newsletter.Confirm).
func (s *Signup) Confirm(ctx context.Context, code string, a data.Author) error {
	return s.store.Confirm(ctx, code, a)
}

// Run sends confirmation mails until ctx ends. A mail the server refuses
// for now is tried again after each of retryAfter; one it refuses for good,
// or that fails every try, is logged (without its address), and the
// visitor can ask again after the mail window. The mails waiting exist
// only in this process: a crash loses them, like the visitor's request
// would be lost with any reply not yet written.
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

func (s *Signup) send(ctx context.Context, c confirmation) {
	m, err := s.build.Confirmation(c.Confirmation)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = s.sender.Send(sctx, m)
		cancel()
		s.sender.Close()
	}
	if err == nil {
		s.log.Info("confirmation mail sent", "tries", c.tries+1)
		return
	}
	var merr *mail.Error
	permanent := errors.As(err, &merr) && merr.Permanent
	if permanent || c.tries >= len(s.retryAfter) || !c.Expires.After(time.Now()) {
		s.log.Error("confirmation mail not sent", "err", err, "tries", c.tries+1)
		return
	}
	wait := s.retryAfter[c.tries]
	s.log.Warn("confirmation mail refused for now; trying again", "err", err, "in", wait.String())
	c.tries++
	// A timer, not a sleep: other visitors' mails go out meanwhile.
	time.AfterFunc(wait, func() {
		if ctx.Err() == nil {
			s.enqueue(c)
		}
	})
}
