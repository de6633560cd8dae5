package server

import (
	"context"
	"time"

	"blog/data"
	"blog/data/visitbatch"
	"blog/ops"
)

// queuedVisits sends the sessions' and commands' visits calls through the
// write-behind queue, which writes marks together (MarkVisits) and makes
// reads and forget of a key wait for its queued marks; everything else
// goes straight to the observed store.
type queuedVisits struct {
	data.VisitorStore
	queue *visitbatch.Batcher
}

func (q queuedVisits) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	return q.queue.MarkVisit(ctx, key, v)
}

func (q queuedVisits) Visits(ctx context.Context, key string) ([]data.Visit, error) {
	return q.queue.Visits(ctx, key)
}

func (q queuedVisits) ForgetVisits(ctx context.Context, key string) (int64, error) {
	return q.queue.ForgetVisits(ctx, key)
}

// visitMarks is the queue's counts for /metrics.
func (s *Server) visitMarks() ops.VisitMarks {
	st := s.visits.Stats()
	return ops.VisitMarks{
		Queued:         st.Queued,
		WrittenThrough: st.WrittenThrough,
		Flushes:        st.Flushes,
		FailedFlushes:  st.Failures,
		Flushed:        st.Flushed,
		Dropped:        st.Dropped,
		Pending:        st.Pending + st.Writing,
	}
}

// The visits calls are observed like the others. Sessions' marks reach the
// store through the queue, as one mark_visits call a flush; mark_visit is
// a mark its session wrote at once, the queue being full or closed.

func (o observedStore) MarkVisit(ctx context.Context, key string, v data.Visit) error {
	start := time.Now()
	err := o.VisitorStore.MarkVisit(ctx, key, v)
	o.observe("mark_visit", "", start, err)
	return err
}

func (o observedStore) MarkVisits(ctx context.Context, marks []data.KeyedVisit) error {
	start := time.Now()
	err := o.VisitorStore.MarkVisits(ctx, marks)
	o.observe("mark_visits", "", start, err)
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
