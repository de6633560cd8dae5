package data

import (
	"log/slog"
	"time"
)

// Options configure a Store. The zero value is usable: WithDefaults fills in
// what is missing.
type Options struct {
	// Limits are the write rate limits; the zero value means DefaultLimits.
	// A RateLimit whose Count is 0 or less does not limit.
	Limits Limits
	// MaxConns bounds the connection pool (Postgres) or the reader pool
	// (SQLite, which always has one writer); 0 means 10.
	MaxConns int32
	// Logger receives operational logs. They never contain emails or
	// comment bodies. nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock, so tests can move time; nil means time.Now.
	Now func() time.Time
	// PendingExpiry is how long a confirmation code and link stay valid;
	// 0 means DefaultPendingExpiry.
	PendingExpiry time.Duration
	// ConfirmMailWindow: at most one confirmation mail per address this
	// often, whoever asks; 0 means DefaultConfirmMailWindow.
	ConfirmMailWindow time.Duration
	// EditWindow is how long after posting its author may edit a
	// comment; 0 means DefaultEditWindow.
	EditWindow time.Duration
}

// DefaultEditWindow is how long a comment stays editable.
const DefaultEditWindow = 10 * time.Minute

// WithDefaults returns o with every unset field filled in.
func (o Options) WithDefaults() Options {
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits()
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PendingExpiry <= 0 {
		o.PendingExpiry = DefaultPendingExpiry
	}
	if o.EditWindow <= 0 {
		o.EditWindow = DefaultEditWindow
	}
	if o.ConfirmMailWindow <= 0 {
		o.ConfirmMailWindow = DefaultConfirmMailWindow
	}
	return o
}

// Page sizes for ListOptions.Limit.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageSize turns a requested limit into the one used: 0 or less means
// DefaultPageSize, and no page is larger than MaxPageSize.
func PageSize(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}
