package server

import (
	"context"
	"time"

	"blog/data"
)

// visitorStore is the part of the store that sessions and exec commands
// reach: comments, the newsletter sign-up, the moderators' actions in the
// interface, and Ping for readiness. The observed store counts its calls
// and the shared threads answer its Comments from memory.
type visitorStore interface {
	data.Comments
	data.Subscriptions
	SetHidden(ctx context.Context, id int64, hidden bool, by string) error
	DeleteComment(ctx context.Context, id int64, by string) error
	Ban(ctx context.Context, b data.Ban) error
	Ping(ctx context.Context) error
}

// observedStore counts and times the store calls sessions make, for
// /metrics. Everything not overridden passes straight through.
type observedStore struct {
	visitorStore
	m *metrics
}

// observe records one call: its latency, and what kind of failure it was,
// as data.Explain sorts them. A visitor who left before the answer counts
// as neither a refusal nor a database error.
func (o observedStore) observe(op, action string, start time.Time, err error) {
	o.m.dbLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	m := data.Explain(err)
	if m.Refused() {
		o.m.rejectedInputs.WithLabelValues(m.Reason()).Inc()
	}
	if m.Kind == data.RateLimited {
		o.m.rateLimitHits.WithLabelValues(action).Inc()
	}
	if m.Failed() {
		o.m.dbErrors.WithLabelValues(op).Inc()
	}
}

func (o observedStore) AddComment(ctx context.Context, c data.NewComment) (data.Comment, error) {
	start := time.Now()
	out, err := o.visitorStore.AddComment(ctx, c)
	o.observe("add_comment", "comment", start, err)
	if err == nil {
		o.m.commentsPosted.Inc()
	}
	return out, err
}

func (o observedStore) EditComment(ctx context.Context, e data.CommentEdit) (data.Comment, error) {
	start := time.Now()
	out, err := o.visitorStore.EditComment(ctx, e)
	o.observe("edit_comment", "comment", start, err)
	return out, err
}

func (o observedStore) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	start := time.Now()
	out, err := o.visitorStore.Comments(ctx, slug, opt)
	o.observe("comments", "", start, err)
	return out, err
}

func (o observedStore) CommentCounts(ctx context.Context) (map[string]int, error) {
	start := time.Now()
	out, err := o.visitorStore.CommentCounts(ctx)
	o.observe("comment_counts", "", start, err)
	return out, err
}

func (o observedStore) Subscribe(ctx context.Context, email string, a data.Author) (data.Confirmation, error) {
	start := time.Now()
	c, err := o.visitorStore.Subscribe(ctx, email, a)
	o.observe("subscribe", "subscribe", start, err)
	if err == nil {
		o.m.subscriptions.Inc()
	}
	return c, err
}

func (o observedStore) Unsubscribe(ctx context.Context, email string, a data.Author) error {
	start := time.Now()
	err := o.visitorStore.Unsubscribe(ctx, email, a)
	o.observe("unsubscribe", "unsubscribe", start, err)
	return err
}

func (o observedStore) DeleteOwnComment(ctx context.Context, id int64, key string) error {
	start := time.Now()
	err := o.visitorStore.DeleteOwnComment(ctx, id, key)
	o.observe("delete_own_comment", "", start, err)
	return err
}

func (o observedStore) SetHidden(ctx context.Context, id int64, hidden bool, by string) error {
	start := time.Now()
	err := o.visitorStore.SetHidden(ctx, id, hidden, by)
	o.observe("set_hidden", "", start, err)
	if err == nil {
		o.m.moderationAction.WithLabelValues(map[bool]string{true: "hide", false: "unhide"}[hidden]).Inc()
	}
	return err
}

func (o observedStore) DeleteComment(ctx context.Context, id int64, by string) error {
	start := time.Now()
	err := o.visitorStore.DeleteComment(ctx, id, by)
	o.observe("delete_comment", "", start, err)
	if err == nil {
		o.m.moderationAction.WithLabelValues("delete").Inc()
	}
	return err
}

func (o observedStore) Ban(ctx context.Context, b data.Ban) error {
	start := time.Now()
	err := o.visitorStore.Ban(ctx, b)
	o.observe("ban", "", start, err)
	if err == nil {
		o.m.moderationAction.WithLabelValues("ban").Inc()
	}
	return err
}
