package newsletter

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"blog/data"
	"blog/mail"
)

// WorkerConfig tunes the delivery worker. Zero values take the defaults.
type WorkerConfig struct {
	// Rate is the most mails a second, shared by every replica (through the
	// database); 0 or less does not limit.
	Rate float64
	// Lease is how long a claimed delivery stays this replica's after its
	// slot; a replica that dies holding it loses it then (default 2m). A
	// mail sent but not yet marked when a replica dies is sent again after
	// the lease: that is the window for duplicates.
	Lease time.Duration
	// RetryBase is the first wait after a temporary failure, doubling each
	// time up to 6 hours (default 1m).
	RetryBase time.Duration
	// MaxAttempts gives up on temporary failures after this many tries (default 8).
	MaxAttempts int
	// Idle is how often an idle worker looks for due deliveries: retries
	// and other replicas' posts (default 10s). A local publish wakes it at once.
	Idle time.Duration
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Idle <= 0 {
		c.Idle = 10 * time.Second
	}
	return c
}

// maxBatch bounds one claim. With a rate, a claim holds about two seconds
// of sending, so replicas share the work finely.
const maxBatch = 50

// Worker sends claimed deliveries.
type Worker struct {
	store  data.Store
	build  *mail.Builder
	sender mail.Sender
	text   func(data.NewsletterPost) string
	cfg    WorkerConfig
	log    *slog.Logger
	wake   chan struct{}
	forgot time.Time // when expired sign-ups were last deleted
}

// forgetEvery is how often an idle worker deletes expired sign-ups. Every
// replica may do it; it is one cheap DELETE.
const forgetEvery = time.Hour

func (w *Worker) forgetExpired(ctx context.Context) {
	if time.Since(w.forgot) < forgetEvery {
		return
	}
	w.forgot = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if n, err := w.store.ForgetExpired(ctx); err != nil {
		w.log.Warn("newsletter: deleting expired sign-ups failed", "err", err)
	} else if n > 0 {
		w.log.Info("newsletter: deleted sign-ups never confirmed", "count", n)
	}
}

// NewWorker makes a worker; text renders a post's plain-text part.
func NewWorker(store data.Store, build *mail.Builder, sender mail.Sender, text func(data.NewsletterPost) string, cfg WorkerConfig, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	return &Worker{store: store, build: build, sender: sender, text: text, cfg: cfg.withDefaults(),
		log: log.With("component", "newsletter"), wake: make(chan struct{}, 1)}
}

// Wake makes an idle worker look for deliveries now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) batch() int {
	if w.cfg.Rate <= 0 {
		return maxBatch
	}
	return min(max(int(w.cfg.Rate*2), 1), maxBatch)
}

// Run sends until ctx ends. On the way out it hands back what it claimed
// but did not send, so another replica (or the next start) sends it
// without waiting for the lease.
func (w *Worker) Run(ctx context.Context) {
	defer w.sender.Close()
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		ds, start, err := w.store.ClaimDeliveries(cctx, w.batch(), w.cfg.Lease, w.cfg.Rate)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("newsletter: claiming deliveries failed", "err", err, "retry_in", retryAfter)
				w.pause(ctx, retryAfter)
			}
			continue
		}
		if len(ds) == 0 {
			w.sender.Close() // no connection held while idle
			w.forgetExpired(ctx)
			w.pause(ctx, w.cfg.Idle)
			continue
		}
		w.sendAll(ctx, ds, start)
	}
}

func (w *Worker) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-t.C:
	}
}

func (w *Worker) sendAll(ctx context.Context, ds []data.Delivery, start time.Time) {
	step := data.RateSpan(1, w.cfg.Rate)
	for i, d := range ds {
		if wait := time.Until(start.Add(time.Duration(i) * step)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			w.release(ds[i:])
			return
		}
		w.finish(w.deliver(ctx, d))
	}
}

// deliver sends one mail and says how it went.
func (w *Worker) deliver(ctx context.Context, d data.Delivery) data.DeliveryResult {
	token := data.NewToken()
	m, err := w.build.Post(d, w.text(d.Post), token)
	if err != nil {
		// The address or post cannot make a message: trying again won't help.
		w.log.Error("newsletter: message not built", "delivery", d.ID, "err", err)
		return data.DeliveryResult{ID: d.ID, Reason: "build"}
	}
	// A send in flight finishes even during shutdown: the result must be
	// recorded either way, and sendTimeout bounds it.
	err = w.sender.Send(context.WithoutCancel(ctx), m)
	if err == nil {
		return data.DeliveryResult{ID: d.ID, Sent: true, UnsubscribeToken: token}
	}
	var me *mail.Error
	if !errors.As(err, &me) {
		me = &mail.Error{Reason: "send"}
	}
	r := data.DeliveryResult{ID: d.ID, Permanent: me.Permanent, Reason: me.Reason}
	if !me.Permanent && d.Attempts < w.cfg.MaxAttempts {
		r.RetryAt = time.Now().Add(w.backoff(d.Attempts))
	}
	w.log.Warn("newsletter: delivery failed", "delivery", d.ID, "attempt", d.Attempts,
		"permanent", me.Permanent, "reason", me.Reason, "retry", !r.RetryAt.IsZero())
	return r
}

func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryBase
	for range attempts - 1 {
		d *= 2
		if d >= 6*time.Hour {
			return 6 * time.Hour
		}
	}
	return d
}

// finish records r even while shutting down, within a short bound.
func (w *Worker) finish(r data.DeliveryResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.store.FinishDelivery(ctx, r); err != nil {
		// The claim lapses and another attempt sends it again.
		w.log.Error("newsletter: recording a delivery failed", "delivery", r.ID, "err", err)
	}
}

// release hands unsent claims back as due now.
func (w *Worker) release(ds []data.Delivery) {
	for _, d := range ds {
		w.finish(data.DeliveryResult{ID: d.ID, RetryAt: time.Now(), Reason: "released at shutdown"})
	}
}
