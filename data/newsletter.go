package data

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Subscription states, as stored and as `blog subscribers export` shows them.
const (
	// StatusPending: asked for, not yet confirmed from the mailbox. Gets no posts.
	StatusPending = "pending"
	// StatusConfirmed: the owner of the mailbox confirmed. Gets every new post.
	StatusConfirmed = "confirmed"
	// StatusUnsubscribed: left the list. Gets nothing until it subscribes
	// (and confirms) again.
	StatusUnsubscribed = "unsubscribed"
	// StatusBouncing: the mail server refused it BounceAfter times in a row.
	StatusBouncing = "bouncing"
)

// BounceAfter is how many permanent (5xx) refusals in a row mark an address
// bouncing, so that a dead mailbox stops costing the blog its reputation.
const BounceAfter = 3

// Defaults for the Options fields of the sign-up.
const (
	DefaultPendingExpiry     = 48 * time.Hour
	DefaultConfirmMailWindow = 15 * time.Minute
)

// Confirmation is what a confirmation mail must carry: the short code to
// type over SSH and the token of the link. The store keeps only their
// hashes. Email is empty when no mail is due (the address is already
// confirmed, or a confirmation mail went out within the window).
type Confirmation struct {
	Email   string
	Code    string
	Token   string
	Expires time.Time
}

// Due reports whether a confirmation mail should be sent.
func (c Confirmation) Due() bool { return c.Email != "" }

// NewsletterPost is a post as the newsletter records it when it is first
// published: the mail is built from this copy, so every replica sends the
// same text even if its posts directory differs.
type NewsletterPost struct {
	Slug  string
	Title string
	Body  string // Markdown
	Date  time.Time
}

// Delivery is one claimed mail: a post for one subscriber. ID is stable for
// the (post, subscriber) pair, so the Message-ID built from it is the same
// on every attempt.
type Delivery struct {
	ID       int64
	Post     NewsletterPost
	Email    string
	Attempts int // including this one
	// Until is when the claim lapses and another replica may take it over.
	Until time.Time
}

// DeliveryResult is how one attempt ended.
type DeliveryResult struct {
	ID   int64
	Sent bool // the server answered 250
	// UnsubscribeToken is the token in the sent mail's unsubscribe link;
	// only its hash is stored.
	UnsubscribeToken string
	// Permanent: the server refused with a 5xx; the delivery is given up
	// and counts towards bouncing.
	Permanent bool
	// RetryAt, for a temporary failure, is when to try again; zero gives up.
	RetryAt time.Time
	// Reason is a short description without addresses ("550 5.1.1").
	Reason string
}

// PostStatus counts one post's deliveries, for `blog newsletter status`.
type PostStatus struct {
	Slug        string
	Title       string
	PublishedAt time.Time
	Baseline    bool // existed before the newsletter started: never mailed
	Queued      int  // waiting or being sent
	Sent        int
	Failed      int // given up: permanent refusal or too many temporary ones
	Cancelled   int // the address left or bounced before its turn
}

// Newsletter is the part of the Store behind the mails: the links they
// carry, the operator's list of addresses, and the delivery of posts.
// Every decision lives in the database so that it holds across replicas.
// Visitors sign up through Subscriptions.
type Newsletter interface {
	// ConfirmToken confirms by the link's token; ErrNotFound if unknown or expired.
	ConfirmToken(ctx context.Context, token string) error
	// UnsubscribeToken unsubscribes the address a sent mail's link names;
	// ErrNotFound if the token is unknown. Doing it twice is fine.
	UnsubscribeToken(ctx context.Context, token string) error
	// ForgetExpired deletes pending sign-ups whose confirmation expired:
	// addresses nobody confirmed are not kept. It returns how many.
	ForgetExpired(ctx context.Context) (int64, error)
	// ImportSubscribers stores addresses the operator vouches for as
	// confirmed (already confirmed ones are left alone). It returns how many
	// changed.
	ImportSubscribers(ctx context.Context, emails []string) (int, error)
	// Subscribers lists every address with its status, oldest first.
	Subscribers(ctx context.Context) ([]Subscriber, error)

	// PublishPosts records posts that readers can now see. The very first
	// call on a database only notes them (they existed before the
	// newsletter started); later, each post not seen before is published
	// once for all replicas and queued for every confirmed subscriber. It
	// returns the slugs it queued.
	PublishPosts(ctx context.Context, visible []NewsletterPost) ([]string, error)
	// QueuePost (operator) records p if needed and queues it for every
	// confirmed subscriber who has not received it, again for those whose
	// delivery failed. It returns how many deliveries it queued.
	QueuePost(ctx context.Context, p NewsletterPost) (int, error)
	// ClaimDeliveries claims up to n due deliveries for this replica,
	// skipping those another replica holds. ratePerSecond > 0 reserves
	// their slots in the global send rate: the i-th delivery may go at
	// start + i/ratePerSecond. A claim lapses lease after its last slot.
	ClaimDeliveries(ctx context.Context, n int, lease time.Duration, ratePerSecond float64) (ds []Delivery, start time.Time, err error)
	// FinishDelivery records how an attempt ended.
	FinishDelivery(ctx context.Context, r DeliveryResult) error
	// NewsletterStatus counts deliveries per published post, newest first.
	NewsletterStatus(ctx context.Context) ([]PostStatus, error)
}

// codeAlphabet leaves out letters and digits people confuse (I, L, O, U, 0, 1).
const codeAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// CodeLen is the length of a confirmation code without its dash: 30^8
// (about 2^39) codes, behind rate limits.
const CodeLen = 8

// MaxTokenLen bounds a token read from a URL; real ones are 43 characters.
const MaxTokenLen = 64

// NewCode returns a random confirmation code, shown as "ABCD-EFGH".
func NewCode() string {
	var b [CodeLen]byte
	var out strings.Builder
	for i := range b {
		if i == CodeLen/2 {
			out.WriteByte('-')
		}
		// Bytes from 240 up are drawn again: 240 is a multiple of 30, so
		// every letter is equally likely.
		for {
			rand.Read(b[i : i+1])
			if b[i] < 240 {
				break
			}
		}
		out.WriteByte(codeAlphabet[int(b[i])%len(codeAlphabet)])
	}
	return out.String()
}

// NormalizeCode turns what a visitor typed into the stored form of a code
// (upper case, no dash or spaces); ok is false if it cannot be one.
func NormalizeCode(s string) (string, bool) {
	if len(s) > 4*CodeLen {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case r < 128 && strings.ContainsRune(codeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != CodeLen {
		return "", false
	}
	return b.String(), true
}

// NewToken returns a random, unguessable URL-safe token (256 bits).
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidToken reports whether s has a token's shape, before any lookup.
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SecretHash is how codes and tokens are stored: a leaked database gives no
// working link or code. The secrets are random, so a plain SHA-256 is enough.
func SecretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// RateSpan is how long n mails take at ratePerSecond (0 when unlimited).
func RateSpan(n int, ratePerSecond float64) time.Duration {
	if ratePerSecond <= 0 {
		return 0
	}
	return time.Duration(float64(n) * float64(time.Second) / ratePerSecond)
}
