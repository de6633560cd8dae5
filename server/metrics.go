package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the blog_* series on /metrics, beside the Go runtime's. Each
// server has its own registry, so several servers in one test process do
// not collide.
type metrics struct {
	reg *prometheus.Registry

	sessionsOpen     *prometheus.GaugeVec
	sessionsTotal    *prometheus.CounterVec
	sessionDuration  *prometheus.HistogramVec
	commentsPosted   prometheus.Counter
	subscriptions    prometheus.Counter
	rejectedInputs   *prometheus.CounterVec
	rateLimitHits    *prometheus.CounterVec
	dbErrors         *prometheus.CounterVec
	dbLatency        *prometheus.HistogramVec
	liveEventLag     prometheus.Histogram
	liveEvents       *prometheus.CounterVec
	connRejected     *prometheus.CounterVec
	moderationAction *prometheus.CounterVec
	memoryReleases   prometheus.Counter
	sessionsCut      *prometheus.CounterVec
}

// cacheSize is one shared cache's estimated bytes and entries.
type cacheSize struct {
	name    string
	bytes   int64
	entries int
}

// cacheCollector reports the shared caches' sizes when /metrics is read,
// so the caches keep no metric state of their own.
type cacheCollector struct {
	sizes          func() []cacheSize
	bytes, entries *prometheus.Desc
}

func newCacheCollector(sizes func() []cacheSize) *cacheCollector {
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
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.bytes), s.name)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.entries), s.name)
	}
}

func newMetrics(renderStats func() (hits, misses uint64)) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{reg: reg}
	m.sessionsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "blog_sessions_open", Help: "SSH sessions open now, by kind (tui or command)."}, []string{"kind"})
	m.sessionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_sessions_total", Help: "SSH sessions started, by kind."}, []string{"kind"})
	m.sessionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blog_session_duration_seconds", Help: "How long sessions last, by kind.", Buckets: prometheus.ExponentialBuckets(0.1, 4, 10)}, []string{"kind"})
	m.commentsPosted = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_comments_posted_total", Help: "Comments stored through this replica."})
	m.subscriptions = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_subscriptions_total", Help: "Subscribe requests accepted (new or already subscribed)."})
	m.rejectedInputs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_rejected_inputs_total", Help: "Writes refused, by reason."}, []string{"reason"})
	m.rateLimitHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_rate_limit_hits_total", Help: "Writes refused by a rate limit, by action."}, []string{"action"})
	m.dbErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_db_errors_total", Help: "Database calls that failed for reasons other than the visitor's input, by operation."}, []string{"op"})
	m.dbLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blog_db_latency_seconds", Help: "Database call latency, by operation.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"op"})
	m.liveEventLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "blog_live_event_lag_seconds", Help: "Time from a comment's creation to its event reaching this replica's hub.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)})
	m.liveEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_live_events_total", Help: "Live events fanned out to sessions, by kind."}, []string{"kind"})
	m.connRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_connections_rejected_total", Help: "Connections turned away, by reason."}, []string{"reason"})
	m.moderationAction = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_moderation_actions_total", Help: "Moderation actions taken through this replica, by action."}, []string{"action"})
	m.memoryReleases = prometheus.NewCounter(prometheus.CounterOpts{Name: "blog_memory_releases_total", Help: "Times free memory was returned to the system after a busy spell (--release-memory-after)."})
	for _, c := range []prometheus.Collector{m.sessionsOpen, m.sessionsTotal, m.sessionDuration, m.commentsPosted, m.subscriptions, m.rejectedInputs, m.rateLimitHits, m.dbErrors, m.dbLatency, m.liveEventLag, m.liveEvents, m.connRejected, m.moderationAction, m.memoryReleases} {
		f(c)
	}
	m.sessionsCut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blog_sessions_cut_total", Help: "Sessions the server closed on its own, by reason (write_timeout: the client took no output for --write-timeout)."}, []string{"reason"})
	f(m.sessionsCut)
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
