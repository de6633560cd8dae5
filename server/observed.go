package server

import (
	"context"
	"time"

	"blog/data"
	"blog/ops"
)

// observedStore counts and times the store calls sessions make, for
// /metrics. Everything not overridden passes straight through.
type observedStore struct {
	data.VisitorStore
	m *ops.Metrics
}

// observe records one call: its latency, and what kind of failure it was,
// as data.Explain sorts them. A visitor who left before the answer counts
// as neither a refusal nor a database error.
func (o observedStore) observe(op, action string, start time.Time, err error) {
	o.m.DBLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	m := data.Explain(err)
	if m.Refused() {
		o.m.RejectedInputs.WithLabelValues(m.Reason()).Inc()
	}
	if m.Kind == data.RateLimited {
		o.m.RateLimitHits.WithLabelValues(action).Inc()
	}
	if m.Failed() {
		o.m.DBErrors.WithLabelValues(op).Inc()
	}
}

func (o observedStore) AddComment(ctx context.Context, c data.NewComment) (data.Comment, error) {
	start := time.Now()
	out, err := o.VisitorStore.AddComment(ctx, c)
	o.observe("add_comment", "comment", start, err)
	if err == nil {
		o.m.CommentsPosted.Inc()
	}
	return out, err
}

func (o observedStore) EditComment(ctx context.Context, e data.CommentEdit) (data.Comment, error) {
	start := time.Now()
	out, err := o.VisitorStore.EditComment(ctx, e)
	o.observe("edit_comment", "comment", start, err)
	return out, err
}

func (o observedStore) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	start := time.Now()
	out, err := o.VisitorStore.Comments(ctx, slug, opt)
	o.observe("comments", "", start, err)
	return out, err
}

func (o observedStore) CommentCounts(ctx context.Context) (map[string]int, error) {
	start := time.Now()
	out, err := o.VisitorStore.CommentCounts(ctx)
	o.observe("comment_counts", "", start, err)
	return out, err
}

func (o observedStore) Subscribe(ctx context.Context, email string, a data.Author) (data.Confirmation, error) {
	start := time.Now()
	c, err := o.VisitorStore.Subscribe(ctx, email, a)
	o.observe("subscribe", "subscribe", start, err)
	if err == nil {
		o.m.Subscriptions.Inc()
	}
	return c, err
}

func (o observedStore) Unsubscribe(ctx context.Context, email string, a data.Author) error {
	start := time.Now()
	err := o.VisitorStore.Unsubscribe(ctx, email, a)
	o.observe("unsubscribe", "unsubscribe", start, err)
	return err
}

func (o observedStore) DeleteOwnComment(ctx context.Context, id int64, key string) error {
	start := time.Now()
	err := o.VisitorStore.DeleteOwnComment(ctx, id, key)
	o.observe("delete_own_comment", "", start, err)
	return err
}

func (o observedStore) SetHidden(ctx context.Context, id int64, hidden bool, by string) error {
	start := time.Now()
	err := o.VisitorStore.SetHidden(ctx, id, hidden, by)
	o.observe("set_hidden", "", start, err)
	if err == nil {
		o.m.ModerationActions.WithLabelValues(map[bool]string{true: "hide", false: "unhide"}[hidden]).Inc()
	}
	return err
}

func (o observedStore) DeleteComment(ctx context.Context, id int64, by string) error {
	start := time.Now()
	err := o.VisitorStore.DeleteComment(ctx, id, by)
	o.observe("delete_comment", "", start, err)
	if err == nil {
		o.m.ModerationActions.WithLabelValues("delete").Inc()
	}
	return err
}

func (o observedStore) Ban(ctx context.Context, b data.Ban) error {
	start := time.Now()
	err := o.VisitorStore.Ban(ctx, b)
	o.observe("ban", "", start, err)
	if err == nil {
		o.m.ModerationActions.WithLabelValues("ban").Inc()
	}
	return err
}
