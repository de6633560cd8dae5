package server

import (
	"context"
	"time"

	"blog/data"
)

// The visits calls are observed like the others: a mark is made when a
// post is opened and when it is left, so their latency is the list's.

func (o observedStore) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	start := time.Now()
	err := o.VisitorStore.MarkVisit(ctx, key, v)
	o.observe("mark_visit", "", start, err)
	return err
}

func (o observedStore) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	start := time.Now()
	out, err := o.VisitorStore.Visits(ctx, key)
	o.observe("visits", "", start, err)
	return out, err
}

func (o observedStore) ForgetVisits(ctx context.Context, key string) (int64, error) {
	start := time.Now()
	n, err := o.VisitorStore.ForgetVisits(ctx, key)
	o.observe("forget_visits", "", start, err)
	return n, err
}
