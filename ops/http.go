package ops

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the operators' endpoints: /healthz, /readyz and /metrics.
// draining reports whether the replica is shutting down; ping asks the
// database whether it answers with its migrations applied.
func Handler(m *Metrics, draining func() bool, ping func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	// healthz: the process is up. Cheap on purpose: no database call.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	// readyz: this replica can serve readers: not draining, and the
	// database answers with its migrations applied.
	ready := &readiness{ping: ping}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if draining() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := ready.check(); err != nil {
			http.Error(w, "database not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return mux
}

// readyFor is how long a database ping answers /readyz: a flood of probes
// costs at most one ping a second.
const readyFor = time.Second

// readiness caches the database's answer to a ping for readyFor. Probes
// that arrive while a ping is out wait for its answer instead of sending
// their own.
type readiness struct {
	ping func(context.Context) error

	mu  sync.Mutex
	at  time.Time // when err was learnt
	err error
}

func (r *readiness) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < readyFor {
		return r.err
	}
	// Not the request's context: the answer is shared, and one client
	// hanging up must not make it an error for the others.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.err = r.ping(ctx)
	r.at = time.Now()
	return r.err
}
