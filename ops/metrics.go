// Package ops is what a replica shows its operators: the blog_* series on
// /metrics, beside the Go runtime's, and the health and readiness probes.
package ops

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the blog_* series on /metrics, beside the Go runtime's. Each
// server has its own registry, so several servers in one test process do
// not collide. What each series counts is in its help text below.
type Metrics struct {
	Registry *prometheus.Registry

	SessionsOpen      *prometheus.GaugeVec
	SessionsTotal     *prometheus.CounterVec
	SessionDuration   *prometheus.HistogramVec
	CommentsPosted    prometheus.Counter
	Subscriptions     prometheus.Counter
	RejectedInputs    *prometheus.CounterVec
	RateLimitHits     *prometheus.CounterVec
	DBErrors          *prometheus.CounterVec
	DBLatency         *prometheus.HistogramVec
	LiveEventLag      prometheus.Histogram
	LiveEvents        *prometheus.CounterVec
	ConnRejected      *prometheus.CounterVec
	ModerationActions *prometheus.CounterVec
	MemoryReleases    prometheus.Counter
	SessionsCut       *prometheus.CounterVec
}

// CacheSize is one shared cache's estimated bytes and entries.
type CacheSize struct {
	Name    string
	Bytes   int64
	Entries int
}

// cacheCollector reports the shared caches' sizes when /metrics is read,
// so the caches keep no metric state of their own.
type cacheCollector struct {
	sizes          func() []CacheSize
	bytes, entries *prometheus.Desc
}

// NewCacheCollector reports the sizes that sizes lists, as blog_cache_bytes
// and blog_cache_entries by cache.
func NewCacheCollector(sizes func() []CacheSize) prometheus.Collector {
	return &cacheCollector{
		sizes:   sizes,
		bytes:   prometheus.NewDesc("blog_cache_bytes", "Estimated bytes held by a shared cache, by cache.", []string{"cache"}, nil),
		entries: prometheus.NewDesc("blog_cache_entries", "Entries held by a shared cache, by cache.", []string{"cache"}, nil),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bytes
	ch <- c.entries
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.sizes() {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), s.Name)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries), s.Name)
	}
}

// NewMetrics registers every series; renderStats reports the shared render
// cache's hits and misses when /metrics is read.
func NewMetrics(renderStats func() (hits, misses uint64)) *Metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{Registry: reg}
	m.SessionsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "blog_sessions_open", Help: "SSH sessions open now, by kind (tui or command)."}, []string{"kind"})
	m.SessionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_sessions_total", Help: "SSH sessions started, by kind."}, []string{"kind"})
	m.SessionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blog_session_duration_seconds", Help: "How long sessions last, by kind.", Buckets: prometheus.ExponentialBuckets(0.1, 4, 10)}, []string{"kind"})
	m.CommentsPosted = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_comments_posted_total", Help: "Comments stored through this replica."})
	m.Subscriptions = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_subscriptions_total", Help: "Subscribe requests accepted (new or already subscribed)."})
	m.RejectedInputs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_rejected_inputs_total", Help: "Writes refused, by reason."}, []string{"reason"})
	m.RateLimitHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_rate_limit_hits_total", Help: "Writes refused by a rate limit, by action."}, []string{"action"})
	m.DBErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_db_errors_total", Help: "Database calls that failed for reasons other than the visitor's input, by operation."}, []string{"op"})
	m.DBLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blog_db_latency_seconds", Help: "Database call latency, by operation.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"op"})
	m.LiveEventLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "blog_live_event_lag_seconds", Help: "Time from a comment's creation to its event reaching this replica's hub.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)})
	m.LiveEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_live_events_total", Help: "Live events fanned out to sessions, by kind."}, []string{"kind"})
	m.ConnRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_connections_rejected_total", Help: "Connections turned away, by reason."}, []string{"reason"})
	m.ModerationActions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_moderation_actions_total", Help: "Moderation actions taken through this replica, by action."}, []string{"action"})
	m.MemoryReleases = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_memory_releases_total", Help: "Times free memory was returned to the system after a busy spell (--release-memory-after)."})
	for _, c := range []prometheus.Collector{m.SessionsOpen, m.SessionsTotal, m.SessionDuration, m.CommentsPosted, m.Subscriptions, m.RejectedInputs, m.RateLimitHits, m.DBErrors, m.DBLatency, m.LiveEventLag, m.LiveEvents, m.ConnRejected, m.ModerationActions, m.MemoryReleases} {
		f(c)
	}
	m.SessionsCut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_sessions_cut_total", Help: "Sessions the server closed on its own, by reason (write_timeout: the client took no output for --write-timeout)."}, []string{"reason"})
	f(m.SessionsCut)
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blog_render_cache_hits_total", Help: "Post renders served from the shared cache."}, func() float64 {
		h, _ := renderStats()
		return float64(h)
	}))
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blog_render_cache_misses_total", Help: "Post renders that ran glamour."}, func() float64 {
		_, mi := renderStats()
		return float64(mi)
	}))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// VisitMarks is what the write-behind queue of visit marks has done, as
