// Package storetest is the conformance suite every data.Store passes. A back
// end's tests call Run with a function that opens a fresh, empty store; back
// ends whose replicas share one database also call RunReplicated.
package storetest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"blog/data"
	"blog/internal/syncbuf"
)

// Store is a data.Store with two methods that no user of storage needs but
// the suite checks the store through.
type Store interface {
	data.Store
	// SetName remembers name for key, as posting a named comment does.
	SetName(ctx context.Context, key, name string) error
	// Banned reports whether the key or the IP of a is banned now.
	Banned(ctx context.Context, a data.Author) (bool, error)
}

// Opener opens a fresh, empty store and closes it in t.Cleanup.
type Opener func(t *testing.T, opt data.Options) Store

// PairOpener opens two stores on one fresh database, as two replicas would.
type PairOpener func(t *testing.T, opt data.Options) (first, second data.Store)

// Run runs every single-store subtest against stores made by open. The
// subtests run in parallel, each on its own store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"AddCommentNeedsKey", testAddCommentNeedsKey},
		{"AddCommentStores", testAddCommentStores},
		{"AddCommentNames", testAddCommentNames},
		{"AddCommentInvalid", testAddCommentInvalid},
		{"HostileTextSanitised", testHostileText},
		{"Paging", testPaging},
		{"AllCommentsAfter", testAllCommentsAfter},
		{"HiddenComments", testHiddenComments},
		{"DeleteComment", testDeleteComment},
		{"DeleteOwnComment", testDeleteOwnComment},
		{"DeleteCommentsBefore", testDeleteCommentsBefore},
		{"Replies", testReplies},
		{"ReplyToRefused", testReplyToRefused},
		{"DeleteWithReplies", testDeleteWithReplies},
		{"HiddenWithReplies", testHiddenWithReplies},
		{"EditComment", testEditComment},
		{"EditRefused", testEditRefused},
		{"EditRateLimit", testEditRateLimit},
		{"EditEvents", testEditEvents},
		{"Bans", testBans},
		{"BanBlocksWrites", testBanBlocksWrites},
		{"BanKeepsStronger", testBanKeepsStronger},
		{"Names", testNames},
		{"Subscribe", testSubscribe},
		{"Unsubscribe", testUnsubscribe},
		{"Confirm", testConfirm},
		{"ConfirmExpires", testConfirmExpires},
		{"ConfirmRateLimit", testConfirmRateLimit},
		{"ImportSubscribers", testImportSubscribers},
		{"PublishPosts", testPublishPosts},
		{"QueuePost", testQueuePost},
		{"ClaimDeliveries", testClaimDeliveries},
		{"DeliveryRetries", testDeliveryRetries},
		{"Bouncing", testBouncing},
		{"UnsubscribeToken", testUnsubscribeToken},
		{"MailRate", testMailRate},
		{"CommentRateLimit", testCommentRateLimit},
		{"SubscribeRateLimit", testSubscribeRateLimit},
		{"Reset", testReset},
		{"Events", testEvents},
		{"EventsEndWithContext", testEventsEnd},
		{"TryLock", testTryLock},
		{"PingAndClose", testPingAndClose},
		{"Visits", testVisits},
		{"VisitsKeyless", testVisitsKeyless},
		{"VisitsBounded", testVisitsBounded},
		{"ForgetVisits", testForgetVisits},
		{"VisitsBatch", testVisitsBatch},
		{"VisitsBatchSkips", testVisitsBatchSkips},
		{"VisitsBatchBounded", testVisitsBatchBounded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// pairTest is one subtest of two stores on one database.
type pairTest struct {
	name string
	fn   func(t *testing.T, open PairOpener)
}

// RunShared checks that two stores on one database see each other's
// writes: events and rate limits cross between them. SQLite passes it with
// two processes (or two Stores) on one file.
func RunShared(t *testing.T, open PairOpener) {
	runPairs(t, open, []pairTest{
		{"EventsCrossReplicas", testCrossEvents},
		{"RateLimitCrossReplicas", testCrossRateLimit},
		{"VisitsCrossReplicas", testCrossVisits},
		{"RepliesCrossReplicas", testCrossReplies},
	})
}

// RunReplicated checks that two stores on one database act as one replica
// set: what RunShared checks, and job locks that cross between them.
func RunReplicated(t *testing.T, open PairOpener) {
	runPairs(t, open, []pairTest{
		{"EventsCrossReplicas", testCrossEvents},
		{"TryLockCrossReplicas", testCrossTryLock},
		{"RateLimitCrossReplicas", testCrossRateLimit},
		{"VisitsCrossReplicas", testCrossVisits},
		{"RepliesCrossReplicas", testCrossReplies},
	})
}

func runPairs(t *testing.T, open PairOpener, tests []pairTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// start is the fake clock's first reading: far from the real time, so a
// store that ignores Options.Now fails the time-based tests.
var start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a settable clock for Options.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lots is a limit no subtest reaches, for limits a subtest does not test.
var lots = data.RateLimit{Count: 1 << 30, Window: time.Minute}

func noLimits() data.Limits {
	return data.Limits{CommentPerKey: lots, CommentPerIP: lots, SubscribePerKey: lots, SubscribePerIP: lots,
		ConfirmPerKey: lots, ConfirmPerIP: lots}
}

// env is one subtest's store with its clock and captured logs.
type env struct {
	Store
	clock *Clock
}

// newEnv opens a store with a fake clock and the given limits, and checks
// when the subtest ends that nothing private reached the logs.
func newEnv(t *testing.T, open Opener, limits data.Limits) *env {
	e, opt := prepare(t, limits)
	e.Store = open(t, opt)
	return e
}

func prepare(t *testing.T, limits data.Limits) (*env, data.Options) {
	clock := &Clock{t: start}
	logs := &syncbuf.Buffer{}
	// Registered before the store's Close, so it runs after it.
	t.Cleanup(func() {
		for _, secret := range privateText {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("logs contain private text %q:\n%s", secret, logs.String())
			}
		}
	})
	opt := data.Options{
		Limits: limits,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    clock.Now,
	}
	return &env{clock: clock}, opt
}

// privateText appears in comment bodies and emails the subtests write; it
// must never be logged.
var privateText = []string{"secret-body", "private@example"}

// author returns a distinct keyed visitor.
func author(n string) data.Author {
	return data.Author{KeyFingerprint: "SHA256:key-" + n, IP: "192.0.2." + n}
}

func add(t *testing.T, s data.Store, slug, body string, a data.Author) data.Comment {
	t.Helper()
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: slug, Name: "Reader", Body: body, Author: a})
	if err != nil {
		t.Fatalf("AddComment(%q): %v", body, err)
	}
	return c
}

func list(t *testing.T, s data.Store, slug string, opt data.ListOptions) []data.Comment {
	t.Helper()
	cs, err := s.Comments(t.Context(), slug, opt)
	if err != nil {
		t.Fatalf("Comments(%q): %v", slug, err)
	}
	return cs
}

func ids(cs []data.Comment) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func sameComment(a, b data.Comment) bool {
	return a.ID == b.ID && a.PostSlug == b.PostSlug && a.AuthorName == b.AuthorName &&
		a.AuthorKey == b.AuthorKey && a.Body == b.Body && a.CreatedAt.Equal(b.CreatedAt) &&
		a.CreatedAt.Location() == time.UTC && b.CreatedAt.Location() == time.UTC && a.Hidden == b.Hidden &&
		a.ReplyTo == b.ReplyTo && a.EditedAt.Equal(b.EditedAt) && a.Deleted == b.Deleted
}
