package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blog/data"
	"blog/data/sqlite"
	"blog/ops"
)

// counters reads every counter of reg as "name{label values}" -> value.
func counters(t *testing.T, m *ops.Metrics) map[string]float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			if s.GetCounter() == nil {
				continue
			}
			var values []string
			for _, l := range s.GetLabel() {
				values = append(values, l.GetValue())
			}
			out[f.GetName()+"{"+strings.Join(values, ",")+"}"] = s.GetCounter().GetValue()
		}
	}
	return out
}

// The observed store counts each refusal under its reason, a rate limit
// also under its action, a store fault as a database error, and neither a
// missing comment nor a visitor who left.
func TestObservedStoreCountsWhatErrorsMean(t *testing.T) {
	one := data.RateLimit{Count: 1, Window: time.Hour}
	lots := data.RateLimit{Count: 1 << 30, Window: time.Hour}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "blog.db"), data.Options{
		Limits: data.Limits{CommentPerKey: one, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots, ConfirmPerKey: lots, ConfirmPerIP: lots},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := ops.NewMetrics(func() (uint64, uint64) { return 0, 0 })
	o := observedStore{VisitorStore: st, m: m}
	ctx := t.Context()
	writer := data.Author{KeyFingerprint: "SHA256:writer", IP: "192.0.2.1"}
	comment := func(a data.Author, body string) {
		o.AddComment(ctx, data.NewComment{PostSlug: "p", Body: body, Author: a})
	}

	comment(data.Author{IP: "192.0.2.2"}, "no key")                                  // key_required
	comment(writer, strings.Repeat("x", data.MaxCommentRunes+1))                     // invalid_comment
	comment(writer, "first")                                                         // posted
	comment(writer, "second")                                                        // rate_limited
	o.Ban(ctx, data.Ban{Target: "SHA256:banned", CreatedBy: "test"})                 // moderation
	comment(data.Author{KeyFingerprint: "SHA256:banned", IP: "192.0.2.3"}, "banned") // banned
	o.SetHidden(ctx, 999999, true, "test")                                           // not found: not counted
	gone, leave := context.WithCancel(ctx)
	leave()
	o.Comments(gone, "p", data.ListOptions{}) // the visitor left: not counted
	st.Close()
	o.Comments(ctx, "p", data.ListOptions{}) // a closed database: a fault

	got := counters(t, m)
	want := map[string]float64{
		"blog_rejected_inputs_total{key_required}":    1,
		"blog_rejected_inputs_total{invalid_comment}": 1,
		"blog_rejected_inputs_total{rate_limited}":    1,
		"blog_rejected_inputs_total{banned}":          1,
		"blog_rate_limit_hits_total{comment}":         1,
		"blog_comments_posted_total{}":                1,
		"blog_db_errors_total{comments}":              1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 && (strings.HasPrefix(k, "blog_db_errors") || strings.HasPrefix(k, "blog_rejected")) {
			t.Errorf("%s = %v, want none", k, v)
		}
	}
}
