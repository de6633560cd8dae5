package abuse

import (
	"context"

	"blog/internal/termclient"
)

// HostileNames are display names that impersonate or look blank (finding
// 13): a reserved name, names of only Hangul fillers, and "admin" hidden
// behind a soft hyphen, tag characters, a Mongolian vowel separator and an
// invisible operator.
var HostileNames = []string{
	"admin",
	"Admin",
	"\u3164\u3164\u3164",
	"\u115f",
	"\uffa0\uffa0",
	"ad\u00admin",
	"admin\U000E0001\U000E0041",
	"ad\u180emin",
	"ad\u2061min",
}

// NameResult is the server's answer to a comment under a hostile name.
type NameResult struct {
	Name   string
	Code   int    // exit status of the comment command
	Stderr string // the server's message
}

// TryNames comments once under each hostile name, each with a fresh key
// (so the per-key rate limit is not what refuses them).
func TryNames(ctx context.Context, t Target) ([]NameResult, error) {
	var out []NameResult
	for _, name := range HostileNames {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		key, err := termclient.NewSigner()
		if err != nil {
			return out, err
		}
		code, stderr, err := Comment(t, key, name, "Hello from a hostile name.")
		if err != nil {
			return out, err
		}
		out = append(out, NameResult{Name: name, Code: code, Stderr: stderr})
	}
	return out, nil
}