// the server reads it from its batcher when /metrics is read.
type VisitMarks struct {
	// Queued and WrittenThrough count the marks sessions made: taken into
	// the queue, or written at once by the session (the queue was full).
	Queued, WrittenThrough uint64
	// Flushes and FailedFlushes count the queue's transactions.
	Flushes, FailedFlushes uint64
	// Flushed counts the marks the flushes wrote, after folding the marks
	// of one key and post together; Dropped those given up at shutdown.
	Flushed, Dropped uint64
	// Pending is how many marks are held now, waiting or being written.
	Pending int
}

// visitMarksCollector reports the visit queue's counts when /metrics is
// read, so the queue keeps plain counters of its own.
type visitMarksCollector struct {
	stats                            func() VisitMarks
	marks, flushes, flushed, dropped *prometheus.Desc
	pending                          *prometheus.Desc
}

// NewVisitMarksCollector reports stats as blog_visit_marks_total{path},
// blog_visit_flushes_total{result}, blog_visit_marks_flushed_total,
// blog_visit_marks_dropped_total and blog_visit_marks_pending.
func NewVisitMarksCollector(stats func() VisitMarks) prometheus.Collector {
	return &visitMarksCollector{
		stats:   stats,
		marks:   prometheus.NewDesc("blog_visit_marks_total", "Visit marks (a post opened or left) sessions made, by path: queued for the next flush, or written_through at once because the queue was full.", []string{"path"}, nil),
		flushes: prometheus.NewDesc("blog_visit_flushes_total", "Transactions writing queued visit marks, by result (ok or failed).", []string{"result"}, nil),
		flushed: prometheus.NewDesc("blog_visit_marks_flushed_total", "Visit marks written by flushes, marks of one key and post folded into one.", nil, nil),
		dropped: prometheus.NewDesc("blog_visit_marks_dropped_total", "Visit marks given up at shutdown, the database failing until the time to write them was up.", nil, nil),
		pending: prometheus.NewDesc("blog_visit_marks_pending", "Visit marks queued or being written now.", nil, nil),
	}
}

func (c *visitMarksCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.marks, c.flushes, c.flushed, c.dropped, c.pending} {
		ch <- d
	}
}

func (c *visitMarksCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.marks, prometheus.CounterValue, float64(s.Queued), "queued")
	ch <- prometheus.MustNewConstMetric(c.marks, prometheus.CounterValue, float64(s.WrittenThrough), "written_through")
	ch <- prometheus.MustNewConstMetric(c.flushes, prometheus.CounterValue, float64(s.Flushes), "ok")
	ch <- prometheus.MustNewConstMetric(c.flushes, prometheus.CounterValue, float64(s.FailedFlushes), "failed")
	ch <- prometheus.MustNewConstMetric(c.flushed, prometheus.CounterValue, float64(s.Flushed))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
}
